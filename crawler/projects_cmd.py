"""`newsmon projects`: the projects found so far, and one project's history; `newsmon dedup reindex`.

newsmon projects [--min-yi N] [--since DATE] [--format table|csv|json]
newsmon projects show ID [--format table|json]
newsmon dedup reindex
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crawler.errors import NewsmonError
from crawler.models import Stage
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, ProjectRow


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    projects = subparsers.add_parser(
        "projects", parents=[common], help="list the projects found, or show one project's history"
    )
    projects.add_argument("action", nargs="?", choices=["show"], help="show: one project's history")
    projects.add_argument("project_id", nargs="?", type=int, metavar="ID", help="the project to show")
    projects.add_argument("--min-yi", type=_decimal, metavar="N", help="only projects of at least N 亿元")
    projects.add_argument("--since", type=_date, metavar="DATE", help="only projects first seen on or after DATE")
    projects.add_argument("--format", choices=["table", "csv", "json"], default="table")
    projects.set_defaults(handler=cmd_projects)
    dedup = subparsers.add_parser("dedup", parents=[common], help="maintain the near-duplicate index")
    dedup.add_argument("action", choices=["reindex"], help="reindex: rebuild it from the stored articles")
    dedup.set_defaults(handler=cmd_dedup)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_projects(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config
    from crawler.store import open_database

    if args.action == "show" and args.project_id is None:
        raise NewsmonError("projects show needs a project ID (see `newsmon projects`)")
    if args.action == "show" and args.format == "csv":
        raise NewsmonError("projects show prints a table or JSON (--format table|json)")
    if args.action is None and args.project_id is not None:
        raise NewsmonError(f"unexpected {args.project_id}: did you mean `newsmon projects show {args.project_id}`?")
    db = open_database(load_cli_config(args).app.database_url)
    try:
        with db.session() as session:
            if args.action == "show":
                data = project_history(session, args.project_id)
                _emit_history(data, args.format)
            else:
                rows = list_projects(session, args.min_yi, args.since)
                _emit_list(rows, args.format)
    finally:
        db.close()
    return 0


def cmd_dedup(args: argparse.Namespace) -> int:
    from crawler.cli import load_cli_config
    from crawler.dedup.neardup import reindex
    from crawler.store import open_database

    db = open_database(load_cli_config(args).app.database_url)
    try:
        with db.transaction() as session:
            done = reindex(session)
    finally:
        db.close()
    print(f"near-duplicate index rebuilt: {done} articles")
    return 0


def _article(article: ArticleRow, reprints: int) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "title": article.title,
        "url": article.url,
        "published": article.published_or_seen.isoformat(),
        "reprints": reprints,
    }


def _reprint_counts(session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    if not article_ids:
        return {}
    query = (
        select(ArticleRow.duplicate_of, func.count())
        .where(ArticleRow.duplicate_of.in_(article_ids))
        .group_by(ArticleRow.duplicate_of)
    )
    return {int(orig): int(n) for orig, n in session.execute(query) if orig is not None}


def _project(project: ProjectRow) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "investment_yi": float(project.investment_yi) if project.investment_yi is not None else None,
        "amount_text": project.amount_text,
        "approximate": project.approximate,
        "stage": project.stage,
        "company": project.company,
        "region": project.region,
        "first_seen": project.first_seen.isoformat(timespec="seconds"),
        "last_seen": project.last_seen.isoformat(timespec="seconds"),
    }


def list_projects(session: Session, min_yi: Decimal | None = None, since: date | None = None) -> list[dict[str, Any]]:
    """Projects, newest first, each with its mention count and the articles that name it."""
    query = select(ProjectRow).order_by(ProjectRow.first_seen.desc(), ProjectRow.id.desc())
    if min_yi is not None:
        query = query.where(ProjectRow.investment_yi >= min_yi)
    if since is not None:
        query = query.where(ProjectRow.first_seen >= datetime.combine(since, datetime.min.time()))
    projects = list(session.scalars(query).all())
    ids = [p.id for p in projects]
    mentions: dict[int, list[ArticleRow]] = defaultdict(list)
    if ids:
        pairs = session.execute(
            select(MentionRow.project_id, ArticleRow)
            .join(ArticleRow, MentionRow.article_id == ArticleRow.id)
            .where(MentionRow.project_id.in_(ids))
            .order_by(ArticleRow.published_or_seen, MentionRow.id)
        )
        for project_id, article in pairs:
            mentions[project_id].append(article)
    reprints = _reprint_counts(session, [a.id for arts in mentions.values() for a in arts])
    result = []
    for p in projects:
        articles = list({a.id: a for a in mentions[p.id]}.values())
        result.append(
            {
                **_project(p),
                "mentions": len(mentions[p.id]),
                "articles": [_article(a, reprints.get(a.id, 0)) for a in articles],
            }
        )
    return result


def project_history(session: Session, project_id: int) -> dict[str, Any]:
    """One project with its mentions in time order (stage, amount, article) and its alerts."""
    project = session.get(ProjectRow, project_id)
    if project is None:
        raise NewsmonError(f"no project #{project_id} (see `newsmon projects`)")
    rows = session.execute(
        select(MentionRow, ArticleRow)
        .join(ArticleRow, MentionRow.article_id == ArticleRow.id)
        .where(MentionRow.project_id == project_id)
        .order_by(ArticleRow.published_or_seen, MentionRow.created_at, MentionRow.id)
    )
    history, reached = [], Stage.UNKNOWN
    pairs = list(rows)
    reprints = _reprint_counts(session, [a.id for _, a in pairs])
    for mention, article in pairs:
        stage = Stage(mention.stage)
        advanced = stage.rank > reached.rank
        reached = stage if advanced else reached
        history.append(
            {
                "name": mention.name,
                "stage": mention.stage,
                "stage_advanced": advanced,
                "investment_yi": float(mention.investment_yi) if mention.investment_yi is not None else None,
                "amount_text": mention.amount_text,
                "evidence": mention.evidence,
                "seen": mention.created_at.isoformat(timespec="seconds"),
                **_article(article, reprints.get(article.id, 0)),
            }
        )
    alerts = session.scalars(select(AlertRow).where(AlertRow.project_id == project_id).order_by(AlertRow.id)).all()
    return {
        **_project(project),
        "mentions": history,
        "alerts": [
            {"rule": a.rule, "channel": a.channel, "status": a.status, "created_at": a.created_at.isoformat()}
            for a in alerts
        ],
    }


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int) -> str:
    if _width(text) > width:
        while _width(text + "…") > width and text:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))


def _amount(p: dict[str, Any]) -> str:
    value = p["investment_yi"]
    return "" if value is None else f"{'≥' if p['approximate'] else ''}{value:g}"


_COLUMNS = (("id", 5), ("亿元", 8), ("stage", 9), ("name", 36), ("company", 16), ("region", 18), ("first seen", 10))


def _emit_list(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        _emit_csv(rows)
        return
    if not rows:
        print("no projects")
        return
    print("  ".join(_cell(name, w) for name, w in _COLUMNS) + "  mentions")
    for p in rows:
        values = (str(p["id"]), _amount(p), p["stage"], p["name"], p["company"] or "", p["region"] or "")
        cells = [_cell(v, w) for v, (_, w) in zip(values, _COLUMNS, strict=False)]
        print("  ".join([*cells, p["first_seen"][:10]]) + f"  {p['mentions']:>8}")
        for a in p["articles"]:
            extra = f" (+{a['reprints']} reprints)" if a["reprints"] else ""
            print(f"        {a['published']}  {a['title'] or ''}  {a['url']}{extra}")


def _emit_csv(rows: list[dict[str, Any]]) -> None:
    fields = ["id", "name", "investment_yi", "approximate", "stage", "company", "region", "first_seen", "mentions"]
    writer = csv.writer(sys.stdout)
    writer.writerow([*fields, "article_urls"])
    for p in rows:
        writer.writerow([*(p[f] for f in fields), " ".join(a["url"] for a in p["articles"])])


def _emit_history(data: dict[str, Any], fmt: str) -> None:
    if fmt != "table":
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print(f"#{data['id']} {data['name']}")
    print(f"  amount   {_amount(data) or '-'} 亿元 ({data['amount_text'] or 'no amount stated'})")
    print(f"  stage    {data['stage']}")
    print(f"  company  {data['company'] or '-'}")
    print(f"  region   {data['region'] or '-'}")
    print(f"  seen     {data['first_seen']} .. {data['last_seen']}")
    print("\nhistory:")
    for m in data["mentions"]:
        mark = "*" if m["stage_advanced"] else " "
        amount = f"{m['investment_yi']:g} 亿元" if m["investment_yi"] is not None else "-"
        extra = f" (+{m['reprints']} reprints)" if m["reprints"] else ""
        print(f" {mark} {m['published']}  {m['stage']:<9}  {amount:<12}  {m['title'] or ''}  {m['url']}{extra}")
    print("\nalerts:" if data["alerts"] else "\nalerts: none")
    for a in data["alerts"]:
        print(f"    {a['created_at'][:19]}  {a['rule']} -> {a['channel']}: {a['status']}")
