"""The `newsmon` command line: the user's door to every capability.

Output for people goes to stdout as text, or as JSON with ``--json``; logs go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from loguru import logger

from crawler.config import Config, load_config
from crawler.errors import NewsmonError
from crawler.heap import tune_collector
from crawler.logsetup import setup_logging

DEFAULT_SEEDS = Path("seeds")
# Command groups that live beside their subsystem; each module has
# ``register(subparsers, common_parser)`` adding sub-commands whose handler takes the parsed args.
COMMAND_MODULES: tuple[str, ...] = (
    "crawler.alerts.commands",
    "crawler.scheduler.commands",
    "crawler.projects_cmd",
    "crawler.sources_cmd",
)


OWN_COMMANDS = ("replay", "extract", "crawl")  # defined here; the others by COMMAND_MODULES


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; for one of this module's own commands (``command``: the first argument),
    without the command groups: importing their modules (SQLAlchemy's ORM, alembic...) would delay a
    crawl's ingest child, started as soon as the crawl has its config and database (~0.4 s)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        help="folder with newsmon.yaml, sources.yaml, rules.yaml (default: config/)",
    )
    common.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (default: from newsmon.yaml)")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser = argparse.ArgumentParser(
        prog="newsmon", description="Monitor Chinese local news for new large investment projects."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", parents=[common], help="crawl the seed articles served as a local portal")
    replay.add_argument(
        "--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of seed .txt articles (default: seeds/)"
    )
    replay.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    replay.set_defaults(handler=cmd_replay)

    extract = sub.add_parser("extract", parents=[common], help="extract title, date, text and projects from a file")
    extract.add_argument("path", nargs="?", help="an HTML or text file, or - for stdin")
    extract.add_argument("--url", help="the URL the page was served at")
    extract.add_argument("--json", action="store_true", help="print one JSON object")
    extract.add_argument(
        "--jsonl",
        action="store_true",
        help='read JSON lines {"id","text"} | {"id","html","url"} | {"id","path","url"} on stdin',
    )
    extract.set_defaults(handler=cmd_extract)

    crawl = sub.add_parser("crawl", parents=[common], help="crawl sources from sources.yaml once, in the foreground")
    crawl.add_argument("sources", nargs="*", help="source names (default: --all)")
    crawl.add_argument("--all", action="store_true", help="every enabled source")
    crawl.add_argument("--json", action="store_true")
    crawl.add_argument("--refetch", action="store_true", help="fetch known articles again, ignore list validators")
    crawl.add_argument("--backfill", type=int, metavar="N", help="follow N list pages, known or not")
    crawl.set_defaults(handler=cmd_crawl)
    if command not in OWN_COMMANDS:
        for module_name in COMMAND_MODULES:
            importlib.import_module(module_name).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tune_collector()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    setup_logging(args.verbose)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except NewsmonError as exc:
        logger.error("{}", exc)
        print(f"newsmon: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def load_cli_config(args: argparse.Namespace) -> Config:
    """The config named by --config and --db: what every command works on."""
    return load_config(args.config, args.db)


def cmd_replay(args: argparse.Namespace) -> int:
    from crawler.replay.run import run_replay
    from crawler.store import open_database

    config = load_cli_config(args)
    if not args.seeds.is_dir():
        raise NewsmonError(f"seeds folder not found: {args.seeds}")
    db = open_database(config.app.database_url)
    try:
        report = run_replay(config, db, args.seeds)
    finally:
        db.close()
    if args.json:
        print_json(report.to_json())
    else:
        _print_replay(report.to_json())
    return 0 if not report.errors else 1


def _print_replay(data: dict[str, Any]) -> None:
    a = data["articles"]
    rows = [
        ("pages fetched", data["pages_fetched"]),
        ("articles fetched", a["fetched"]),
        ("articles new", a["new"]),
        ("articles duplicate", a["duplicate"]),
        ("projects named", len(data["projects"])),
        ("projects with an amount", sum(1 for p in data["projects"] if p["investment_yi"] is not None)),
        ("projects large", sum(1 for p in data["projects"] if p["large"])),
        ("alerts raised", len(data["alerts"])),
        ("alert messages sent", data["delivered"]["sent"]),
    ]
    width = max(len(k) for k, _ in rows)
    print("\nnewsmon replay")
    for key, value in rows:
        print(f"  {key:<{width}}  {value:>5}")
    if data["alerts"]:
        print("\nalerts:")
        for alert in data["alerts"]:
            print(f"  {alert['investment_yi']:>8g} 亿元  {alert['project']}")
    for error in data["errors"]:
        print(f"  error: {error}")


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.extract_cmd import analyse, article_from_bytes, jsonl_results, read_path, render_text

    config = load_cli_config(args)
    if args.jsonl:
        for result in jsonl_results(sys.stdin, config.rules):
            print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    if not args.path:
        raise NewsmonError("extract needs a PATH (or - for stdin), or --jsonl")
    try:
        raw = read_path(args.path)
    except OSError as exc:
        raise NewsmonError(f"cannot read {args.path}: {exc.strerror or exc}") from None
    result = analyse(article_from_bytes(raw, args.url), config.rules, args.path)
    if args.json:
        print_json(result)
    else:
        render_text(result, sys.stdout)
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.ingestlaunch import early_child, ingest_target
    from crawler.store import open_database

    config = load_cli_config(args)
    if args.sources:
        sources = [config.source(name) for name in args.sources]
    elif args.all:
        sources = [s for s in config.sources if s.enabled]
    else:
        raise NewsmonError("name one or more sources, or pass --all")
    if not sources:
        raise NewsmonError(f"no enabled source in {config.folder / 'sources.yaml'}")
    db = open_database(config.app.database_url)
    try:
        # Before the imports below: when many articles are expected, the child starts beside them.
        target = ingest_target(db, config.rules)
        child = early_child(target, db, [s.name for s in sources], args.refetch, args.backfill)
        from crawler.alerts.dispatch import dispatch_pending
        from crawler.crawl import run_crawl
        from crawler.fetch import CrawlOptions

        options = CrawlOptions(args.refetch, args.backfill)
        tallies = run_crawl(config, db, sources, options=options, child=child)
        delivered = dispatch_pending(db, config.app.notifiers)
    finally:
        db.close()
    result = [{**t.__dict__} for t in tallies]
    if args.json:
        print_json({"runs": result, "delivered": delivered.__dict__})
    else:
        for t in tallies:
            print(
                f"{t.source}: {t.pages_fetched} pages, {t.articles_new} new, {t.articles_duplicate} duplicate, "
                f"{t.projects_new} new projects, {t.alerts_created} alerts, {len(t.errors)} errors"
            )
    return 0 if all(not t.errors for t in tallies) else 1


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
