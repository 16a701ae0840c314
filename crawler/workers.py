"""The extraction worker pool: pure CPU work on each fetched page, in other processes.

``page_record`` (decoding, lxml, trafilatura, dates, chrome filter, content hash, minhash
fingerprint, project extraction) needs nothing but the page and the rules, so it runs in a process
pool while the crawl process downloads and stores (database work only). ``run_crawl`` creates one
pool for the process, hands it to every source's pipelines through the ``CrawlContext`` and shuts it
down after the crawl. A pool that broke (a worker killed by the OOM killer, say) is dropped and the
pages are extracted in the crawl process from then on.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from loguru import logger

from crawler.heap import settle_after_startup
from crawler.ingest import PageRecord, page_record
from crawler.models import FetchedPage
from crawler.rules import RuleSet, load_ruleset_file

_WARM_UP_PAGE = "<html><head><title>t</title></head><body><h1>预热</h1><p>2024年1月1日，项目签约。</p></body></html>"


@lru_cache(maxsize=4)
def worker_rules(rules_file: str) -> RuleSet:
    """The rules a worker extracts projects with, read once per worker process (RuleSet does not pickle)."""
    return load_ruleset_file(Path(rules_file))


def extract_page(page: FetchedPage, rules_file: str | None) -> PageRecord:
    """The task run in a worker: ``page_record`` with the rules read from ``rules_file`` (None: no mentions)."""
    return page_record(page, worker_rules(rules_file) if rules_file else None)


def warm_up_extraction(rules: RuleSet | None) -> None:
    """Extract a tiny page once: trafilatura and htmldate (imported by their first use), lxml, numpy
    and the rules' lazily built tables are then loaded before the first real page."""
    html, when = _WARM_UP_PAGE.encode(), datetime(2024, 1, 1)
    page = FetchedPage("http://warm.up/a.html", html, "text/html; charset=utf-8", "warm-up", None, when)
    page_record(page, rules)


def _warm_up(rules_file: str | None) -> None:
    """Runs once in each worker, before its first page."""
    warm_up_extraction(worker_rules(rules_file) if rules_file else None)
    settle_after_startup()


class ExtractionPool:
    """A process pool of ``workers`` extraction processes (none: every ``submit`` returns None)."""

    def __init__(self, workers: int, rules: RuleSet) -> None:
        self.workers = workers
        self.rules = rules
        path = Path(rules.file)
        # Workers read the rules file the crawl's rules were loaded from; rules built otherwise (tests)
        # are applied in the crawl process instead (ingest_page extracts when a record has no mentions).
        self.rules_file = str(path.resolve()) if path.is_file() else None
        self.executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.workers > 0 and self.executor is None:
            # forkserver: workers are not forked from the reactor process with its threads and sockets.
            context = multiprocessing.get_context("forkserver")
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_warm_up, initargs=(self.rules_file,)
            )
            logger.info("extraction: {} worker processes", self.workers)

    @property
    def running(self) -> bool:
        return self.executor is not None

    def submit(self, page: FetchedPage) -> Future[PageRecord] | None:
        """The page's extraction in a worker, or None when there is no pool (extract in this process)."""
        if self.executor is None:
            return None
        try:
            return self.executor.submit(extract_page, page, self.rules_file)
        except RuntimeError:  # submit after a shutdown, or to a broken pool
            self.broken()
            return None

    def extract_here(self, page: FetchedPage) -> PageRecord:
        return page_record(page, self.rules)

    def broken(self) -> None:
        if self.executor is not None:
            logger.error("extraction worker pool broke: extracting in the crawl process from now on")
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
