"""`newsmon alerts ...`: look at the outbox, try a channel, retry what failed, send a digest."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from crawler.errors import NewsmonError

STATUSES = ("pending", "sent", "failed")


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    alerts = subparsers.add_parser("alerts", help="the alert outbox: list, test a channel, retry, digest")
    sub = alerts.add_subparsers(dest="alerts_command", required=True)

    listing = sub.add_parser(
        "list", parents=[common], help="alerts in the outbox, newest first (new projects and source health)"
    )
    listing.add_argument("--status", choices=STATUSES, help="only alerts with this status")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(handler=cmd_list)

    test = sub.add_parser("test", parents=[common], help="send a sample alert through one channel, now")
    test.add_argument("channel", help="a sink name from newsmon.yaml (alerts.sinks[].name, default its kind)")
    test.add_argument("--json", action="store_true")
    test.set_defaults(handler=cmd_test)

    retry = sub.add_parser("retry", parents=[common], help="make failed alerts pending again and send them")
    retry.add_argument("--channel", help="only this channel's failed alerts")
    retry.add_argument("--json", action="store_true")
    retry.set_defaults(handler=cmd_retry)

    digest = sub.add_parser("digest", parents=[common], help="send (or print) the daily digest of new projects")
    digest.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: yesterday)")
    digest.add_argument("--channel", action="append", help="an e-mail sink (default: those with digest:)")
    digest.add_argument("--print", action="store_true", help="print the digest instead of sending it")
    digest.add_argument("--json", action="store_true")
    digest.set_defaults(handler=cmd_digest)


def cmd_list(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config, print_json
    from crawler.store import open_database

    config = load_cli_config(args)
    db = open_database(config.app.database_url)
    try:
        rows = list_alerts(db, args.status, args.limit)
    finally:
        db.close()
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no alerts" + (f" with status {args.status}" if args.status else ""))
    for row in rows:
        when = row["sent_at"] or row["next_attempt_at"] or row["created_at"]
        head = f"#{row['id']:<5} {row['status']:<8} {row['channel']:<12} {row['attempts']:>2} tries"
        what = row["project"] if row["kind"] == "project" else f"[{row['rule']}] {row['source']}"
        print(f"{head}  {when}  {what}")
        if row["last_error"] and row["status"] != "sent":
            print(f"       {row['last_error'][:200]}")
    return 0


def list_alerts(db: Any, status: str | None, limit: int) -> list[dict[str, Any]]:
    from crawler.store.schema import AlertAttemptRow, AlertRow, ProjectRow

    interrupted = (
        select(AlertAttemptRow.alert_id, func.count().label("n"))
        .where(AlertAttemptRow.finished_at.is_(None))
        .group_by(AlertAttemptRow.alert_id)
        .subquery()
    )
    query = (
        select(AlertRow, ProjectRow.name, ProjectRow.investment_yi, interrupted.c.n)
        .outerjoin(ProjectRow, AlertRow.project_id == ProjectRow.id)
        .outerjoin(interrupted, interrupted.c.alert_id == AlertRow.id)
        .order_by(AlertRow.id.desc())
        .limit(max(1, limit))
    )
    if status:
        query = query.where(AlertRow.status == status)
    with db.session() as session:
        return [
            {
                "id": alert.id,
                "kind": alert.kind,  # project | source_health
                "project": name,
                "source": alert.source_name,
                "investment_yi": float(amount) if amount is not None else None,
                "rule": alert.rule,
                "channel": alert.channel,
                "status": alert.status,
                "attempts": alert.attempts,
                "unfinished_attempts": int(unfinished or 0),
                "last_error": alert.last_error,
                "idempotency_key": alert.idempotency_key,
                "created_at": alert.created_at,
                "next_attempt_at": alert.next_attempt_at,
                "sent_at": alert.sent_at,
            }
            for alert, name, amount, unfinished in session.execute(query).all()
        ]


def cmd_test(args: argparse.Namespace) -> int:
    from crawler.alerts.message import sample_message
    from crawler.cli import load_cli_config, print_json

    config = load_cli_config(args)
    by_name = {n.name: n for n in config.app.notifiers}
    notifier = by_name.get(args.channel)
    if notifier is None:
        known = ", ".join(by_name) or "none"
        where = config.folder / "newsmon.yaml"
        raise NewsmonError(f"no alert channel named {args.channel!r} in {where} (known: {known})")
    message = sample_message()
    try:
        notifier.send(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if args.json:
            print_json({"channel": notifier.name, "target": notifier.describe(), "ok": False, "error": error})
        else:
            print(f"{notifier.name}: FAILED sending to {notifier.describe()}: {error}")
        return 1
    if args.json:
        print_json({"channel": notifier.name, "target": notifier.describe(), "ok": True, "error": None})
    else:
        print(f"{notifier.name}: sample alert sent to {notifier.describe()}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from crawler.alerts.dispatch import dispatch_pending, retry_failed
    from crawler.cli import load_cli_config, print_json
    from crawler.store import open_database

    config = load_cli_config(args)
    db = open_database(config.app.database_url)
    try:
        now = datetime.now()
        reset = retry_failed(db, now, args.channel)
        stats = dispatch_pending(db, config.app.notifiers, now)
    finally:
        db.close()
    result = {"requeued": reset, "delivered": stats.__dict__}
    if args.json:
        print_json(result)
    else:
        print(
            f"{reset} failed alerts pending again; sent {stats.sent}, retrying {stats.retrying}, "
            f"failed {stats.failed}, waiting {stats.deferred}"
        )
    return 0 if not (stats.retrying or stats.failed) else 1


def cmd_digest(args: argparse.Namespace) -> int:
    from crawler.alerts.digest import build_digest, send_daily_digest
    from crawler.cli import load_cli_config, print_json
    from crawler.store import open_database

    config = load_cli_config(args)
    day = args.day or date.today() - timedelta(days=1)
    db = open_database(config.app.database_url)
    try:
        if args.print:
            with db.session() as session:
                digest = build_digest(session, day)
            print(f"{digest.subject()}\n\n{digest.text()}")
            return 0
        channels = tuple(args.channel) if args.channel else None
        outcomes = send_daily_digest(db, config, day, channels)
    finally:
        db.close()
    if not outcomes:
        raise NewsmonError("no e-mail sink has digest: set in newsmon.yaml (or pass --channel NAME)")
    if args.json:
        print_json([o.__dict__ for o in outcomes])
    else:
        for o in outcomes:
            print(f"{o.channel}: {o.status} ({o.projects} projects)" + (f": {o.error}" if o.error else ""))
    return 0 if all(o.status != "failed" for o in outcomes) else 1
