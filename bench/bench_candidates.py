"""Compare the candidate read (``crawler.projects.candidates._indexed``) with the one it replaced: the
union of ids joined to ``projects`` for each candidate's name key in SQL, every mention.

    .venv/bin/python bench/bench_candidates.py                    # 2,000 articles, 3 runs each, SQLite
    .venv/bin/python bench/bench_candidates.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The articles and runs are ``bench_ingest``'s (same records, fresh database each run, old and new
alternating); reported: ms per article (wall, CPU) and CPU ms per article inside ``likely_projects``,
medians and new / old. Every row of the written tables must be the same both ways, else it fails.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

import bench_ingest  # noqa: E402

from crawler.projects import candidates, identity  # noqa: E402
from crawler.store.db import driver_rows, paramstyle_mark  # noqa: E402
from crawler.store.projectkeys import COMPANY_GRAM  # noqa: E402


@lru_cache(maxsize=16)
def old_likely_sql(mark: str, grams: int, firm: bool) -> str:
    """The previous driver query: the union's ids joined to ``projects`` for their name keys."""
    percent = "%%" if mark == "%s" else "%"
    limit = f"ORDER BY 1 DESC LIMIT {candidates.CANDIDATE_LIMIT}"
    ids = [
        f"SELECT id FROM projects WHERE name_key = {mark} {limit}",
        *(f"SELECT project_id FROM project_keys WHERE key = {mark} {limit}" for _ in range(grams)),
    ]
    if firm:
        ids.append(
            "SELECT k.project_id FROM project_keys k JOIN projects p ON p.id = k.project_id "
            f"WHERE k.key = {mark} AND p.company LIKE '{percent}' || {mark} || '{percent}' {limit}"
        )
    union = " UNION ".join(f"SELECT * FROM ({query}) AS s{n}" for n, query in enumerate(ids))
    return f"SELECT id, name_key FROM projects WHERE id IN ({union}) ORDER BY id DESC {limit[16:]}"


def old_indexed(session: Session, key: str, grams: list[str], firm: str | None) -> list[Sequence[Any]]:
    connection = session.connection()
    params = [key, *grams]
    if firm:
        params += [f"c{firm[:COMPANY_GRAM].lower()}", firm]
    mark = paramstyle_mark(connection)
    assert mark is not None
    return list(driver_rows(connection, old_likely_sql(mark, len(grams), firm is not None), params))


def main(argv: list[str] | None = None) -> int:
    args, settings = bench_ingest.setup(__doc__.splitlines()[0], argv)
    pages = bench_ingest.records(args.mirror, args.n, settings)
    new_indexed, likely = candidates._indexed, candidates.likely_projects
    spent = [0.0]

    def timed(*call: Any) -> list[candidates.Candidate]:
        began = time.process_time()
        try:
            return likely(*call)
        finally:
            spent[0] += time.process_time() - began

    identity.likely_projects = timed  # type: ignore[assignment]
    variants: dict[str, Callable[..., list[Sequence[Any]]]] = {"old": old_indexed, "new": new_indexed}
    figures: dict[str, dict[str, list[float]]] = {v: {"wall": [], "CPU": [], "likely CPU": []} for v in variants}
    written: dict[str, dict[str, Any]] = {}
    print(f"{len(pages)} articles, {'PostgreSQL' if args.postgres else 'SQLite'}, {args.rounds} runs each")
    with tempfile.TemporaryDirectory(prefix="bench_candidates_") as tmp:
        for n in range(args.rounds):
            for variant, indexed in variants.items():
                candidates._indexed = indexed  # type: ignore[assignment]
                spent[0] = 0.0
                with bench_ingest.fresh_url(args.postgres, Path(tmp)) as url:
                    elapsed, cpu, written[variant] = bench_ingest.run(url, pages, settings, old=False)
                for label, value in (("wall", elapsed), ("CPU", cpu), ("likely CPU", spent[0])):
                    figures[variant][label].append(1000 * value / len(pages))
                print(f"  run {n + 1} {variant}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in figures[variant].items()))
    if written["old"] != written["new"]:
        print("FAILED: the two candidate reads wrote different rows")
        return 1
    print("rows: " + ", ".join(f"{t} {len(rows)}" for t, rows in written["new"].items()) + " (the same both ways)")
    for label in ("wall", "CPU", "likely CPU"):
        old, new = (statistics.median(figures[v][label]) for v in variants)
        print(f"median {label} ms/article: old {old:.3f}, new {new:.3f}; new/old {new / old:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
