"""Group commits: a crawl stores its articles in transactions of several articles, not one each.

A commit, and the write lock every ingest transaction takes first (``crawler.ingest.lock_for_ingest``),
cost more than most articles' own statements (bench/README.md). ``GroupWriter`` keeps one transaction
open for up to ``size`` articles or ``max_age_s`` seconds; ``run_crawl`` also commits it on a timer,
so the write lock is never held while the crawl waits for pages, and once more when the crawl ends.

What "stored" means does not change: an article is stored, and its URL seen, once its group is
committed. A process that dies first stores none of the group, and the next crawl fetches those
articles again. An article that fails rolls its group back; the group's other articles are then
stored again in a new group, so a bad article costs only itself. A commit that fails loses the
group: ``lost`` counts its articles per source, so that run keeps no list-page validators (else
the next crawl would get a 304 and never see those links again).
"""

from __future__ import annotations

import time
from collections import Counter

from loguru import logger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crawler.ingest import IngestOutcome, IngestSettings, PageRecord, ingest_in, lock_for_ingest
from crawler.store.db import Database

GROUP_SIZE = 50  # articles a transaction at most
GROUP_AGE_S = 1.0  # seconds a transaction (and the write lock) is held at most while articles come in


class GroupWriter:
    def __init__(self, db: Database, size: int = GROUP_SIZE, max_age_s: float = GROUP_AGE_S) -> None:
        self.db, self.size, self.max_age_s = db, max(size, 1), max_age_s
        self.lost: Counter[str] = Counter()  # articles per source whose group could not be committed
        # (tag, committed?) of each tagged article whose group ended: the ingest process tells the crawl
        # process which of the pages it sent are stored (crawler.ingestproc), draining this list.
        self.settled: list[tuple[int, bool]] = []
        self._session: Session | None = None
        self._opened = 0.0
        self._group: list[tuple[PageRecord, IngestSettings, int | None]] = []

    def ingest(self, page: PageRecord, settings: IngestSettings, tag: int | None = None) -> IngestOutcome:
        """Store the article in the open group (opened, with the write lock, if none is).

        Raises the article's own error, after storing the rest of its group again: a database error,
        or any other (a bug), which may also have come after some of the article's statements."""
        session = self._open()
        try:
            outcome = ingest_in(session, page, settings)
        except Exception:
            self._store_again_without(page)
            raise
        self._group.append((page, settings, tag))
        if len(self._group) >= self.size or time.monotonic() - self._opened >= self.max_age_s:
            self.commit()
        return outcome

    def commit(self) -> None:
        """Commit the open group, if any."""
        session, group = self._session, self._group
        self._session, self._group = None, []
        if session is None:
            return
        committed = False
        try:
            session.commit()
            committed = True
        except SQLAlchemyError as exc:
            self.lost.update(page.source_name for page, _, _ in group)
            logger.error("{} articles not stored: {}; the next crawl fetches them again", len(group), exc)
        finally:
            session.close()
            self.settled.extend((tag, committed) for _, _, tag in group if tag is not None)

    def commit_if_old(self) -> None:
        """The timer's call: commit a group held open ``max_age_s`` or longer (no article came since)."""
        if self._session is not None and time.monotonic() - self._opened >= self.max_age_s:
            self.commit()

    def _open(self) -> Session:
        if self._session is None:
            session = self.db.session()
            session.begin()
            try:
                lock_for_ingest(session)
            except SQLAlchemyError:
                session.close()
                raise
            self._session, self._opened = session, time.monotonic()
        return self._session

    def _store_again_without(self, failed: PageRecord) -> None:
        session, group = self._session, self._group
        self._session, self._group = None, []
        if session is not None:
            session.rollback()
            session.close()
        if group:
            logger.warning("{} failed: storing the {} other articles of its group again", failed.url, len(group))
        for page, settings, tag in group:
            try:
                self.ingest(page, settings, tag)
            except SQLAlchemyError as exc:
                self.lost[page.source_name] += 1
                if tag is not None:
                    self.settled.append((tag, False))
                logger.error("{} not stored: {}; the next crawl fetches it again", page.url, exc)
