"""The ingest process: storing beside the crawl, and extraction wherever a core is free.

Why a process: the crawl process's reactor thread was the bottleneck (bench/README.md). Storing took
more than half of it while the extraction worker idled half the time, and a storing *thread* was
slower still (its Python and Scrapy's take turns holding the GIL). So a crawl on a machine with a
core to spare stores in a child process, the one database writer (``GroupWriter``, group commits as
before). The child also extracts each page the crawl process hands it raw; the crawl process
extracts a page itself only while the child is behind (``IngestProcess.busy``), so both cores stay
busy whichever side is slower on a given crawl. When the child starts is ``crawler.ingestlaunch``'s
note: early for a crawl expected to store many articles, else after the first ``STORE_HERE_FIRST``,
which the crawl process stores itself.

Protocol, over two one-way pipes (EOF on either side ends the other):

- crawl process -> child: ``("settings", key, SourceSettings)`` once per source run, then
  ``("page", seq, key, FetchedPage | PageRecord)`` per article, ``("stop",)`` at the end.
- child -> crawl process: a ``Reply`` per page, right after its statements (what ``GroupWriter.ingest``
  returned in-process), and after each commit ``("settled", [(seq, committed?), ...])``.

The child reads and writes them with ``multiprocessing`` Connections; the crawl process with the
reactor, framed the same way (``crawler.pipes``).

What "stored" means does not change: an article is stored once its group commits. The crawl process
keeps every page it sent until the child says its group was committed. If the child dies, the pages
it had not answered and those it had answered but not yet committed are stored by the crawl process
itself (its own ``GroupWriter``), as they would be without a child; nothing is lost. A commit that
fails in the child counts its articles ``lost``, as in-process: that run keeps no list-page validators.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import defer

from crawler.config import AlertRule, ProjectMatching
from crawler.groupwrite import GroupWriter
from crawler.heap import settle_after_startup
from crawler.ingest import IngestOutcome, IngestSettings, PageRecord, page_record
from crawler.ingestlaunch import IngestTarget, LaunchedChild, launch_ingest_child
from crawler.logsetup import setup_logging
from crawler.models import FetchedPage
from crawler.pipes import FrameReader, FrameWriter, exchange
from crawler.rules import RuleSet, load_ruleset_file
from crawler.store.db import open_database
from crawler.workers import warm_up_extraction

# The child is behind (the crawl process then extracts pages itself) from this many pages, or bytes of
# them, sent and not answered. The bytes stay well under Scrapy's SCRAPER_SLOT_MAX_ACTIVE_SIZE (5 MB):
# past that Scrapy stops handing over responses, and a crawl process waiting on it would sit idle.
BUSY_PAGES = 64
BUSY_BYTES = 2_000_000
STOP_TIMEOUT_S = 120.0  # the child's last commit and exit after the crawl
# A crawl without an early child stores this many articles itself before it starts one: about what the
# crawl process stores in the child's start-up time (~1 s of imports and rules on the bench machine).
STORE_HERE_FIRST = 50


class IngestProcessGone(Exception):
    """The ingest process died (or was never started): store in the crawl process."""


@dataclass(frozen=True)
class SourceSettings:
    """``IngestSettings`` without the rules, which the child reads from the rules file (a RuleSet
    does not pickle)."""

    alert_rules: tuple[AlertRule, ...]
    channels: tuple[str, ...]
    matching: ProjectMatching
    run_id: int | None

    @classmethod
    def of(cls, settings: IngestSettings) -> SourceSettings:
        return cls(settings.alert_rules, settings.channels, settings.matching, settings.run_id)

    def with_rules(self, rules: RuleSet) -> IngestSettings:
        return IngestSettings(rules, self.alert_rules, self.channels, self.matching, self.run_id)


@dataclass(frozen=True)
class Reply:
    """What became of one page in the child: its outcome, or the error that kept it from being stored."""

    seq: int
    outcome: IngestOutcome | None
    error: str | None = None
    title: str | None = None
    warnings: tuple[str, ...] = ()  # the extraction's, when the child extracted the page


# ------------------------------------------------------------------------------------------ the child


def child_main(jobs: Connection, replies: Connection, url: str, rules_file: str, verbosity: int) -> None:
    """The child process: log as the crawl process does, leave Ctrl-C to it (it stops us cleanly),
    load and warm up extraction before the first page comes, serve."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup_logging(verbosity)
    rules = load_ruleset_file(Path(rules_file))
    warm_up_extraction(rules)
    settle_after_startup()
    serve(jobs, replies, url, rules)


def serve(jobs: Connection, replies: Connection, url: str, rules: RuleSet) -> None:
    """The child's loop: store pages as they come, commit groups by size or age, stop on EOF or "stop"."""
    writer = GroupWriter(open_database(url, migrate=False))
    settings: dict[str, IngestSettings] = {}
    try:
        while True:
            if not jobs.poll(writer.max_age_s / 2):
                writer.commit_if_old()
            else:
                try:
                    message = jobs.recv()
                except EOFError:  # the crawl process is gone: what we hold is whole articles, keep them
                    break
                if message[0] == "stop":
                    break
                if message[0] == "settings":
                    settings[message[1]] = message[2].with_rules(rules)
                else:
                    _, seq, key, item = message
                    replies.send(_store(writer, seq, item, settings[key]))
            _report_settled(writer, replies)
    finally:
        writer.commit()
        _report_settled(writer, replies)
        replies.close()


def _report_settled(writer: GroupWriter, replies: Connection) -> None:
    if writer.settled:
        replies.send(("settled", writer.settled))
        writer.settled = []


def _store(writer: GroupWriter, seq: int, item: FetchedPage | PageRecord, settings: IngestSettings) -> Reply:
    warnings: tuple[str, ...] = ()
    try:
        record = item if isinstance(item, PageRecord) else page_record(item, settings.rules)
        if isinstance(item, FetchedPage):
            warnings = record.article.warnings
        outcome = writer.ingest(record, settings, seq)
    except SQLAlchemyError as exc:
        return Reply(seq, None, f"database error: {exc}")
    except Exception as exc:  # a bug on one page must not end the crawl's storing: the page is reported
        logger.opt(exception=exc).error("{}: not stored", item.url)
        return Reply(seq, None, f"{type(exc).__name__}: {exc}")
    return Reply(seq, outcome, title=record.article.title, warnings=warnings)


# ---------------------------------------------------------------------------------- the crawl process


class IngestProcess:
    """The crawl process's end: starts the child, sends it pages, fires each page's Deferred with its
    ``Reply``. The pipes are non-blocking and served by the reactor itself (``crawler.pipes``): the
    reactor never blocks on a full pipe, and no thread has to win the GIL back from it."""

    def __init__(self, target: IngestTarget, writer: GroupWriter, child: LaunchedChild | None = None) -> None:
        self.target = target
        self.child = child  # started early (crawler.ingestlaunch), or with the first page sent
        self.writer = writer  # the crawl process's own: stores what a dead child left unsettled
        self.lost: Counter[str] = Counter()  # articles per source whose group failed to commit in the child
        self._seq = 0
        self._backlog: dict[int, int] = {}  # bytes of each page sent and not answered
        self._backlog_bytes = 0
        self._keys: set[str] = set()
        self._waiting: dict[int, defer.Deferred[Reply]] = {}  # sent, not answered
        self._unsettled: dict[int, tuple[FetchedPage | PageRecord, IngestSettings]] = {}  # sent, not committed
        self._jobs: FrameWriter | None = None
        self._replies: FrameReader | None = None
        self._gone = False  # the child died, or the crawl has ended
        self._stored_here = 0  # articles stored by this process before a child was started
        self._closing = False  # the reactor has stopped: replies settle pages, they fire nothing

    def _attach(self) -> tuple[FrameWriter, FrameReader] | None:
        """The child, started now if it was not, and its pipes on the reactor: with the first page,
        since an early child starts before Scrapy has installed its reactor (importing
        ``twisted.internet.reactor`` any sooner would install another). None: no child to be had."""
        if self._jobs is None or self._replies is None:
            if self.child is None:
                self.writer.commit()  # what was stored here first: the child then writes alone
                self.child = launch_ingest_child(self.target)
            if self.child is None:
                self._gone = True
                return None
            reactor = _reactor()
            self._jobs = FrameWriter(self.child.jobs_fd, reactor)
            self._replies = FrameReader(self.child.replies_fd, self._on_message, self._on_end)
            reactor.addReader(self._replies)
        return self._jobs, self._replies

    def takes_next(self) -> bool:
        """Whether the next article goes to the child (called once per article to store). A crawl
        whose child was not started early (a re-crawl) stores its first ``STORE_HERE_FIRST`` new
        articles itself: a re-crawl finding a few pays neither the child's start-up nor the wait for
        it; past them, the child starts, once this process has committed what it stored."""
        if self._gone:
            return False
        if self.child is None and self._stored_here < STORE_HERE_FIRST:
            self._stored_here += 1
            return False
        return True

    @property
    def extracts(self) -> bool:
        """Whether the child should be sent pages raw (it extracts them): it runs and is not behind."""
        return self.child is not None and not self._gone and not self.busy

    @property
    def busy(self) -> bool:
        """Whether the child is behind: the crawl process then extracts pages before sending them."""
        return len(self._backlog) >= BUSY_PAGES or self._backlog_bytes >= BUSY_BYTES

    def submit(self, item: FetchedPage | PageRecord, settings: IngestSettings) -> defer.Deferred[Reply]:
        """Send a page to the child (reactor thread). Fails with IngestProcessGone if the child died."""
        pipes = None if self._gone else self._attach()
        if pipes is None:
            return defer.fail(IngestProcessGone("the ingest process is not running"))
        jobs, _ = pipes
        key = f"{item.source_name}#{settings.run_id}"
        if key not in self._keys:
            self._keys.add(key)
            jobs.send(("settings", key, SourceSettings.of(settings)))
        self._seq += 1
        size = len(item.body) if isinstance(item, FetchedPage) else 3 * len(item.article.text)
        self._backlog[self._seq] = size
        self._backlog_bytes += size
        waiting: defer.Deferred[Reply] = defer.Deferred()
        self._waiting[self._seq] = waiting
        self._unsettled[self._seq] = (item, settings)
        jobs.send(("page", self._seq, key, item))
        return waiting

    def close(self) -> None:
        """After the crawl (the reactor stopped): the child commits its last group and exits."""
        if self._closing:
            return
        self._gone = self._closing = True  # nothing is sent after this, and no child starts
        if self.child is None:
            return
        process = self.child.process
        if self._jobs is None or self._replies is None:  # sent nothing: it holds nothing, and may
            logger.debug("the ingest process had nothing to store: stopped")  # still be starting up
            process.terminate()
        else:
            _off_reactor(self._replies)
            if not exchange(self._jobs, self._replies, ("stop",), STOP_TIMEOUT_S):
                logger.error("the ingest process did not stop in {:.0f} s: killed", STOP_TIMEOUT_S)
                process.kill()
        process.join()
        os.close(self.child.jobs_fd)
        os.close(self.child.replies_fd)
        self._store_unsettled()

    def _on_message(self, message: Reply | tuple[str, list[tuple[int, bool]]]) -> None:
        if not isinstance(message, Reply):
            self._settle(message[1])
            return
        self._backlog_bytes -= self._backlog.pop(message.seq, 0)
        if message.outcome is None:  # not stored: the pipeline reports it, nothing to wait for
            self._unsettled.pop(message.seq, None)
        waiting = self._waiting.pop(message.seq, None)
        if waiting is not None and not self._closing:
            waiting.callback(message)

    def _on_end(self) -> None:
        """The reactor saw the replies pipe end while the crawl runs: the child died."""
        self._gone = True
        if not self._closing:
            self._child_died()

    def _settle(self, settled: list[tuple[int, bool]]) -> None:
        for seq, committed in settled:
            item, _ = self._unsettled.pop(seq, (None, None))
            if item is not None and not committed:
                self.lost[item.source_name] += 1

    def _child_died(self) -> None:
        """Store here what the child took but did not commit; unanswered pages go back to the
        pipelines, which store them here too."""
        waiting, self._waiting = self._waiting, {}
        for seq in waiting:
            self._unsettled.pop(seq, None)
        logger.error("the ingest process died: storing in the crawl process from now on")
        self._store_unsettled()
        for deferred in waiting.values():
            deferred.errback(IngestProcessGone("the ingest process died"))

    def _store_unsettled(self) -> None:
        unsettled, self._unsettled = self._unsettled, {}
        if unsettled:
            logger.warning("storing {} articles the ingest process had not committed", len(unsettled))
        for item, settings in unsettled.values():
            store_here(self.writer, item, settings)


def _reactor() -> Any:
    """The running reactor. Imported here: importing it installs one, and Scrapy installs its own first."""
    from twisted.internet import reactor

    return reactor


def _off_reactor(reader: FrameReader) -> None:
    with contextlib.suppress(Exception):  # the loop is already closed: nothing is registered any more
        _reactor().removeReader(reader)


def store_here(writer: GroupWriter, item: FetchedPage | PageRecord, settings: IngestSettings) -> None:
    """Store a page the child took and did not commit, in the crawl process (not tallied again)."""
    try:
        record = item if isinstance(item, PageRecord) else page_record(item, settings.rules)
        writer.ingest(record, settings)
    except SQLAlchemyError as exc:
        writer.lost[item.source_name] += 1
        logger.error("{} not stored: {}; the next crawl fetches it again", item.url, exc)
