"""The crawl child: ``python -m crawler.scheduler.child SOURCE --config DIR``.

The daemon hands the database URL over in ``$NEWSMON_DATABASE_URL`` (``--db`` also works).

The daemon runs every crawl in a child process of its own (see ``crawler.scheduler.runner``). This
is ``newsmon crawl SOURCE --json`` without the outbox flush at the end: in the daemon only the
dispatcher job sends alerts, so two processes never race to send the same pending alert row.

Prints one JSON object (the run's tally) on stdout. Exit status: 0 the run is ok, 1 it recorded
errors, 2 config or database error; anything else is a crash the daemon records itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from loguru import logger

from crawler.errors import NewsmonError
from crawler.logsetup import setup_logging


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsmon-crawl-child")
    parser.add_argument("source")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--db")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return _crawl(args.source, args.config, args.db)
    except NewsmonError as exc:
        logger.error("{}", exc)
        return 2


def _crawl(source_name: str, folder: Path, database_url: str | None) -> int:
    from crawler.config import load_config
    from crawler.crawl import run_crawl
    from crawler.store import open_database

    config = load_config(folder, database_url)
    source = config.source(source_name)
    db = open_database(config.app.database_url)
    try:
        tallies = run_crawl(config, db, [source])
    finally:
        db.close()
    print(json.dumps([t.__dict__ for t in tallies], ensure_ascii=False, default=str), flush=True)
    return 0 if all(not t.errors for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
