"""Which known project a new mention names: normalised names, fuzzy matching, company, region and amount.

Pure scoring (``match_score``) is separate from the database lookup (``find_project``) so the rules
can be tested without a database. Every decision, merge or not, is logged with its score and reasons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from loguru import logger
from rapidfuzz import fuzz, process
from sqlalchemy import Table, bindparam, or_, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crawler.config import ProjectMatching
from crawler.models import Project
from crawler.store.projectkeys import COMPANY_GRAM, NAME_GRAM
from crawler.store.schema import ProjectKeyRow, ProjectRow
from crawler.textnorm import fold

# Words that wrap a project's name without changing which project it is: "X项目" == "X建设项目" == "X".
_NAME_SUFFIXES = re.compile(r"(一期|二期|三期|四期)?(建设|新建|扩建|改扩建)?(项目|工程)?(一期|二期|三期)?$")
# Legal-form words that wrap a company's name: "双良集团" == "双良节能系统股份有限公司"'s 双良 part.
_COMPANY_FORMS = re.compile(r"(集团)?(控股)?(股份)?(有限责任|有限)?(公司)?$")
_NUMBER = re.compile(r"\d+")
_CANDIDATE_LIMIT = 500
_CONTAINED = 95.0  # name_similarity of a key of 6+ characters inside the other


@dataclass(frozen=True)
class Known:
    """What matching needs of a stored project (a row or a test double)."""

    name_key: str
    company: str | None
    region: str | None
    investment_yi: Decimal | None


@dataclass(frozen=True)
class MatchScore:
    score: float  # the name similarity (0-100) after the company, region and amount adjustments
    name: float
    reasons: tuple[str, ...]


def name_key(name: str, company: str | None) -> str:
    """The folded name with the company prefix and 项目/一期 suffixes removed."""
    key = fold(name)
    for prefix in _company_prefixes(company):
        if key.startswith(prefix) and len(key) > len(prefix) + 2:
            key = key[len(prefix) :]
            break
    stripped = _NAME_SUFFIXES.sub("", key)
    return stripped if len(stripped) >= 2 else key


def _company_prefixes(company: str | None) -> list[str]:
    """The company's folded name, then its core without 集团/股份有限公司: longest first."""
    if not company:
        return []
    folded = fold(company)
    core = company_key(company)
    return [p for p in dict.fromkeys((folded, core)) if len(p) >= 2]


def company_key(company: str) -> str:
    """The folded company name without its legal form: 双良集团 -> 双良, 三木集团股份有限公司 -> 三木."""
    folded = fold(company)
    core = _COMPANY_FORMS.sub("", folded)
    return core if len(core) >= 2 else folded


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two name keys are; containment of a reasonably long key counts as alike."""
    if a == b:
        return 100.0
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 6 and shorter in longer:
        return _CONTAINED
    return float(fuzz.ratio(a, b))


def _same_place(a: str, b: str) -> bool:
    return a in b or b in a


def match_score(key: str, mention: Project, region: str | None, known: Known, m: ProjectMatching) -> MatchScore:
    """How likely the mention names the known project, with the reasons for every adjustment."""
    name = name_similarity(key, known.name_key)
    numbers, known_numbers = _NUMBER.findall(key), _NUMBER.findall(known.name_key)
    if numbers and known_numbers and sorted(numbers) != sorted(known_numbers):
        # 年产5000吨 and 年产20000吨 of the same material are two projects however alike the words.
        return MatchScore(0.0, name, (f"numbers differ {numbers} vs {known_numbers}",))
    score: float = name
    reasons: list[str] = []
    if mention.company and known.company:
        if _same_place(company_key(mention.company), company_key(known.company)):
            score, reasons = score + m.company_bonus, [*reasons, "same company"]
        else:
            score, reasons = score - m.company_penalty, [*reasons, f"company {known.company} differs"]
    if region and known.region and not _same_place(region, known.region):
        score, reasons = score - m.region_penalty, [*reasons, f"region {known.region} differs"]
    if mention.investment_yi is not None and known.investment_yi is not None:
        a, b = sorted((Decimal(mention.investment_yi), Decimal(known.investment_yi)))
        if b > 0 and (b - a) / b <= Decimal(str(m.amount_tolerance)):
            score, reasons = score + m.amount_bonus, [*reasons, "same amount"]
        elif a > 0 and b / a > 2 and mention.phase is None:
            score, reasons = score - m.amount_penalty, [*reasons, f"amount {known.investment_yi} differs"]
    return MatchScore(score, name, tuple(reasons))


# The candidate queries, built once (one ran per mention) on the tables, not the mapped classes (Core:
# no ORM overhead, no autoflush; record_mention writes every project at once). First the ids and name
# keys of the projects with the same key or sharing a name trigram, or (_FIRM) whose company contains
# the company key, newest first; then, for the few whose name can reach the threshold, what scoring needs.
_PROJECTS = cast(Table, ProjectRow.__table__)
_KEYS = cast(Table, ProjectKeyRow.__table__)
_SAME_KEY = select(_PROJECTS.c.id).where(_PROJECTS.c.name_key == bindparam("key"))
_SAME_GRAM = select(_KEYS.c.project_id).where(_KEYS.c.key.in_(bindparam("grams", expanding=True)))
_SAME_FIRM = (
    select(_KEYS.c.project_id)
    .join(_PROJECTS, _PROJECTS.c.id == _KEYS.c.project_id)
    .where(_KEYS.c.key == bindparam("pair"), _PROJECTS.c.company.contains(bindparam("firm")))
)
_KEY_COLUMNS = (_PROJECTS.c.id, _PROJECTS.c.name_key)
_LIKELY = (
    select(*_KEY_COLUMNS)
    .where(_PROJECTS.c.id.in_(union(_SAME_KEY, _SAME_GRAM)))
    .order_by(_PROJECTS.c.id.desc())
    .limit(_CANDIDATE_LIMIT)
)
_LIKELY_FIRM = (
    select(*_KEY_COLUMNS)
    .where(_PROJECTS.c.id.in_(union(_SAME_KEY, _SAME_GRAM, _SAME_FIRM)))
    .order_by(_PROJECTS.c.id.desc())
    .limit(_CANDIDATE_LIMIT)
)
_SCORED = (
    select(
        _PROJECTS.c.id,
        _PROJECTS.c.name,
        _PROJECTS.c.name_key,
        _PROJECTS.c.company,
        _PROJECTS.c.region,
        _PROJECTS.c.investment_yi,
    )
    .where(_PROJECTS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_PROJECTS.c.id.desc())
)


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    known: Known


def plausible(key: str, keys: Sequence[tuple[int, str]], floor: float) -> list[int]:
    """The ids, in order, of the ``(id, name key)`` pairs whose name similarity to ``key`` reaches ``floor``.

    A common trigram ("产业园", "新能源") brings hundreds of projects; only those that can still reach the
    threshold with every bonus are scored in full, so the decision is the one scoring them all would make.
    The ratio is computed in rapidfuzz's C loop; containment (``name_similarity``: 95) is checked apart."""
    if not keys:
        return []
    names = [k for _, k in keys]
    close = {index for _, _, index in process.extract(key, names, scorer=fuzz.ratio, score_cutoff=floor, limit=None)}
    if floor <= _CONTAINED:
        close.update(i for i, k in enumerate(names) if i not in close and name_similarity(key, k) >= floor)
    return [keys[i][0] for i in sorted(close)]


def _likely(session: Session, key: str, company: str | None, floor: float) -> list[Candidate]:
    """Projects worth scoring: the same key, a key sharing one of three trigrams, or the same company.

    The trigrams and the company are looked up in ``project_keys`` (indexed), not by scanning projects."""
    grams = {key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))}
    firm = company_key(company) if company else None
    connection = session.connection()
    if any(len(g) < NAME_GRAM for g in grams) or (firm is not None and len(firm) < COMPANY_GRAM):
        keys = _likely_scan(connection, key, grams, firm)
    else:
        params: dict[str, object] = {"key": key, "grams": sorted(f"n{g.lower()}" for g in grams)}
        if firm:
            params.update(pair=f"c{firm[:COMPANY_GRAM].lower()}", firm=firm)
        keys = [(r[0], r[1]) for r in connection.execute(_LIKELY_FIRM if firm else _LIKELY, params)]
    ids = plausible(key, keys, floor)
    if not ids:
        return []
    rows = connection.execute(_SCORED, {"ids": ids})
    return [Candidate(r[0], r[1], Known(r[2], r[3], r[4], r[5])) for r in rows]


def _likely_scan(connection: Connection, key: str, grams: set[str], firm: str | None) -> list[tuple[int, str]]:
    """``_likely`` for keys too short for the indexed grams: ``LIKE`` over every project."""
    clauses = [_PROJECTS.c.name_key == key, *(_PROJECTS.c.name_key.contains(g) for g in grams if g)]
    if firm is not None:
        clauses.append(_PROJECTS.c.company.contains(firm))
    query = select(*_KEY_COLUMNS).where(or_(*clauses)).order_by(_PROJECTS.c.id.desc()).limit(_CANDIDATE_LIMIT)
    return [(r[0], r[1]) for r in connection.execute(query)]


def find_project(
    session: Session, mention: Project, key: str, region: str | None, matching: ProjectMatching
) -> int | None:
    """The id of the known project this mention names, or None (a new project). Logs the decision either way."""
    best: tuple[MatchScore, Candidate] | None = None
    floor = matching.name_similarity - max(matching.company_bonus, 0) - max(matching.amount_bonus, 0)
    for row in _likely(session, key, mention.company, floor):
        scored = match_score(key, mention, region, row.known, matching)
        if best is None or scored.score > best[0].score:
            best = (scored, row)
    if best is None:
        logger.info("project new: {!r} (key {!r}): no project with a similar name", mention.name, key)
        return None
    scored, row = best
    detail = ", ".join(scored.reasons) or "name only"
    if scored.score >= matching.name_similarity:
        logger.info(
            "project merge: {!r} -> #{} {!r} (score {:.0f}, name {:.0f}; {})",
            mention.name, row.id, row.name, scored.score, scored.name, detail,
        )  # fmt: skip
        return row.id
    logger.info(
        "project new: {!r}: closest #{} {!r} scores {:.0f} < {:.0f} (name {:.0f}; {})",
        mention.name, row.id, row.name, scored.score, matching.name_similarity, scored.name, detail,
    )  # fmt: skip
    return None
