"""`newsmon run` (the scheduler daemon) and `newsmon status` (what it has done and will do)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    run = subparsers.add_parser(
        "run",
        parents=[common],
        help="run the scheduler: crawl each enabled source on its schedule, send alerts (stop: SIGTERM or Ctrl-C)",
        description="Crawl every enabled source of sources.yaml on its `schedule:` (default: schedule."
        "default_interval_minutes of newsmon.yaml), each crawl in a child process, and send pending alerts. "
        "The schedule lives in the database, so a restart resumes it. Logs go to stderr and data_dir/newsmon.log.",
    )
    run.set_defaults(handler=cmd_run)
    status = subparsers.add_parser(
        "status",
        parents=[common],
        help="per source: last run and its result, next run, error streak, last error",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=cmd_status)


def cmd_run(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config
    from crawler.scheduler.daemon import run_daemon

    return run_daemon(load_cli_config(args), args.verbose)


def cmd_status(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config, print_json
    from crawler.scheduler.pidfile import running_daemon
    from crawler.scheduler.status import collect_status, render_text, report_json
    from crawler.store import open_database

    config = load_cli_config(args)
    db = open_database(config.app.database_url)
    try:
        report = collect_status(config, db, running_daemon(config.app.data_dir))
    finally:
        db.close()
    if args.json:
        print_json(report_json(report))
    else:
        print(render_text(report))
    return 0
