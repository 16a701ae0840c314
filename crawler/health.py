"""Source health: which sources (or columns) have yielded nothing but errors or empty pages lately.

``assess`` is a pure function of crawl_runs rows and list_pages rows; ``source_health(session)``
reads them for `newsmon status`, `newsmon sources health` and the health alerts written after
each crawl (``crawler.alerts.health``). ``health_change`` is the pure rule for those alerts: one
when a source turns unhealthy, one when it recovers, none while it stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from crawler.store.schema import CrawlRunRow, ListPageRow

FAILING_RUNS = 3  # this many failed runs in a row (or empty/erroring column fetches) make a source unhealthy
UNHEALTHY = "unhealthy"
RECOVERED = "recovered"


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
class Finding:
    """One thing wrong with a source: its runs as a whole (``url`` None), or one column's list page."""

    kind: str  # errors | no_links | layout_changed (no links where the column had some)
    runs: int  # in a row
    url: str | None = None
    error: str | None = None  # the last error, first line
    links_before: int | None = None  # layout_changed: article links the column found when it last found any

    def describe(self) -> str:
        if self.url is None:
            kind = "only errors" if self.kind == "errors" else "no article links (list layout changed?)"
            return f"{self.runs} failed runs in a row, {kind}: {self.error or 'no detail'}"
        if self.kind == "errors":
            return f"{self.url}: failed {self.runs} runs in a row ({self.error or 'error'})"
        if self.kind == "layout_changed":
            return (
                f"{self.url}: the parser found no article links for {self.runs} runs in a row, "
                f"where it used to find {self.links_before} (list layout changed?)"
            )
        return f"{self.url}: no article links for {self.runs} runs (layout changed?)"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(str(data["kind"]), int(data["runs"]), data.get("url"), data.get("error"), data.get("links_before"))


@dataclass(frozen=True)
class SourceHealth:
    source: str
    healthy: bool
    failed_runs_in_row: int
    last_ok: datetime | None
    last_run: datetime | None
    problem: str | None  # what a person should look at, when unhealthy
    columns: tuple[str, ...] = ()  # list URLs empty or failing run after run
    findings: tuple[Finding, ...] = ()  # the source's failing runs first, then each bad column

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "healthy": self.healthy,
            "failed_runs_in_row": self.failed_runs_in_row,
            "last_ok": self.last_ok.isoformat(timespec="seconds") if self.last_ok else None,
            "last_run": self.last_run.isoformat(timespec="seconds") if self.last_run else None,
            "problem": self.problem,
            "columns": list(self.columns),
            "findings": [f.to_json() for f in self.findings],
        }


def first_line(text: str | None) -> str | None:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else None


def column_finding(page: ListLike, threshold: int, links_seen: int | None) -> Finding | None:
    """What is wrong with one column, if its empty or error streak has reached ``threshold``."""
    if page.empty_streak >= threshold:
        kind = "layout_changed" if links_seen else "no_links"
        return Finding(kind, page.empty_streak, page.url, links_before=links_seen or None)
    if page.error_streak >= threshold:
        error = first_line(page.last_error)
        if error and error.startswith(f"{page.url}: "):
            error = error[len(page.url) + 2 :]
        return Finding("errors", page.error_streak, page.url, error)
    return None


def run_finding(ordered: Sequence[RunLike], threshold: int) -> Finding | None:
    """The source's own finding when its newest ``threshold`` or more finished runs all failed."""
    streak = failed_in_row(ordered)
    if streak < threshold:
        return None
    text = ordered[0].error_text or ""
    return Finding("no_links" if "no article links" in text else "errors", streak, error=first_line(text))


def assess(
    runs: Iterable[RunLike],
    lists: Iterable[ListLike] = (),
    threshold: int = FAILING_RUNS,
    links_seen: Mapping[str, int] | None = None,
) -> list[SourceHealth]:
    """Health per source from its finished runs (any order) and its columns' streaks.

    ``links_seen``: column URL -> article links it found in its last run that found any (then an
    empty column is reported as a changed layout, with that number).
    """
    seen = links_seen or {}
    by_source: dict[str, list[RunLike]] = {}
    for run in runs:
        if run.status in {"ok", "failed"}:
            by_source.setdefault(run.source_name, []).append(run)
    bad_columns: dict[str, list[Finding]] = {}
    for page in lists:
        finding = column_finding(page, threshold, seen.get(page.url))
        if finding is not None:
            bad_columns.setdefault(page.source_name, []).append(finding)
    result = []
    for name in sorted(set(by_source) | set(bad_columns)):
        ordered = sorted(by_source.get(name, []), key=lambda r: r.started_at, reverse=True)
        own = run_finding(ordered, threshold)
        columns = bad_columns.get(name, [])
        findings = ([own] if own else []) + columns
        problem = own.describe() if own else "; ".join(f.describe() for f in columns) or None
        result.append(
            SourceHealth(
                source=name,
                healthy=problem is None,
                failed_runs_in_row=failed_in_row(ordered),
                last_ok=next((r.started_at for r in ordered if r.status == "ok"), None),
                last_run=ordered[0].started_at if ordered else None,
                problem=problem,
                columns=tuple(f.url for f in columns if f.url),
                findings=tuple(findings),
            )
        )
    return result


def failed_in_row(ordered: Sequence[RunLike]) -> int:
    """How many of the runs (newest first) failed before the first that did not."""
    return next((i for i, run in enumerate(ordered) if run.status != "failed"), len(ordered))


def health_change(alerted_healthy: bool | None, health: SourceHealth) -> str | None:
    """The alert a source's health calls for, given its health as last alerted (None: never assessed,
    taken as healthy): UNHEALTHY when it was healthy and is not now, RECOVERED when it was unhealthy and
    is healthy now, None when nothing changed (a source staying unhealthy is not alerted again)."""
    was_healthy = alerted_healthy is not False
    if was_healthy and not health.healthy:
        return UNHEALTHY
    if not was_healthy and health.healthy:
        return RECOVERED
    return None


def source_health(
    session: Session,
    threshold: int = FAILING_RUNS,
    recent: int = 20,
    names: Sequence[str] | None = None,
    list_urls: Mapping[str, Sequence[str]] | None = None,
) -> list[SourceHealth]:
    """Every known source's (or those ``names``') health from its latest ``recent`` runs and its list pages.

    ``list_urls``: each source's configured columns; a list page no longer among them (its URL was
    changed in sources.yaml) then no longer counts.
    """
    runs: list[RunLike] = []
    sources = names if names is not None else session.scalars(select(CrawlRunRow.source_name).distinct()).all()
    # Plain rows, not ORM objects: this runs after every crawl, for every source crawled (up to thousands).
    latest = (
        select(CrawlRunRow.source_name, CrawlRunRow.status, CrawlRunRow.started_at, CrawlRunRow.error_text)
        .where(CrawlRunRow.source_name == bindparam("name"), CrawlRunRow.status != "running")
        .order_by(CrawlRunRow.started_at.desc())
        .limit(recent)
    )
    for name in sources:
        runs.extend(session.execute(latest, {"name": name}).all())
    query = select(ListPageRow)
    if names is not None:
        query = query.where(ListPageRow.source_name.in_(list(names)))
    lists = [
        page
        for page in session.scalars(query).all()
        if list_urls is None or page.source_name not in list_urls or page.url in list_urls[page.source_name]
    ]
    seen = {page.url: page.links_seen for page in lists if page.links_seen}
    return assess(runs, lists, threshold, seen)


def note_links_seen(session: Session, names: Sequence[str]) -> None:
    """Keep, per column of these sources, the article links of its latest run that found any."""
    session.execute(
        update(ListPageRow)
        .where(ListPageRow.source_name.in_(list(names)), ListPageRow.links_last > 0)
        .values(links_seen=ListPageRow.links_last)
        .execution_options(synchronize_session=False)
    )
