"""The near-duplicate index: MinHash LSH band keys persisted in the database.

Every stored article's text is fingerprinted (``crawler.dedup.minhash``) and its BANDS band keys are
written to ``neardup_bands`` in the article's own transaction. A new article's candidates are the
stored articles sharing a band key (one indexed ``IN`` query, the same on SQLite and PostgreSQL, from
any process, with nothing to load at start); each candidate is then verified by the exact Jaccard
similarity of the two texts' shingle sets, so the LSH only decides what is compared, never what matches.

A candidate above the threshold is still not a duplicate when the new text states an amount (digits +
亿/万) the stored one lacks: a templated report of another signing must be extracted, not dropped.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from loguru import logger
from sqlalchemy import Table, bindparam, delete, func, insert, select
from sqlalchemy.orm import Session

from crawler.dedup.minhash import BANDS, MIN_HITS, U64, Fingerprint, fingerprint, jaccard, money_figures, shingles
from crawler.store import driver
from crawler.store.db import driver_rows, paramstyle_mark
from crawler.store.schema import ArticleRow, NearDupBandRow

_HITS = func.count().label("hits")
_KEY_PARAMS = [f"k{i}" for i in range(BANDS)]
# The candidate query runs for every new article, so it skips SQLAlchemy's statement machinery (which costs
# more than SQLite's own work) where the driver's parameter style is known; the statement is the fallback.
_CANDIDATES = (
    select(NearDupBandRow.article_id, _HITS)
    .where(NearDupBandRow.band_key.in_([bindparam(name) for name in _KEY_PARAMS]))
    .group_by(NearDupBandRow.article_id)
    .having(_HITS >= MIN_HITS)
    .order_by(_HITS.desc(), NearDupBandRow.article_id)
    .limit(bindparam("limit"))
)
_INSERT_BANDS = insert(cast(Table, NearDupBandRow.__table__))
_TEXTS = select(ArticleRow.id, ArticleRow.text, ArticleRow.duplicate_of).where(
    ArticleRow.id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class NearDupSettings:
    threshold: float = 0.8  # Jaccard similarity of the folded texts' 4-character shingles
    min_chars: int = 100  # shorter folded texts are only matched exactly (content hash)
    max_candidates: int = 10  # stored articles verified per new one, most shared bands first


@dataclass(frozen=True)
class NearDupMatch:
    original_id: int  # the article it duplicates (the root: never itself a duplicate)
    matched_id: int  # the stored article whose text it resembles (the original or another reprint)
    similarity: float


def find_near_duplicate(
    session: Session, fp: Fingerprint, text: str, settings: NearDupSettings, label: str = ""
) -> NearDupMatch | None:
    """The stored article this text reprints, or None. ``label`` names the new article in the log."""
    if fp.signature is None or fp.folded_chars < settings.min_chars:
        return None
    ranked = candidates(session, fp.keys, settings.max_candidates)
    if not ranked:
        return None
    stored = _stored_texts(session, ranked)
    held = StoredShingles.of(session)
    figures: set[str] | None = None
    for cand_id in ranked:
        if cand_id not in stored:
            continue
        stored_text, dup_of = stored[cand_id]
        similarity = jaccard(fp.hashes, held.shingles(cand_id, stored_text))
        if similarity < settings.threshold:
            logger.debug(
                "near-dup: {} vs #{}: similarity {:.3f} below {}", label, cand_id, similarity, settings.threshold
            )
            continue
        figures = money_figures(text) if figures is None else figures
        extra = figures - money_figures(stored_text)
        if extra:
            logger.info(
                "near-dup: {} resembles #{} ({:.3f}) but states amounts it lacks {}: kept as new",
                label, cand_id, similarity, sorted(extra),
            )  # fmt: skip
            continue
        original = dup_of if dup_of is not None else cand_id
        logger.info("near-dup: {} is a reprint of #{} (similar to #{}: {:.3f})", label, original, cand_id, similarity)
        return NearDupMatch(original, cand_id, similarity)
    return None


class StoredShingles:
    """The shingles of the stored texts last verified against, kept with the driver's connection
    (``Connection.info``): the same stored articles keep coming back as candidates (templated reports
    share bands), and shingling a text cost more than reading it.

    An entry is used only for the very text it was computed from (compared with the text just read,
    which is still needed for the amounts): SQLite gives a rolled-back article's id to the next one,
    so the id alone does not name a text. Least recently used entries go past ``BYTES``."""

    _INFO = "newsmon.stored_shingles"
    BYTES = 16 << 20  # texts and hashes held at most (~1,000 articles of the bench mirror)

    def __init__(self) -> None:
        self._held: OrderedDict[int, tuple[str, U64]] = OrderedDict()
        self._bytes = 0

    @classmethod
    def of(cls, session: Session) -> StoredShingles:
        info = session.connection().info
        held = info.get(cls._INFO)
        if held is None:
            held = info[cls._INFO] = cls()
        return held

    def shingles(self, article_id: int, text: str) -> U64:
        """``shingles(text)`` of the stored article ``article_id``."""
        entry = self._held.get(article_id)
        if entry is not None and entry[0] == text:
            self._held.move_to_end(article_id)
            return entry[1]
        return self.hold(article_id, text, shingles(text))

    def hold(self, article_id: int, text: str, hashes: U64) -> U64:
        """Hold ``hashes``, which are ``shingles(text)``, for the article ``article_id``."""
        entry = self._held.pop(article_id, None)
        if entry is not None:
            self._bytes -= _size(*entry)
        self._held[article_id] = (text, hashes)
        self._bytes += _size(text, hashes)
        while self._bytes > self.BYTES and len(self._held) > 1:
            _, dropped = self._held.popitem(last=False)
            self._bytes -= _size(*dropped)
        return hashes


def _size(text: str, hashes: U64) -> int:
    return sys.getsizeof(text) + hashes.nbytes


def _stored_texts(session: Session, ids: list[int]) -> dict[int, tuple[str, int | None]]:
    connection = session.connection()
    mark = paramstyle_mark(connection)
    if mark is None:
        rows: Iterable[Sequence[Any]] = connection.execute(_TEXTS, {"ids": ids})
    else:
        marks = ", ".join([mark] * len(ids))
        rows = driver_rows(connection, f"SELECT id, text, duplicate_of FROM articles WHERE id IN ({marks})", ids)
    return {row_id: (text, dup_of) for row_id, text, dup_of in rows}


def candidates(session: Session, keys: Sequence[int], limit: int) -> list[int]:
    """Stored articles sharing at least MIN_HITS band keys, most shared bands first."""
    if not keys:
        return []
    padded = (list(keys) * BANDS)[:BANDS]  # always BANDS keys (fewer only if two bands' keys collided)
    connection = session.connection()
    mark = paramstyle_mark(connection)
    if mark is None:
        rows: Iterable[Sequence[Any]] = connection.execute(
            _CANDIDATES, {**dict(zip(_KEY_PARAMS, padded, strict=True)), "limit": limit}
        )
    else:
        rows = driver_rows(connection, _candidate_sql(mark, limit), padded)
    return [article_id for article_id, _ in rows]


@lru_cache(maxsize=8)
def _candidate_sql(mark: str, limit: int) -> str:
    return (
        f"SELECT article_id, count(*) AS hits FROM {NearDupBandRow.__tablename__} "
        f"WHERE band_key IN ({', '.join([mark] * BANDS)}) GROUP BY article_id HAVING count(*) >= {MIN_HITS} "
        f"ORDER BY hits DESC, article_id LIMIT {int(limit)}"
    )


def index_article(session: Session, article_id: int, fp: Fingerprint, text: str | None = None) -> None:
    """Add an article's band keys to the index (in the caller's transaction); given its ``text``, whose
    fingerprint ``fp`` is, hold its shingles (``fp.hashes``) for when it is a later article's candidate."""
    index_many(session, [(article_id, fp)])
    if text is not None:
        StoredShingles.of(session).hold(article_id, text, fp.hashes)


def index_many(session: Session, items: Iterable[tuple[int, Fingerprint]]) -> int:
    rows = [{"band_key": key, "article_id": article_id} for article_id, fp in items for key in set(fp.keys)]
    if rows:  # on the table (Core), on the driver's cursor: the ORM's bulk insert path cost more than the statement
        driver.executemany(session.connection(), _INSERT_BANDS, rows)
    return len(rows)


def reindex(session: Session, batch: int = 1000) -> int:
    """Rebuild the whole index from the stored texts (after a SCHEME change). Returns articles indexed."""
    session.execute(delete(NearDupBandRow))
    done, last_id = 0, 0
    while True:
        chunk = session.execute(
            select(ArticleRow.id, ArticleRow.text).where(ArticleRow.id > last_id).order_by(ArticleRow.id).limit(batch)
        ).all()
        if not chunk:
            break
        index_many(session, ((article_id, fingerprint(text)) for article_id, text in chunk))
        done += len(chunk)
        last_id = chunk[-1][0]
    logger.info("near-dup index rebuilt: {} articles", done)
    return done
