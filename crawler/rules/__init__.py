"""Investment-project extraction rules: money figures, their kinds, and the projects they fund.

Vocabulary lives in config/rules.yaml; this package holds the logic. All functions are pure:
text in, values out, no I/O (``load_ruleset_file`` aside).
"""

from __future__ import annotations

from loguru import logger

from crawler.models import Amount, Project
from crawler.rules.config import load_ruleset, load_ruleset_file
from crawler.rules.projects import extract
from crawler.rules.projects import find_amounts as _find_amounts
from crawler.rules.ruleset import RuleSet


def find_amounts(text: str, rules: RuleSet) -> list[Amount]:
    """Every money figure in ``text`` (Simplified or Traditional) with its kind, in order."""
    return _find_amounts(text, rules)


def extract_projects(text: str, rules: RuleSet) -> list[Project]:
    """The investment projects an article names, one Project each. Never raises."""
    try:
        return extract(text, rules)
    except Exception:  # a rules bug must not stop the crawl; it is logged with its traceback
        logger.exception("rules: extract_projects failed on a {}-char text", len(text))
        return []


def is_large(project: Project, rules: RuleSet) -> bool:
    """Whether a project's investment reaches the alert threshold of the rules (threshold_yi)."""
    return project.investment_yi is not None and project.investment_yi >= rules.threshold_yi


__all__ = [
    "RuleSet",
    "extract_projects",
    "find_amounts",
    "is_large",
    "load_ruleset",
    "load_ruleset_file",
]
