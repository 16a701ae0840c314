"""What the spider hands the pipelines, and the decisions it asks before any request.

Pure functions decide (which links to request, whether to page on, how long to back off, whether
a redirect may be followed, how to name a failure); ``SeenUrls`` and ``ListPageStore`` answer from
the database. The Scrapy adapters in ``spiders/`` only carry these answers out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from crawler.dedup import canonical_url
from crawler.listing import ListPage, same_site
from crawler.store.db import IN_CHUNK, Database, rows_where_in
from crawler.store.schema import ArticleRow, ListPageRow

RETRY_BACKOFF_S = 1.0  # the first retry waits this long, each further one twice as long
RETRY_BACKOFF_MAX_S = 30.0


@dataclass(frozen=True)
class CrawlOptions:
    """How far a crawl goes beyond "only what is new"."""

    refetch: bool = False  # request articles already stored, and ignore list-page validators
    backfill_pages: int | None = None  # follow this many list pages even when they hold only known links


_STORED_AMONG = select(ArticleRow.canonical_url).where(ArticleRow.canonical_url.in_(bindparam("urls", expanding=True)))


class SeenUrls:
    """Answers "was this article stored already?" so the spider never requests it again."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def seen_among(self, urls: Sequence[str]) -> set[str]:
        """Which of ``urls`` (a list page's links) are stored: one query a page, not one a link."""
        canonical = {canonical_url(url): url for url in urls}
        found: set[str] = set()
        keys = list(canonical)
        with self.db.engine.connect() as connection:
            for start in range(0, len(keys), IN_CHUNK):
                chunk = keys[start : start + IN_CHUNK]
                found.update(connection.execute(_STORED_AMONG, {"urls": chunk}).scalars())
        return {canonical[key] for key in found}


@dataclass(frozen=True)
class ListPlan:
    article_urls: tuple[str, ...]  # the links to request now
    next_url: str | None  # the list page to request next, if any
    reason: str  # why paging goes on or stops, for the log


def plan_list_page(
    listing: ListPage,
    page: int,
    max_pages: int,
    is_known: Callable[[str], bool],
    scheduled: set[str],
    options: CrawlOptions = CrawlOptions(),  # frozen, so a shared default is safe
) -> ListPlan:
    """Which of a list page's links to request, and whether to go on to the next list page.

    A link is new when it is neither stored nor already requested in this run. Paging stops at the
    first page with no new link (everything older is known too), unless a backfill asks for a
    number of pages; it never goes past ``max_pages`` (or the backfill's count).
    """
    fresh = [u for u in listing.article_links if u not in scheduled and (options.refetch or not is_known(u))]
    limit = options.backfill_pages or max_pages
    following = listing.next_pages[0] if listing.next_pages else None
    if not listing.article_links:
        return ListPlan((), None, "no article links on this page")
    if following is None:
        return ListPlan(tuple(fresh), None, "last list page")
    if page >= limit:
        return ListPlan(tuple(fresh), None, f"page limit {limit} reached")
    if not fresh and not options.backfill_pages:
        return ListPlan((), None, "every link on this page is known")
    return ListPlan(tuple(fresh), following, "new links on this page" if fresh else "backfill")


def retry_delay(retry_times: int, base: float = RETRY_BACKOFF_S, cap: float = RETRY_BACKOFF_MAX_S) -> float:
    """Seconds to wait before retry number ``retry_times`` (1, 2, ...): exponential, capped."""
    return float(min(cap, base * 2.0 ** max(retry_times - 1, 0)))


# Scrapy looks for a meta refresh in a page's first 4096 characters: at most 16 KB of UTF-8 or GBK.
_REFRESH_WINDOW = 16384


def may_hold_meta_refresh(body: bytes) -> bool:
    """False when a page cannot hold a meta refresh where Scrapy looks for one (no "refresh" in its
    first 4096 characters): then it need not be decoded for that. UTF-16 pages are always looked at."""
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    return b"refresh" in body[:_REFRESH_WINDOW].lower()


def redirect_allowed(url: str, list_urls: Iterable[str]) -> bool:
    """A redirect may only lead to the site (registrable domain) of one of the source's list pages."""
    return any(same_site(url, list_url) for list_url in list_urls)


def describe_failure(error: BaseException) -> str:
    """One clear phrase for a failed download: what a person reading the log needs."""
    name = type(error).__name__
    text = str(error).strip()
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "status"):
        return f"HTTP {response.status} (after retries)"
    inner = " ".join(type(getattr(r, "value", r)).__name__ for r in getattr(error, "reasons", None) or ())
    if "DataLoss" in name or "DataLoss" in inner:
        return "truncated response: the connection closed before Content-Length bytes arrived"
    if "max redirections" in text:
        return "redirect loop: max redirections reached"
    if "max size" in text or "maxsize" in text:
        return f"page larger than the download size cap: {text}"
    if "ConnectionRefused" in name or "ConnectError" in name:
        return "connection refused (host down?)"
    if "DNSLookup" in name or "CannotResolveHost" in name:
        return "host name not found (DNS)"
    if "Timeout" in name or "TimedOut" in name:
        return "timed out"
    if inner:
        return f"connection failed ({inner})"
    return f"{name}: {text}" if text else name


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: str | None


def conditional_headers(validators: Validators | None, options: CrawlOptions) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a column's first page, unless the crawl wants everything."""
    if validators is None or options.refetch or options.backfill_pages:
        return {}
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


@dataclass
class ListOutcome:
    """What happened to one column's first page in this run."""

    status: str  # ok | not_modified | empty | error
    links: int = 0
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


@dataclass
class ListState:
    """A ``list_pages`` row's values (kept apart so the streak arithmetic is pure)."""

    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    links_last: int = 0
    empty_streak: int = 0
    error_streak: int = 0
    last_error: str | None = None


def next_state(state: ListState, outcome: ListOutcome, keep_validators: bool) -> ListState:
    """The row after this run: validators kept only when every article of the run was fetched."""
    etag, modified = state.etag, state.last_modified
    if outcome.status == "ok":
        etag, modified = (outcome.etag, outcome.last_modified) if keep_validators else (None, None)
    elif outcome.status in {"empty", "error"}:
        etag, modified = None, None
    return ListState(
        etag=etag,
        last_modified=modified,
        last_status=outcome.status,
        links_last=outcome.links if outcome.status in {"ok", "empty"} else state.links_last,
        empty_streak=state.empty_streak + 1 if outcome.status == "empty" else 0,
        error_streak=state.error_streak + 1 if outcome.status == "error" else 0,
        last_error=outcome.error if outcome.status in {"empty", "error"} else state.last_error,
    )


class ListPageStore:
    """The ``list_pages`` table: validators for conditional GET, and per-column health streaks."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def validators_among(self, urls: Iterable[str]) -> dict[str, Validators]:
        """The stored validators of those of ``urls`` that have any: one query for a whole crawl's columns."""
        with self.db.session() as session:
            rows = list(rows_where_in(session, ListPageRow.url, urls))
        return {row.url: Validators(row.etag, row.last_modified) for row in rows if row.etag or row.last_modified}

    def record(self, source_name: str, outcomes: dict[str, ListOutcome], keep_validators: bool) -> None:
        with self.db.transaction() as session:
            known = {row.url: row for row in rows_where_in(session, ListPageRow.url, outcomes)}
            record_list_outcomes(session, known, source_name, outcomes, keep_validators)


def record_list_outcomes(
    session: Session,
    known: dict[str, ListPageRow],
    source_name: str,
    outcomes: dict[str, ListOutcome],
    keep_validators: bool,
) -> None:
    """A source's column outcomes into their ``list_pages`` rows (``known``: those already stored, by URL)."""
    for url, outcome in outcomes.items():
        row = known.get(url)
        if row is None:
            row = ListPageRow(url=url, source_name=source_name, links_last=0, empty_streak=0, error_streak=0)
            session.add(row)
            known[url] = row
        state = ListState(
            row.etag,
            row.last_modified,
            row.last_status,
            row.links_last or 0,
            row.empty_streak or 0,
            row.error_streak or 0,
            row.last_error,
        )
        new = next_state(state, outcome, keep_validators)
        row.source_name = source_name
        row.etag, row.last_modified, row.last_status = new.etag, new.last_modified, new.last_status
        row.links_last, row.empty_streak, row.error_streak = new.links_last, new.empty_streak, new.error_streak
        row.last_error = (new.last_error or "")[:2000] or None
        row.checked_at = datetime.now()
