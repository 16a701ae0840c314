"""Whether a crawl stores in an ingest process (``crawler.ingestproc``), and starting that child.

When: a crawl's start is single-threaded. The crawl process imports Scrapy, Twisted, trafilatura and
SQLAlchemy's ORM (~1 s on the bench machine) and builds its engines while the spare core idles; the
ingest child's own start (imports, the rules) takes as long again. So when a crawl will store many
articles (``many_articles_expected``: a source never crawled before, or ``--refetch``/``--backfill``),
the ``crawl`` command starts the child as soon as it has its configuration and database, before its
own heavy imports, and the child is ready when the first articles arrive. Otherwise (a re-crawl: most
find nothing new, or a few articles) the crawl process stores the first ``STORE_HERE_FIRST`` new
articles itself and starts the child only past them (``IngestProcess.takes_next``): that is ~1 s of
CPU, and of waiting, a scheduled re-crawl does not spend. An early child that is sent nothing is
terminated, not waited for (``IngestProcess.close``).

This module imports nothing heavy: the child imports ``crawler.ingestproc`` itself (``child_entry``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from loguru import logger
from sqlalchemy import text

from crawler.logsetup import current_verbosity
from crawler.rules import RuleSet
from crawler.store.db import Database

# Asked of the kernel for each pipe (Linux; 64 KB otherwise): a page goes in one write, not a dozen.
PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class IngestTarget:
    """What an ingest child is started with: the crawl's database and rules file."""

    url: str
    rules_file: str


@dataclass(frozen=True)
class LaunchedChild:
    """A started ingest child and this process's ends of its two pipes (file descriptors)."""

    process: BaseProcess
    jobs_fd: int  # pages to the child
    replies_fd: int  # its replies


def extract_workers() -> int:
    """Extraction worker processes (pipelines/extract.py): one per core beside the crawl process's own,
    none on one core; ``NEWSMON_EXTRACT_WORKERS`` overrides (0: extract in the crawl process)."""
    if (value := os.environ.get("NEWSMON_EXTRACT_WORKERS", "").strip()).isdigit():
        return int(value)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(cores - 1, 0)


def store_in_child() -> bool:
    """Whether a crawl stores in an ingest process (crawler.ingestproc): when there is a core to spare
    (``extract_workers``), unless ``NEWSMON_INGEST_PROCESS=0``."""
    return os.environ.get("NEWSMON_INGEST_PROCESS", "").strip() != "0" and extract_workers() > 0


def database_url(db: Database) -> str | None:
    """The URL a child process can open the same database with; None for an in-memory SQLite."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def child_entry(jobs: Connection, replies: Connection, url: str, rules_file: str, verbosity: int) -> None:
    """The child's target: the ingest process's modules are imported here, in the child."""
    from crawler.ingestproc import child_main

    child_main(jobs, replies, url, rules_file, verbosity)


def ingest_target(db: Database, rules: RuleSet) -> IngestTarget | None:
    """What a crawl on ``db`` with ``rules`` starts its ingest child with; None when it stores in its
    own process: no core to spare, a database a child cannot open (in-memory SQLite), or rules not
    read from a file."""
    url, path = database_url(db), Path(rules.file)
    if not store_in_child() or url is None or not path.is_file():
        return None
    return IngestTarget(url, str(path.resolve()))


def many_articles_expected(db: Database, source_names: Sequence[str], refetch: bool, backfill: int | None) -> bool:
    """Whether a crawl will likely store many articles (its ingest child is then started early): a
    source never crawled successfully (all its articles are new), or known articles fetched again, or
    list pages followed past the known ones."""
    if refetch or backfill:
        return True
    with db.engine.connect() as connection:
        return any(connection.execute(_CRAWLED_OK, {"name": name}).first() is None for name in source_names)


# One indexed lookup a source, stopping at its first successful run: crawl_runs grows by a row a source
# a crawl (a daemon's hourly crawls of 1,000 columns: ~9 million rows a year), so nothing scans it whole.
_CRAWLED_OK = text("SELECT 1 FROM crawl_runs WHERE source_name = :name AND status = 'ok' LIMIT 1")


def early_child(
    target: IngestTarget | None, db: Database, source_names: Sequence[str], refetch: bool, backfill: int | None
) -> LaunchedChild | None:
    """The ingest child, started now when the crawl stores in one (``target``, from ``ingest_target``)
    and many articles are expected; None otherwise (it then starts, if at all, past the first
    ``STORE_HERE_FIRST``)."""
    if target is None or not many_articles_expected(db, source_names, refetch, backfill):
        return None
    return launch_ingest_child(target)


def launch_ingest_child(target: IngestTarget) -> LaunchedChild | None:
    """Start an ingest child; None if no process is to be had (the error is logged, and the crawl
    stores in its own process: nothing is lost)."""
    try:
        return _launch(target.url, target.rules_file)
    except Exception as exc:  # fork refused, out of memory
        logger.opt(exception=exc).error("the ingest process could not start: storing in the crawl process")
        return None


def _launch(url: str, rules_file: str) -> LaunchedChild:
    # forkserver: the child is not forked from a process with the reactor's threads and sockets.
    context = get_context("forkserver")
    jobs_r, jobs_w = context.Pipe(duplex=False)
    replies_r, replies_w = context.Pipe(duplex=False)
    _enlarge(jobs_w.fileno())
    _enlarge(replies_r.fileno())
    args = (jobs_r, replies_w, url, rules_file, current_verbosity())
    process = context.Process(target=child_entry, args=args, name="newsmon-ingest", daemon=True)
    process.start()
    jobs_r.close()
    replies_w.close()  # the child's end is now the only writer: its exit is our EOF
    logger.info("storing in an ingest process (pid {})", process.pid)
    return LaunchedChild(process, _own_fd(jobs_w), _own_fd(replies_r))


def _own_fd(connection: Connection) -> int:
    """The pipe end as a file descriptor of our own (the Connection object closes its copy)."""
    fd = os.dup(connection.fileno())
    connection.close()
    return fd


def _enlarge(fd: int) -> None:
    """Ask for a bigger pipe buffer (best effort)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size
        pass
