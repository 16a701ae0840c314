"""Storing with what ingestion holds between articles (crawler.projects.known: projects, candidate
lookups and sets, alerts; crawler.dedup.neardup.StoredShingles: stored texts' shingles) writes exactly
the rows the plain reads write, on SQLite and PostgreSQL: through group commits, a bad article that
rolls its group back, and another connection writing in between."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crawler.groupwrite as groupwrite
from crawler.config import AlertRule, load_config
from crawler.dedup import neardup
from crawler.dedup.minhash import fingerprint, shingles
from crawler.groupwrite import GroupWriter
from crawler.ingest import IngestOutcome, IngestSettings, PageRecord, ingest_page
from crawler.projects import KnownProjects
from crawler.projects.candidates import candidate_rows, close_among
from crawler.projects.lookups import HeldLookups
from crawler.store import open_database
from crawler.store.db import Database
from tests.conftest import REPO
from tests.test_dedup_ingest import seed_000_variants
from tests.test_driver_writes import contents, mirror_records


@pytest.fixture(scope="module")
def settings() -> IngestSettings:
    config = load_config(REPO / "config")
    return IngestSettings(
        config.rules, (AlertRule(), AlertRule("small", Decimal(1))), ("mail", "hook"), config.app.matching
    )


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, settings: IngestSettings) -> list[PageRecord]:
    return mirror_records(tmp_path_factory.mktemp("mirror"), 4, 60, settings)


def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing held between reads: every lookup, row, alert and shingle set read or computed again."""

    def close(self: HeldLookups, connection: Any, names: Any, held: tuple[str, str | None, float]) -> list[int]:
        key, firm, floor = held
        ids, found, _ = candidate_rows(connection, names, key, firm)
        return close_among(key, ids, found, floor)

    monkeypatch.setattr(HeldLookups, "close", close)
    for name in ("likely", "state", "queued"):
        held = getattr(KnownProjects, name)

        def forgetting(self: KnownProjects, *args: Any, _held: Any = held) -> Any:
            self.forget()
            return _held(self, *args)

        monkeypatch.setattr(KnownProjects, name, forgetting)
    monkeypatch.setattr(neardup.StoredShingles, "shingles", lambda self, article_id, text: shingles(text))


def store(db: Database, records: list[PageRecord], settings: IngestSettings, url: str) -> list[IngestOutcome]:
    """In groups of 7; the 30th article fails after its statements (its group is stored again without
    it, then it alone); after the 60th, another connection stores articles of its own."""
    writer = GroupWriter(db, size=7, max_age_s=3600)
    outcomes = []
    try:
        for n, record in enumerate(records):
            if n == 30:
                with pytest.raises(RuntimeError):
                    writer.ingest(record, settings)
            outcomes.append(writer.ingest(record, settings))
            if n == 60:
                writer.commit()
                other = open_database(url, migrate=False)
                for extra in records[-12:]:
                    ingest_page(other, extra, settings)
                other.close()
    finally:  # also when failing: an open group holds PostgreSQL's ingest lock, which every test takes
        writer.commit()
    return outcomes


def test_held_reads_write_the_rows_plain_reads_write(
    two_urls: tuple[str, str], records: list[PageRecord], settings: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = groupwrite.ingest_in
    armed: list[bool] = []

    def failing(session: Any, record: PageRecord, s: IngestSettings) -> IngestOutcome:
        outcome = real(session, record, s)
        if record.url == records[30].url and armed:  # the first time in each run
            armed.clear()
            raise RuntimeError("a bug, after the article's statements")
        return outcome

    monkeypatch.setattr(groupwrite, "ingest_in", failing)
    runs = []
    for n, url in enumerate(two_urls):
        armed.append(True)
        if n == 1:
            plain(monkeypatch)
        db = open_database(url)
        outcomes = store(db, records, settings, url)
        runs.append(([(o.status, o.article_id, o.duplicate_of, o.alerts_created) for o in outcomes], contents(db)))
        db.close()
        assert {o.status for o in outcomes} == {"new", "duplicate", "known"}
    (held, held_rows), (read, read_rows) = runs
    assert held == read
    projects, mentions = len(held_rows["projects"][0]), len(held_rows["project_mentions"][0])
    assert 10 < projects < mentions  # projects merged: what is held was used
    for table, rows in held_rows.items():
        assert rows[0], f"nothing written to {table}: the comparison would prove nothing"
        assert rows == read_rows[table], table


def test_held_shingles_are_the_texts_shingles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    texts = ["\n".join(body) for _title, body in seed_000_variants().values()]
    held = neardup.StoredShingles()
    for n, text in enumerate(texts):
        assert np.array_equal(held.hold(n, text, fingerprint(text).hashes), shingles(text))  # what ingestion holds
    for n, text in enumerate(texts):
        assert np.array_equal(held.shingles(n, text), shingles(text))
    assert np.array_equal(held.shingles(0, texts[1]), shingles(texts[1]))  # an id given again: another text
    monkeypatch.setattr(neardup.StoredShingles, "BYTES", 1)  # past the bound, the oldest go
    for n, text in enumerate(texts):
        assert np.array_equal(held.shingles(n + 10, text), shingles(text))
    assert len(held._held) == 1
