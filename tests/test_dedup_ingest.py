"""Near duplicates and project identity through ingestion, on SQLite and PostgreSQL (no crawler).

Seed 000 is reprinted by three sites with other titles and small edits, one in Traditional script:
one article, two linked duplicates, one alert for 双良. A later report of the same project advances its
stage and adds a mention, never a second alert.
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import opencc
import pytest
from sqlalchemy import func, select

from crawler.config import AlertRule, ProjectMatching, load_config
from crawler.dedup.neardup import find_near_duplicate
from crawler.extract import split_plain_text
from crawler.ingest import IngestOutcome, IngestSettings, PageRecord, ingest_page
from crawler.models import Article
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, NearDupBandRow, ProjectRow

REPO = Path(__file__).resolve().parent.parent
SEED_000 = REPO / "seeds" / "000_1430e31fc2ec91a0.txt"

SIGNED = (
    "本报讯 3月18日，包头稀土高新区与双良集团举行40GW单晶硅项目签约仪式。"
    "双良集团40GW单晶硅项目总投资超百亿元，建成后将形成年产硅片40亿片的生产能力。"
)
STARTED = "本报讯 5月6日，双良集团40GW单晶硅项目在包头稀土高新区开工建设，该项目总投资超百亿元。"
OPERATING = (
    "本报讯（记者 李明）12月28日，位于包头稀土高新区的双良集团40GW单晶硅项目全面投产。"
    "该项目总投资超百亿元，是2021年包头市重点招商引资项目，从奠基开工到全面投产仅用时一年。\n"
    "项目负责人介绍，目前160台单晶炉已全部投入生产，产品供不应求。"
)


def seed_000() -> tuple[str, list[str], list[str]]:
    """Seed 000's headline, its paragraphs, and the spam mirror's footer lines."""
    parts = split_plain_text(SEED_000.read_text(encoding="utf-8"))
    assert parts.headline
    body = [line.strip() for line in parts.body if line.strip()]
    return parts.headline.split(" -")[0].strip(), body[:-2], body[-2:]


def seed_000_variants() -> dict[str, tuple[str, list[str]]]:
    """(title, paragraphs) as three sites publish the story: the original, a spam mirror, a Traditional reprint."""
    headline, body, spam = seed_000()
    mirror = [p.replace("如火如荼", "热火朝天").replace("初冬时节,寒意渐浓,", "") for p in body] + spam
    s2t = opencc.OpenCC("s2t")
    reprint = ["（記者 王某 通訊員 李某）"] + [
        str(s2t.convert(p)) for p in body if not p.startswith("优质的产业项目从哪里来")
    ]
    return {
        "nmg": (headline, body),
        "mirror": (f"{headline} -人生就是搏尊龙", mirror),
        "hk": (f"{s2t.convert(headline)}_新聞中心", reprint),
    }


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


@pytest.fixture
def settings(config_dir: Path) -> IngestSettings:
    config = load_config(config_dir)
    return IngestSettings(config.rules, (AlertRule(),), ("mail", "hook"), ProjectMatching())


def page(url: str, title: str, text: str, when: datetime = datetime(2021, 11, 26, 9)) -> PageRecord:
    article = Article(url, title, date(2021, 11, 25), text)
    return PageRecord(url, url.split("/")[2], "内蒙古自治区 包头市", article, "utf-8", when)


def count(db: Database, model: type, *where: object) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def shuangliang(db: Database) -> ProjectRow:
    with db.session() as s:
        [project] = s.scalars(select(ProjectRow).where(ProjectRow.name.contains("单晶硅"))).all()
        return project


def ingest_variants(db: Database, settings: IngestSettings) -> list[IngestOutcome]:
    hosts = {"nmg": "www.nmg.test", "mirror": "zl-mirror.test", "hk": "news.hk.test"}
    return [
        ingest_page(db, page(f"http://{hosts[site]}/a/{i}.html", title, "\n".join(body)), settings)
        for i, (site, (title, body)) in enumerate(seed_000_variants().items())
    ]


def test_three_sites_reprinting_seed_000_make_one_article_and_one_alert(db: Database, settings: IngestSettings) -> None:
    first, mirror, traditional = ingest_variants(db, settings)
    assert first.status == "new"
    assert (mirror.status, mirror.duplicate_of) == ("duplicate", first.article_id)
    assert (traditional.status, traditional.duplicate_of) == ("duplicate", first.article_id)
    assert mirror.projects == [] and traditional.projects == [] and mirror.alerts_created == 0
    project = shuangliang(db)
    assert project.investment_yi is not None and project.investment_yi >= 100
    assert count(db, AlertRow, AlertRow.project_id == project.id) == 2  # one per channel
    assert count(db, MentionRow, MentionRow.article_id != first.article_id) == 0  # duplicates not re-extracted
    assert count(db, ArticleRow) == 3


def test_later_reports_advance_the_stage_without_a_second_alert(db: Database, settings: IngestSettings) -> None:
    signed = ingest_page(db, page("http://a.test/1.html", "签约", SIGNED, datetime(2021, 3, 18)), settings)
    assert signed.alerts_created == 2 and shuangliang(db).stage == "signed"
    started = ingest_page(db, page("http://b.test/2.html", "开工", STARTED, datetime(2021, 5, 6)), settings)
    assert started.alerts_created == 0 and not any(p.new for p in started.projects)
    assert shuangliang(db).stage == "started"
    operating = ingest_page(db, page("http://c.test/3.html", "投产", OPERATING, datetime(2021, 12, 28)), settings)
    assert operating.status == "new" and operating.alerts_created == 0
    recap = ingest_page(db, page("http://d.test/4.html", "回顾", SIGNED + "（回顾）", datetime(2022, 1, 5)), settings)
    assert recap.alerts_created == 0
    project = shuangliang(db)
    assert project.stage == "operating"  # a recap of the signing does not move it back
    assert count(db, MentionRow, MentionRow.project_id == project.id) == 4
    assert count(db, AlertRow) == 2


def test_seed_000_then_a_report_of_operation(db: Database, settings: IngestSettings) -> None:
    ingest_variants(db, settings)
    later = ingest_page(db, page("http://www.nmg.test/a/9.html", "投产", OPERATING, datetime(2021, 12, 28)), settings)
    assert later.status == "new" and later.alerts_created == 0
    project = shuangliang(db)
    assert project.stage == "operating"
    assert count(db, MentionRow, MentionRow.project_id == project.id) == 2
    assert count(db, AlertRow, AlertRow.project_id == project.id) == 2


def test_the_index_survives_a_restart(database_url: str, settings: IngestSettings) -> None:
    headline, body, _ = seed_000()
    db = open_database(database_url)
    ingest_page(db, page("http://www.nmg.test/a/1.html", headline, "\n".join(body)), settings)
    db.close()
    again = open_database(database_url)  # another process: nothing in memory, the bands are in the database
    assert count(again, NearDupBandRow) == 25
    edited = "\n".join(p.replace("如火如荼", "热火朝天") for p in body[1:])
    outcome = ingest_page(again, page("http://other.test/x.html", headline, edited), settings)
    assert outcome.status == "duplicate"


def test_a_templated_report_with_other_figures_is_extracted(db: Database, settings: IngestSettings) -> None:
    headline, body, _ = seed_000()
    text = "\n".join(body)
    ingest_page(db, page("http://www.nmg.test/a/1.html", headline, text), settings)
    other = text.replace("总投资20亿元的金力永磁", "总投资25亿元的金力永磁")
    outcome = ingest_page(db, page("http://other.test/x.html", headline, other), settings)
    assert outcome.status == "new"  # 96% alike, but it states an amount the stored text does not
    assert not any(p.new for p in outcome.projects if "双良" in p.name)  # its known projects are merged


def test_short_and_unrelated_texts_are_not_near_duplicates(db: Database, settings: IngestSettings) -> None:
    short = "双良集团项目签约。"
    ingest_page(db, page("http://a.test/1.html", "a", short), settings)
    assert ingest_page(db, page("http://a.test/2.html", "b", short + "稀土"), settings).status == "new"
    headline, body, _ = seed_000()
    ingest_page(db, page("http://a.test/3.html", headline, "\n".join(body)), settings)
    other = (REPO / "seeds" / "002_8a03dec8ef9cc38d.txt").read_text(encoding="utf-8")
    assert ingest_page(db, page("http://a.test/4.html", "抚顺", other), settings).status == "new"


def test_a_reprint_of_a_reprint_links_to_the_original(db: Database, settings: IngestSettings) -> None:
    headline, body, _ = seed_000()
    first = ingest_page(db, page("http://a.test/1.html", headline, "\n".join(body)), settings)
    second_body = [p.replace("稀土高新区", "包头稀土高新区") for p in body[:-2]]
    second = ingest_page(db, page("http://b.test/1.html", headline, "\n".join(second_body)), settings)
    third_body = [p.replace("项目", "工程", 1) for p in second_body[2:]]
    third = ingest_page(db, page("http://c.test/1.html", headline, "\n".join(third_body)), settings)
    assert second.duplicate_of == first.article_id and third.duplicate_of == first.article_id


def test_concurrent_reprints_never_alert_twice(
    database_url: str, settings: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes ingest two copies at once; a failed one is fetched again by the next crawl."""
    from crawler import ingest

    def slow_lookup(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # both articles are being decided at the same time
        return find_near_duplicate(*args, **kwargs)

    monkeypatch.setattr(ingest, "find_near_duplicate", slow_lookup)
    variants = list(seed_000_variants().values())
    open_database(database_url).close()
    pages = [page(f"http://site{i}.test/a.html", t, "\n".join(b)) for i, (t, b) in enumerate(variants[:2])]
    failed: list[PageRecord] = []

    def worker(record: PageRecord) -> None:
        db = open_database(database_url, migrate=False)
        try:
            ingest_page(db, record, settings)
        except Exception:
            failed.append(record)  # e.g. SQLite's stale snapshot: nothing of the article is stored
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db = open_database(database_url)
    for record in failed:  # the next crawl
        ingest_page(db, record, settings)
    assert count(db, ArticleRow) == 2 and count(db, ArticleRow, ArticleRow.duplicate_of.is_not(None)) == 1
    project = shuangliang(db)
    assert count(db, AlertRow, AlertRow.project_id == project.id) == 2


def test_same_material_at_other_capacities_stays_apart_and_a_restatement_merges(
    db: Database, settings: IngestSettings
) -> None:
    """Capacity variants share every trigram and score high on the words; their numbers tell them apart
    (the candidate read skips them before scoring), while a later report of one of them still merges."""
    texts = [
        "本报讯 3月1日，金力永磁年产5000吨稀土永磁材料项目签约，该项目总投资12亿元。",
        "本报讯 4月1日，金力永磁年产20000吨稀土永磁材料项目签约，该项目总投资12亿元。",
        "本报讯 5月1日，金力永磁年产5000吨稀土永磁材料项目开工建设，该项目总投资12亿元。",
    ]
    pages = [page(f"http://www.nmg.test/c/{i}.html", f"t{i}", text) for i, text in enumerate(texts)]
    outcomes = [ingest_page(db, p, settings) for p in pages]
    first, other, again = ([p for p in o.projects if "稀土" in p.name] for o in outcomes)
    assert len(first) == len(other) == len(again) == 1
    assert first[0].new and other[0].new and first[0].project_id != other[0].project_id
    assert not again[0].new and again[0].project_id == first[0].project_id
    assert count(db, AlertRow, AlertRow.project_id == first[0].project_id) == 2  # one per channel, not four
