"""Compare ingestion holding what it read and wrote of projects between mentions and transactions
(``crawler.projects.known``: candidate lookups and the sets they read, project rows, stored alerts;
``crawler.dedup.neardup.StoredShingles``) with the plain reads it replaced: every lookup, row, alert
and stored text's shingles read or computed again (as the rows test does, tests/test_store_speed_rows.py).

    .venv/bin/python bench/bench_candidates.py                    # 2,000 articles, 3 runs each, SQLite
    .venv/bin/python bench/bench_candidates.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The articles and runs are ``bench_ingest``'s (same records, fresh database each run, old and new
alternating); reported: ms per article (wall, CPU) and CPU ms per article inside ``KnownProjects.likely``
(a mention's candidates), medians and new / old. Every row of the written tables must be the same both
ways, else it fails.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import bench_ingest  # noqa: E402

from crawler.dedup import neardup  # noqa: E402
from crawler.dedup.minhash import shingles  # noqa: E402
from crawler.projects.candidates import candidate_rows, close_among  # noqa: E402
from crawler.projects.known import KnownProjects  # noqa: E402
from crawler.projects.lookups import HeldLookups  # noqa: E402


@contextmanager
def plain() -> Iterator[None]:
    """Nothing held: each lookup read and scored, each row and alert read, each shingle set computed."""
    saved = {(owner, name): getattr(owner, name) for owner, name in PATCHED}

    def close(self: HeldLookups, connection: Any, names: Any, held: tuple[str, str | None, float]) -> list[int]:
        key, firm, floor = held
        ids, found, _ = candidate_rows(connection, names, key, firm)
        return close_among(key, ids, found, floor)

    def forgetting(name: str) -> Any:
        def call(self: KnownProjects, *args: Any) -> Any:
            self.forget()
            return saved[KnownProjects, name](self, *args)

        return call

    HeldLookups.close = close  # type: ignore[method-assign]
    for name in ("likely", "state", "queued"):
        setattr(KnownProjects, name, forgetting(name))
    neardup.StoredShingles.shingles = lambda self, article_id, text: shingles(text)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for (owner, name), value in saved.items():
            setattr(owner, name, value)


PATCHED = [
    (HeldLookups, "close"),
    (KnownProjects, "likely"),
    (KnownProjects, "state"),
    (KnownProjects, "queued"),
    (neardup.StoredShingles, "shingles"),
]


def main(argv: list[str] | None = None) -> int:
    args, settings = bench_ingest.setup(__doc__.splitlines()[0], argv)
    pages = bench_ingest.records(args.mirror, args.n, settings)
    spent = [0.0]
    likely = KnownProjects.likely

    def timed(self: KnownProjects, *call: Any) -> Any:
        began = time.process_time()
        try:
            return likely(self, *call)
        finally:
            spent[0] += time.process_time() - began

    figures: dict[str, dict[str, list[float]]] = {v: {"wall": [], "CPU": [], "likely CPU": []} for v in ("old", "new")}
    written: dict[str, dict[str, Any]] = {}
    print(f"{len(pages)} articles, {'PostgreSQL' if args.postgres else 'SQLite'}, {args.rounds} runs each")
    with tempfile.TemporaryDirectory(prefix="bench_candidates_") as tmp:
        for n in range(args.rounds):
            for variant in ("old", "new"):
                spent[0] = 0.0
                KnownProjects.likely = timed  # type: ignore[method-assign]
                held = plain() if variant == "old" else nullcontext()
                with held, bench_ingest.fresh_url(args.postgres, Path(tmp)) as url:
                    elapsed, cpu, written[variant] = bench_ingest.run(url, pages, settings, old=False)
                KnownProjects.likely = likely  # type: ignore[method-assign]
                for label, value in (("wall", elapsed), ("CPU", cpu), ("likely CPU", spent[0])):
                    figures[variant][label].append(1000 * value / len(pages))
                print(f"  run {n + 1} {variant}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in figures[variant].items()))
    if written["old"] != written["new"]:
        print("FAILED: held and plain reads wrote different rows")
        return 1
    print("rows: " + ", ".join(f"{t} {len(rows)}" for t, rows in written["new"].items()) + " (the same both ways)")
    for label in ("wall", "CPU", "likely CPU"):
        old, new = (statistics.median(figures[v][label]) for v in ("old", "new"))
        print(f"median {label} ms/article: old {old:.3f}, new {new:.3f}; new/old {new / old:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
