"""A crawl's ``crawl_runs`` rows: every source's run started in one transaction before the crawl and
finished in one after it, with its columns' validators and streaks (``list_pages``).

One transaction per source made these the larger part of a re-crawl of many unchanged sources:
2.2 of 6 s at 1,000 sources (py-spy), for ~3 small writes each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from loguru import logger
from sqlalchemy.orm import Session

from crawler.config import Source
from crawler.crawljob import CrawlContext, RunTally, every_article_stored, run_status
from crawler.fetch import record_list_outcomes
from crawler.store.db import Database, rows_where_in
from crawler.store.schema import CrawlRunRow, ListPageRow, SourceRow


def start_runs(db: Database, sources: Sequence[Source], kind: str) -> dict[str, int]:
    """A running crawl_runs row for each source (and its ``sources`` row, region kept current): run ids by name."""
    with db.transaction() as session:
        known = {row.name: row for row in rows_where_in(session, SourceRow.name, (s.name for s in sources))}
        runs: dict[str, CrawlRunRow] = {}
        for source in sources:
            row = known.get(source.name)
            if row is None:
                known[source.name] = SourceRow(name=source.name, region=source.region, created_at=datetime.now())
                session.add(known[source.name])
            elif row.region != source.region:
                row.region = source.region
            runs[source.name] = CrawlRunRow(
                source_name=source.name, kind=kind, status="running", started_at=datetime.now()
            )
            session.add(runs[source.name])
        session.flush()
        return {name: row.id for name, row in runs.items()}


def finish_runs(db: Database, contexts: Sequence[CrawlContext]) -> None:
    """Records each source's run (status, counts, errors) and its list pages' validators and streaks."""
    with db.transaction() as session:
        runs = {row.id: row for row in rows_where_in(session, CrawlRunRow.id, (c.tally.run_id for c in contexts))}
        urls = (url for c in contexts for url in c.list_outcomes)
        columns = {row.url: row for row in rows_where_in(session, ListPageRow.url, urls)}
        statuses = [_finish(session, runs[c.tally.run_id], columns, c) for c in contexts]
    for context, status in zip(contexts, statuses, strict=True):
        _log(context.tally, status)


def _finish(session: Session, row: CrawlRunRow, columns: dict[str, ListPageRow], context: CrawlContext) -> str:
    """Fills the source's run row and its columns' rows; returns the run's status."""
    tally, counts = context.tally, context.counts
    status, reason = run_status(counts)
    if reason and reason not in tally.errors:
        tally.errors.append(reason)
    lost = context.writer.lost[tally.source] if context.writer else 0
    lost += context.ingester.lost[tally.source] if context.ingester else 0
    if lost:
        tally.errors.append(f"{lost} articles not stored (their group's commit failed): fetched again next time")
    tally.pages_fetched = counts["responses"]
    row.status = status
    row.finished_at = datetime.now()
    row.pages_fetched = tally.pages_fetched
    row.articles_new = tally.articles_new
    row.articles_duplicate = tally.articles_duplicate
    row.projects_new = tally.projects_new
    row.alerts_created = tally.alerts_created
    row.errors = len(tally.errors) + counts["callback_errors"]
    row.error_text = "\n".join(tally.errors)[:4000] or None
    if context.list_outcomes:
        keep = every_article_stored(counts, tally, lost)
        record_list_outcomes(session, columns, tally.source, context.list_outcomes, keep_validators=keep)
    return status


def _log(tally: RunTally, status: str) -> None:
    log = logger.info if status == "ok" else logger.error
    log(
        "source {}: {} — {} pages, {} new, {} duplicate articles, {} new projects, {} alerts",
        tally.source,
        status,
        tally.pages_fetched,
        tally.articles_new,
        tally.articles_duplicate,
        tally.projects_new,
        tally.alerts_created,
    )
