"""One crawl's state: a context per source, all of them in one ``CrawlJob`` that the one Scrapy crawler's
components share (``run_crawl`` hands it over through the NEWSMON_JOB setting).

One crawler serves every source of a crawl. A crawler per source cost ~16 ms of single-threaded
set-up and a few hundred KB each (engine, downloader, ~50 components, a spider): at 200 sources, 3 s
before the first request and 470 MB at 5,000 articles. So each request carries its source's name in
``meta[SOURCE_META]``, each item its ``source_name``, and the components look the source's context
up here; counters a crawler kept in its stats are kept per source in ``CrawlContext.counts``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.config import Source
from crawler.fetch import CrawlOptions, ListOutcome, SeenUrls, Validators
from crawler.groupwrite import GroupWriter
from crawler.ingest import IngestOutcome, IngestSettings
from crawler.ingestproc import IngestProcess
from crawler.store.db import Database
from crawler.workers import ExtractionPool

SOURCE_META = "newsmon_source"  # request.meta key: the name of the source a request is made for


@dataclass
class RunTally:
    """Counts for one source's run, kept by the pipelines and written to its crawl_runs row."""

    source: str
    run_id: int
    pages_fetched: int = 0
    articles_new: int = 0
    articles_duplicate: int = 0
    articles_known: int = 0
    projects_new: int = 0
    alerts_created: int = 0
    not_stored: int = 0  # articles fetched but not stored (a database error): fetched again next time
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: IngestOutcome) -> None:
        if outcome.status == "new":
            self.articles_new += 1
        elif outcome.status == "duplicate":
            self.articles_duplicate += 1
        else:
            self.articles_known += 1
        self.projects_new += sum(1 for p in outcome.projects if p.new)
        self.alerts_created += outcome.alerts_created


@dataclass
class CrawlContext:
    """Everything the spider and pipelines need for one source of the crawl."""

    db: Database
    seen: SeenUrls
    ingest: IngestSettings
    tally: RunTally
    source: Source
    options: CrawlOptions = field(default_factory=CrawlOptions)
    list_outcomes: dict[str, ListOutcome] = field(default_factory=dict)  # per column URL, this run
    scheduled: set[str] = field(default_factory=set)  # article URLs requested in this run
    extraction: ExtractionPool | None = None  # the process's extraction workers (run_crawl's), shared
    writer: GroupWriter | None = None  # the process's group commits (run_crawl's), shared; None: one each
    ingester: IngestProcess | None = None  # the process's ingest child (run_crawl's), shared; None: store here
    # This source's share of the crawl: responses, callback errors, list pages, links, articles.
    counts: Counter[str] = field(default_factory=Counter)
    validators: dict[str, Validators] = field(default_factory=dict)  # stored ETag / Last-Modified by column URL


class CrawlJob:
    """The contexts of every source in one crawl, looked up by the source's name."""

    def __init__(self, contexts: Iterable[CrawlContext]) -> None:
        self.contexts: dict[str, CrawlContext] = {c.source.name: c for c in contexts}
        # Host -> the first source that requested from it. Scrapy's robots.txt request for a host
        # carries no meta of ours; it is made for the first request to that host, so it is this source's.
        self._first_by_host: dict[str, str] = {}

    def __iter__(self) -> Iterator[CrawlContext]:
        return iter(self.contexts.values())

    def of(self, source_name: str) -> CrawlContext:
        return self.contexts[source_name]

    def of_meta(self, meta: Mapping[str, Any]) -> CrawlContext | None:
        """The context of a request (its meta), None for a request made for no source."""
        name = meta.get(SOURCE_META)
        return self.contexts.get(name) if isinstance(name, str) else None

    def claim(self, url: str, meta: dict[str, Any]) -> None:
        """Names the source of a request that carries none (a robots.txt request) by its host, and
        remembers the host of one that does."""
        host = urlsplit(url).netloc.lower()
        name = meta.get(SOURCE_META)
        if isinstance(name, str):
            self._first_by_host.setdefault(host, name)
        elif host in self._first_by_host:
            meta[SOURCE_META] = self._first_by_host[host]


def crawl_job(crawler: Crawler) -> CrawlJob:
    """The job ``run_crawl`` hands every Scrapy component; NotConfigured outside ``run_crawl``."""
    job = crawler.settings.get("NEWSMON_JOB")
    if not isinstance(job, CrawlJob):
        raise NotConfigured("newsmon components run through crawler.crawl.run_crawl (NEWSMON_JOB unset)")
    return job


def run_status(counts: Mapping[str, int]) -> tuple[str, str | None]:
    """ok, or failed with the reason: no list page fetched, or list pages without any article link."""
    if counts.get("list_pages_ok", 0) == 0:
        return "failed", "no list page could be fetched"
    if counts.get("list_links", 0) == 0 and counts.get("list_not_modified", 0) == 0:
        return "failed", "the list pages yielded no article links (layout changed?)"
    return "ok", None


def every_article_stored(counts: Mapping[str, int], tally: RunTally, lost: int) -> bool:
    """Whether the run may keep its list pages' validators (ETag, Last-Modified): only when every
    article it found was fetched and stored, else the next run would get a 304 and never see the
    missing ones again. ``lost``: articles whose group commit failed (``GroupWriter.lost``)."""
    return counts.get("articles_failed", 0) == 0 and tally.not_stored == 0 and lost == 0
