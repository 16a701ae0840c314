"""Source health: which sources (or columns) have yielded nothing but errors or empty pages lately.

``assess`` is a pure function of crawl_runs rows and list_pages rows; ``source_health(session)``
reads them for the status command and for the log line ``run_crawl`` writes after a crawl.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.store.schema import CrawlRunRow, ListPageRow

FAILING_RUNS = 3  # this many failed runs in a row (or empty/erroring column fetches) make a source unhealthy


class RunLike(Protocol):
    @property
    def source_name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def error_text(self) -> str | None: ...


class ListLike(Protocol):
    @property
    def source_name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def empty_streak(self) -> int: ...
    @property
    def error_streak(self) -> int: ...
    @property
    def last_error(self) -> str | None: ...


@dataclass(frozen=True)
class SourceHealth:
    source: str
    healthy: bool
    failed_runs_in_row: int
    last_ok: datetime | None
    last_run: datetime | None
    problem: str | None  # what a person should look at, when unhealthy
    columns: tuple[str, ...] = ()  # list URLs empty or failing run after run

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "healthy": self.healthy,
            "failed_runs_in_row": self.failed_runs_in_row,
            "last_ok": self.last_ok.isoformat(timespec="seconds") if self.last_ok else None,
            "last_run": self.last_run.isoformat(timespec="seconds") if self.last_run else None,
            "problem": self.problem,
            "columns": list(self.columns),
        }


def _kind(error_text: str | None) -> str:
    text = error_text or ""
    return "no article links (list layout changed?)" if "no article links" in text else "only errors"


def assess(
    runs: Iterable[RunLike], lists: Iterable[ListLike] = (), threshold: int = FAILING_RUNS
) -> list[SourceHealth]:
    """Health per source from its finished runs (any order) and its columns' streaks."""
    by_source: dict[str, list[RunLike]] = {}
    for run in runs:
        if run.status in {"ok", "failed"}:
            by_source.setdefault(run.source_name, []).append(run)
    bad_columns: dict[str, list[tuple[str, str]]] = {}
    for page in lists:
        if page.empty_streak >= threshold:
            reason = f"{page.url}: no article links for {page.empty_streak} runs (layout changed?)"
        elif page.error_streak >= threshold:
            reason = f"{page.url}: failed {page.error_streak} runs in a row ({page.last_error or 'error'})"
        else:
            continue
        bad_columns.setdefault(page.source_name, []).append((page.url, reason))
    result = []
    for name in sorted(set(by_source) | set(bad_columns)):
        ordered = sorted(by_source.get(name, []), key=lambda r: r.started_at, reverse=True)
        streak = 0
        for run in ordered:
            if run.status != "failed":
                break
            streak += 1
        last_ok = next((r.started_at for r in ordered if r.status == "ok"), None)
        problem = None
        if streak >= threshold:
            problem = (
                f"{streak} failed runs in a row, {_kind(ordered[0].error_text)}: "
                + ((ordered[0].error_text or "").splitlines() or ["no detail"])[0]
            )
        columns = bad_columns.get(name, [])
        if columns and problem is None:
            problem = "; ".join(reason for _, reason in columns)
        result.append(
            SourceHealth(
                source=name,
                healthy=problem is None,
                failed_runs_in_row=streak,
                last_ok=last_ok,
                last_run=ordered[0].started_at if ordered else None,
                problem=problem,
                columns=tuple(url for url, _ in columns),
            )
        )
    return result


def source_health(session: Session, threshold: int = FAILING_RUNS, recent: int = 20) -> list[SourceHealth]:
    """Every known source's health from its latest ``recent`` runs and its list pages."""
    runs: list[CrawlRunRow] = []
    names: Sequence[str] = session.scalars(select(CrawlRunRow.source_name).distinct()).all()
    for name in names:
        runs.extend(
            session.scalars(
                select(CrawlRunRow)
                .where(CrawlRunRow.source_name == name, CrawlRunRow.status != "running")
                .order_by(CrawlRunRow.started_at.desc())
                .limit(recent)
            ).all()
        )
    lists = session.scalars(select(ListPageRow)).all()
    return assess(runs, lists, threshold)
