"""Benchmark the ingest write path: N extracted articles stored through ``GroupWriter`` on a fresh database,
with every statement through SQLAlchemy's ``Connection.execute`` ("old") and on the driver's cursor
(``crawler.store.driver``, "new"); or (``--against DIR``) this tree's code against another tree's.

    .venv/bin/python bench/bench_ingest.py                        # 2,000 articles, 3 runs each, SQLite
    .venv/bin/python bench/bench_ingest.py -n 500 --rounds 5
    .venv/bin/python bench/bench_ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/bench_ingest.py --against /tmp/base     # a copy of crawler/ and config/ from before

With ``--against``, every run is a process of its own (this tree's, then the other's, alternating),
importing ``crawler`` from its tree (``NEWSMON_BENCH_TREE``); the records are made once, by this tree.

The articles are the article pages of a bench mirror (``bench/mirror.py generate``; made if missing),
taken in turn from each portal as a crawl interleaves its sources, turned into ``PageRecord`` with
the repository's rules (``crawler.ingest.page_record``, untimed), ingested with the settings
``run_crawl`` uses (config/). Runs alternate old, new, old, new ...; each has its own fresh database
(migrations untimed). Reported: ms per article of each run (wall, and this process's CPU), the
median of each variant, and new / old. The two variants' last databases must hold the same rows, else the script fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
TREE = Path(os.environ.get("NEWSMON_BENCH_TREE", ROOT))  # whose ``crawler`` and config/ a run uses
sys.path[:0] = [str(TREE), str(ROOT), str(ROOT / "bench")]

import mirror  # noqa: E402

from crawler.config import load_config  # noqa: E402
from crawler.groupwrite import GroupWriter  # noqa: E402
from crawler.ingest import IngestSettings, PageRecord, page_record  # noqa: E402

try:
    from crawler.models import FetchedPage
except ImportError:  # a tree from before FetchedPage moved to crawler.models (--against an old commit)
    from crawler.fetch import FetchedPage  # type: ignore[attr-defined,no-redef]
from crawler.store import open_database  # noqa: E402
from crawler.store.driver import SQLALCHEMY_ONLY  # noqa: E402
from crawler.store.schema import Base  # noqa: E402
from tests.conftest import fresh_postgres_schema  # noqa: E402

TABLES = ("articles", "neardup_bands", "projects", "project_keys", "project_mentions", "alerts")


def records(folder: Path, count: int, settings: IngestSettings) -> list[PageRecord]:
    """The mirror's first ``count`` article pages, one portal after another in turn, as records."""
    if not (folder / "index.json").exists():
        mirror.generate(folder, portals=8, articles=250)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    regions = {p["host"]: p["region"] for p in manifest["portals"]}
    by_host: dict[str, list[tuple[str, bytes, str]]] = {}
    for url, body, content_type in sorted(mirror.article_pages(folder)):
        by_host.setdefault(url.split("/")[2], []).append((url, body, content_type))
    queues = [iter(pages) for pages in by_host.values()]
    start, out = datetime(2024, 3, 1, 8), []
    while queues and len(out) < count:
        for queue in list(queues):
            page = next(queue, None)
            if page is None:
                queues.remove(queue)
                continue
            url, body, content_type = page
            host = url.split("/")[2]
            fetched = FetchedPage(url, body, content_type, host, regions[host], start + timedelta(seconds=len(out)))
            out.append(page_record(fetched, settings.rules))
    return out[:count]


@contextmanager
def fresh_url(postgres: str | None, workdir: Path) -> Iterator[str]:
    """A new SQLite file, or a new schema of the PostgreSQL database (dropped afterwards)."""
    if postgres is None:
        yield f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}"
        return
    yield from fresh_postgres_schema(postgres)


def run(url: str, pages: list[PageRecord], settings: IngestSettings, old: bool) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds (this process) to ingest ``pages`` in groups, and every row of the written tables."""
    db = open_database(url)
    if old:
        db.engine.update_execution_options(**{SQLALCHEMY_ONLY: True})
    writer = GroupWriter(db)
    gc.collect()
    began, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        writer.ingest(page, settings)
    writer.commit()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    with db.engine.connect() as conn:
        rows = {
            t: [tuple(r) for r in conn.execute(Base.metadata.tables[t].select().order_by(text("1, 2")))] for t in TABLES
        }
    db.close()
    return elapsed, cpu, rows


def setup(description: str, argv: list[str] | None) -> tuple[argparse.Namespace, IngestSettings]:
    """The ingest benches' arguments, logging and settings (bench_candidates.py shares them)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-n", type=int, default=2000, help="articles a run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each variant")
    parser.add_argument("--mirror", type=Path, default=Path("/tmp/helper_mirror"))
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: SQLite files)")
    parser.add_argument("--against", type=Path, help="another tree (holding crawler/ and config/) to compare with")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "RECORDS", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logger.remove()  # the INFO lines of every project would cost both variants alike, and flood the output
    logger.add(sys.stderr, level="WARNING")
    config = load_config(TREE / "config")
    channels = tuple(n.name for n in config.app.notifiers)
    return args, IngestSettings(config.rules, config.app.alert_rules, channels, config.app.matching)


def main(argv: list[str] | None = None) -> int:
    args, settings = setup(__doc__.splitlines()[0], argv)
    if args.worker:
        return worker(*args.worker, settings)
    pages = records(args.mirror, args.n, settings)
    print(f"{len(pages)} articles, {'PostgreSQL' if args.postgres else 'SQLite'}, {args.rounds} runs each")
    if args.against:
        return against(args, pages)
    times: dict[str, list[float]] = {"old": [], "new": []}
    cpus: dict[str, list[float]] = {"old": [], "new": []}
    written: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        for n in range(args.rounds):
            for variant in ("old", "new"):
                with fresh_url(args.postgres, Path(tmp)) as url:
                    elapsed, cpu, written[variant] = run(url, pages, settings, old=variant == "old")
                times[variant].append(1000 * elapsed / len(pages))
                cpus[variant].append(1000 * cpu / len(pages))
                print(f"  run {n + 1} {variant}: {times[variant][-1]:.3f} ms/article ({cpus[variant][-1]:.3f} CPU)")
    return report(times, cpus, written)


def report(times: dict[str, list[float]], cpus: dict[str, list[float]], written: dict[str, dict[str, Any]]) -> int:
    """Fail if the two variants' last runs wrote different rows; else print the medians."""
    old_name, new_name = times
    if written[old_name] != written[new_name]:
        print("FAILED: the two variants wrote different rows")
        return 1
    counts = ", ".join(f"{t} {len(rows)}" for t, rows in written[new_name].items())
    print(f"rows: {counts} (the same both ways)")
    for label, figures in (("wall", times), ("CPU", cpus)):
        old, new = statistics.median(figures[old_name]), statistics.median(figures[new_name])
        ratio = f"{new_name}/{old_name} {new / old:.3f}"
        print(f"median {label} ms/article: {old_name} {old:.3f}, {new_name} {new:.3f}; {ratio}")
    return 0


def against(args: argparse.Namespace, pages: list[PageRecord]) -> int:
    """This tree's runs against another tree's, each a process of its own, alternating."""
    trees = {"other": args.against.resolve(), "this": ROOT}
    times: dict[str, list[float]] = {name: [] for name in trees}
    cpus: dict[str, list[float]] = {name: [] for name in trees}
    written: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        saved, dump = Path(tmp) / "records.pickle", Path(tmp) / "rows.pickle"
        saved.write_bytes(pickle.dumps(pages))
        for n in range(args.rounds):
            for name, tree in trees.items():
                with fresh_url(args.postgres, Path(tmp)) as url:
                    command = [sys.executable, __file__, "--worker", url, str(saved), str(dump)]
                    env = {**os.environ, "NEWSMON_BENCH_TREE": str(tree)}
                    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                    elapsed, cpu = json.loads(done.stdout.splitlines()[-1])
                    written[name] = pickle.loads(dump.read_bytes())
                times[name].append(1000 * elapsed / len(pages))
                cpus[name].append(1000 * cpu / len(pages))
                print(f"  run {n + 1} {name}: {times[name][-1]:.3f} ms/article ({cpus[name][-1]:.3f} CPU)")
    return report(times, cpus, written)


def worker(url: str, saved: str, dump: str, settings: IngestSettings) -> int:
    """One run of ``against``: ingest the saved records into ``url``; print [wall s, CPU s]; save the rows."""
    import crawler

    assert Path(crawler.__file__).resolve().is_relative_to(TREE.resolve()), crawler.__file__
    pages = pickle.loads(Path(saved).read_bytes())
    elapsed, cpu, rows = run(url, pages, settings, old=False)
    Path(dump).write_bytes(pickle.dumps(rows))
    print(json.dumps([elapsed, cpu]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
