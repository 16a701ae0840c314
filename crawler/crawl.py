"""Run sources through the Scrapy spider and pipelines, recording one crawl run per source.

Twisted's reactor cannot be restarted, so ``run_crawl`` may be called once per process. The CLI
commands that crawl (`crawl`, `replay`) are one-shot processes; the scheduler (``newsmon run``)
starts each crawl as a child process for the same reason, and so that a hung crawl can be killed.

One Scrapy crawler and spider crawl every source of the call (``crawler.crawljob`` says why); each
source keeps its own context, counts and crawl_runs row, and each host its own download slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import default_settings
from twisted.internet import task

from crawler.alerts.health import report_unhealthy
from crawler.config import Config, Source
from crawler.crawljob import CrawlContext, CrawlJob, RunTally
from crawler.fetch import CrawlOptions, ListPageStore, SeenUrls
from crawler.groupwrite import GroupWriter
from crawler.heap import settle_after_startup
from crawler.ingest import IngestSettings
from crawler.ingestlaunch import LaunchedChild, early_child, extract_workers, ingest_target
from crawler.ingestproc import IngestProcess
from crawler.logsetup import library_loggers_follow_root
from crawler.runrecords import finish_runs, start_runs
from crawler.store.db import Database
from crawler.workers import ExtractionPool

_REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"  # off unless REMOTE_CONTROL_ENABLED
_COOKIES = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"  # COOKIES_ENABLED is False


def _without(table: dict[str, int], key: str) -> dict[str, int]:
    return {name: order for name, order in table.items() if name != key}


def scrapy_settings(config: Config) -> dict[str, Any]:
    """Politeness and robustness: robots.txt, AutoThrottle, 2 requests per host, retries with
    backoff on timeouts and 5xx, a download size cap, few redirects and none off the source's site.
    Storing (and extraction) run in the ingest process when a core is spare (``run_crawl``)."""
    crawl = config.app.crawl
    return {
        "BOT_NAME": "newsmon",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": max(crawl.concurrent_total, crawl.concurrent_per_host),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_host,
        # One crawler serves every source: take the next request from the host with the fewest in
        # flight, or a long column of one portal would fill the total with requests that wait on its
        # per-host limit while the other portals idle (Scrapy's advice for broad crawls).
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.DownloaderAwarePriorityQueue",
        "DOWNLOADER": "spiders.downloader.SlotLimitedDownloader",  # the per-host limit, kept (see there)
        # Scrapy starts CONCURRENT_ITEMS tasks (default 100) for every response's output; ours is one
        # item per article page, or a list page's requests (nothing to wait for): one task is enough,
        # and responses are still processed concurrently. 100 tasks per page cost more than the page.
        "CONCURRENT_ITEMS": 1,
        # Scrapy re-reads and parses the callback's source for every response to warn about a
        # ``return value`` in a generator (its cache is keyed by the bound method, new each time).
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout_s,
        "DNS_TIMEOUT": min(crawl.download_timeout_s, 20),
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,  # a truncated page is a failure, retried, never half-parsed
        "RETRY_ENABLED": True,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "NEWSMON_RETRY_BACKOFF_S": 1.0,
        "REDIRECT_MAX_TIMES": 5,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": 0.5,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": True,
        "LOG_INSTALL_ROOT_HANDLER": False,  # records go to the root logger, which loguru intercepts
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "DOWNLOADER_STATS": False,  # per-request byte counts nobody reads
        # No depth limit; no check for response.meta copied into requests (a development aid that wraps
        # every callback's output in one more async generator).
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        # Scrapy's own components, less two that are off here anyway and cost ~0.13 s of every crawl's
        # start just to import (aiohttp, tldextract): Scrapy imports every key of these tables, None or not.
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, _REMOTE_CONTROL),
        "DOWNLOADER_MIDDLEWARES_BASE": _without(default_settings.DOWNLOADER_MIDDLEWARES_BASE, _COOKIES),
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.middlewares.SourceMetaMiddleware": 50,
            "spiders.middlewares.OffsiteRedirectMiddleware": 90,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "spiders.middlewares.QuickMetaRefreshMiddleware": 580,
            "spiders.middlewares.BackoffRetryMiddleware": 550,
            "spiders.middlewares.SourceProxyMiddleware": 740,
        },
        "ITEM_PIPELINES": {
            "pipelines.extract.ExtractPipeline": 100,
            "pipelines.store.StorePipeline": 200,
        },
    }


def crawler_process(config: Config) -> CrawlerProcess:
    """The process's CrawlerProcess, with Scrapy's loggers at the level ``setup_logging`` chose."""
    process = CrawlerProcess(scrapy_settings(config))
    library_loggers_follow_root("scrapy")
    return process


def _crawl_job(
    config: Config,
    db: Database,
    sources: Sequence[Source],
    kind: str,
    options: CrawlOptions | None,
    shared: tuple[ExtractionPool, GroupWriter, IngestProcess | None],
) -> CrawlJob:
    """Every source's context, each with its run recorded as started."""
    pool, writer, ingester = shared
    ingest_base = IngestSettings(
        rules=config.rules,
        alert_rules=config.app.alert_rules,
        channels=tuple(n.name for n in config.app.notifiers),
        matching=config.app.matching,
    )
    seen, crawl_options = SeenUrls(db), options or CrawlOptions()
    chosen = list({s.name: s for s in sources}.values())  # a source named twice is crawled once
    run_ids = start_runs(db, chosen, kind)
    validators = ListPageStore(db).validators_among(url for s in chosen for url in s.list_urls)
    contexts = []
    for source in chosen:
        tally = RunTally(source.name, run_ids[source.name])
        settings = replace(ingest_base, run_id=tally.run_id)
        mine = {url: validators[url] for url in source.list_urls if url in validators}
        contexts.append(
            CrawlContext(
                db,
                seen,
                settings,
                tally,
                source,
                crawl_options,
                extraction=pool,
                writer=writer,
                ingester=ingester,
                validators=mine,
            )
        )
    return CrawlJob(contexts)


def _one_crawler(config: Config, job: CrawlJob) -> CrawlerProcess:
    """The CrawlerProcess with the one crawler (and spider) that crawls every source of the job."""
    from spiders.portal import PortalSpider  # the Scrapy adapter; imported here to keep core imports light

    process = crawler_process(config)
    crawler = process.create_crawler(PortalSpider)
    crawler.settings.set("NEWSMON_JOB", job, priority="cmdline")
    process.crawl(crawler)
    return process


def run_crawl(
    config: Config,
    db: Database,
    sources: Sequence[Source],
    kind: str = "crawl",
    options: CrawlOptions | None = None,
    child: LaunchedChild | None = None,
) -> list[RunTally]:
    """Crawl the sources in this process (once per process: see the module note).

    ``child``: an ingest process the caller started early (``crawler.ingestlaunch``). Without one, one
    is started here if many articles are expected, else with the first page to store, when the crawl
    stores in a child at all (``ingest_target``). It is stopped before this returns."""
    writer = GroupWriter(db)  # without an ingest process, or after it died
    target = ingest_target(db, config.rules)
    if child is None:
        wanted = options or CrawlOptions()
        child = early_child(target, db, [s.name for s in sources], wanted.refetch, wanted.backfill_pages)
    ingester = IngestProcess(target, writer, child) if target is not None else None
    # The ingest process takes one spare core (and extracts there too); the pool the others.
    pool = ExtractionPool(extract_workers() - (1 if ingester else 0), config.rules)
    try:
        job = _crawl_job(config, db, sources, kind, options, (pool, writer, ingester))
        process = _one_crawler(config, job)
        pool.start()
        timer = task.LoopingCall(writer.commit_if_old)  # the reactor is the one CrawlerProcess installed
        timer.start(writer.max_age_s / 2, now=False)
        settle_after_startup()  # everything above lives as long as the crawl: out of the collector's way
        try:
            process.start()
        finally:
            if timer.running:
                timer.stop()
    finally:
        if ingester is not None:
            ingester.close()
        writer.commit()  # before the run records: their validators depend on what was stored
        pool.shutdown()
    finish_runs(db, list(job))
    report_unhealthy(config, db, sources)
    return [context.tally for context in job]
