"""Which known project a new mention names: normalised names, fuzzy matching, company, region and amount.

Pure scoring (``match_score``) is separate from the database lookup (``find_project``) so the rules
can be tested without a database. Every decision, merge or not, is logged with its score and reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from loguru import logger
from sqlalchemy.orm import Session

from crawler.config import ProjectMatching
from crawler.models import Project
from crawler.projects.candidates import Candidate, ProjectState, name_numbers, name_similarity, numbers_differ
from crawler.projects.known import KnownProjects
from crawler.textnorm import fold

# Words that wrap a project's name without changing which project it is: "X项目" == "X建设项目" == "X".
_NAME_SUFFIXES = re.compile(r"(一期|二期|三期|四期)?(建设|新建|扩建|改扩建)?(项目|工程)?(一期|二期|三期)?$")
# Legal-form words that wrap a company's name: "双良集团" == "双良节能系统股份有限公司"'s 双良 part.
_COMPANY_FORMS = re.compile(r"(集团)?(控股)?(股份)?(有限责任|有限)?(公司)?$")
HELD_KEYS = 100_000  # name or company keys a KnownProjects holds at most (they start again past it)


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
    core = _core(folded)  # company_key(company), without folding it again
    return [p for p in dict.fromkeys((folded, core)) if len(p) >= 2]


def company_key(company: str) -> str:
    """The folded company name without its legal form: 双良集团 -> 双良, 三木集团股份有限公司 -> 三木."""
    return _core(fold(company))


def _core(folded: str) -> str:
    core = _COMPANY_FORMS.sub("", folded)
    return core if len(core) >= 2 else folded


def _held_key(firms: dict[str, str], company: str) -> str:
    """``company_key(company)``, computed once per company in ``firms`` (it folds the name)."""
    found = firms.get(company)
    if found is None:
        if len(firms) >= HELD_KEYS:
            firms.clear()
        found = firms[company] = company_key(company)
    return found


def held_name_key(known: KnownProjects, name: str, company: str | None) -> str:
    """``name_key(name, company)``, computed once per name and company in ``known`` (it folds both)."""
    keys = known.keys
    found = keys.get((name, company))
    if found is None:
        if len(keys) >= HELD_KEYS:
            keys.clear()
        found = keys[name, company] = name_key(name, company)
    return found


def _same_place(a: str, b: str) -> bool:
    return a in b or b in a


def match_score(key: str, mention: Project, region: str | None, known: Known, m: ProjectMatching) -> MatchScore:
    """How likely the mention names the known project, with the reasons for every adjustment."""
    firms: dict[str, str] = {}
    mention_firm = company_key(mention.company) if mention.company else None
    return _score(key, mention_firm, mention, region, known, firms, m)


def _score(
    key: str, firm: str | None, mention: Project, region: str | None, known: Known | Candidate,
    firms: dict[str, str], m: ProjectMatching,
) -> MatchScore:  # fmt: skip
    """``match_score``, given the mention's company key ``firm`` and the company keys met (``firms``)."""
    name = name_similarity(key, known.name_key)
    numbers, known_numbers = name_numbers(key), name_numbers(known.name_key)
    if numbers_differ(numbers, known_numbers):
        # 年产5000吨 and 年产20000吨 of the same material are two projects however alike the words.
        return MatchScore(0.0, name, (f"numbers differ {numbers} vs {known_numbers}",))
    score: float = name
    reasons: list[str] = []
    if firm is not None and known.company:
        if _same_place(firm, _held_key(firms, known.company)):
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


def find_project(
    session: Session, mention: Project, key: str, region: str | None, matching: ProjectMatching
) -> ProjectState | None:
    """The known project this mention names, or None (a new project). Logs the decision either way."""
    return find_known(KnownProjects.of(session), mention, key, region, matching)


def find_known(
    known: KnownProjects, mention: Project, key: str, region: str | None, matching: ProjectMatching
) -> ProjectState | None:
    """``find_project`` with the transaction's ``KnownProjects``."""
    best: tuple[MatchScore, Candidate] | None = None
    floor = matching.name_similarity - max(matching.company_bonus, 0) - max(matching.amount_bonus, 0)
    firm = _held_key(known.firms, mention.company) if mention.company else None
    for row in known.likely(key, firm, floor):
        scored = _score(key, firm, mention, region, row, known.firms, matching)
        if best is None or scored.score > best[0].score:
            best = (scored, row)
    if best is None:
        logger.info("project new: {!r} (key {!r}): no project with a similar name", mention.name, key)
        return None
    scored, row = best
    detail = ", ".join(scored.reasons) or "name only"
    if scored.score >= matching.name_similarity:
        logger.debug(  # most mentions are merges: one line each would drown the crawl's log
            "project merge: {!r} -> #{} {!r} (score {:.0f}, name {:.0f}; {})",
            mention.name, row.id, row.name, scored.score, scored.name, detail,
        )  # fmt: skip
        return known.state(row.id)
    logger.info(
        "project new: {!r}: closest #{} {!r} scores {:.0f} < {:.0f} (name {:.0f}; {})",
        mention.name, row.id, row.name, scored.score, matching.name_similarity, scored.name, detail,
    )  # fmt: skip
    return None
