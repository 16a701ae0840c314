"""Plain value types passed between the pure core functions.

Nothing here does I/O; storage rows live in ``crawler.store.schema``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class AmountKind(StrEnum):
    """What a money figure in an article measures. Only INVESTMENT can make a project alert."""

    INVESTMENT = "investment"  # one project's total or planned investment
    AGGREGATE = "aggregate"  # many projects summed, a city's yearly total, a threshold ("10亿元以上项目")
    OUTPUT_VALUE = "output_value"  # 产值
    REVENUE = "revenue"  # 营业收入, 销售额, 营收
    TAX = "tax"  # 纳税, 税收
    FUNDS_IN_PLACE = "funds_in_place"  # 到位资金
    PHASE = "phase"  # 一期投资: a share of a bigger project
    OTHER = "other"  # registered capital, completed investment, anything else


class Stage(StrEnum):
    """How far a project has got, in the order a project advances."""

    UNKNOWN = "unknown"
    PLANNED = "planned"
    SIGNED = "signed"
    STARTED = "started"
    COMPLETED = "completed"
    OPERATING = "operating"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


@dataclass(frozen=True, slots=True)
class Amount:
    """A money figure found in text, normalised to 亿元 CNY."""

    text: str  # the original wording, e.g. "超百亿", "7.37亿美元", "总投资2亿"
    value_yi: Decimal | None  # None when the digits were lost to scraping damage
    currency: str  # ISO code of the original figure: CNY, USD, EUR, HKD ...
    approximate: bool  # 超/近/约/逾/余/多: value_yi is the stated bound
    kind: AmountKind
    start: int  # offsets of ``text`` in the text given to the rules
    end: int


@dataclass(frozen=True, slots=True)
class Project:
    """One investment project as one article words it (a *mention* once stored)."""

    name: str  # as the article words it (original script)
    company: str | None
    investment_yi: Decimal | None  # total investment in 亿元 CNY, None when the article gives none
    currency: str = "CNY"
    amount_text: str | None = None  # original wording of the amount
    approximate: bool = False
    stage: Stage = Stage.UNKNOWN
    phase: str | None = None  # 一期, 二期 ... when the amount is a phase's
    land_mu: Decimal | None = None
    capacity: str | None = None  # 年产... wording
    industry: str | None = None
    evidence: str = ""  # the sentence the project was found in


@dataclass(frozen=True, slots=True)
class Article:
    """The clean result of extracting one page (or one plain-text file)."""

    url: str | None
    title: str | None
    published: date | None  # the date the page or text carries; None when it carries none
    text: str  # clean main text, one paragraph per line, chrome removed, original script kept
    source: str | None = None  # the outlet the article credits (来源), if any
    date_from: str | None = None  # where ``published`` came from: meta, text, htmldate
    warnings: tuple[str, ...] = field(default_factory=tuple)  # decoding or parsing trouble worth a log line


@dataclass(frozen=True)
class FetchedPage:
    """An article page as downloaded: what extraction starts from (in the crawl process, the ingest
    process or a worker, so it lives here, away from the crawl's heavier modules)."""

    url: str
    body: bytes
    content_type: str | None
    source_name: str
    region: str | None
    fetched_at: datetime
