"""The acceptance key: the five seed articles against ../shared/seeds/expected.yaml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crawler.models import AmountKind, Project, Stage
from crawler.rules import RuleSet, extract_projects, find_amounts, is_large, load_ruleset_file
from tests.answer_key import SEEDS, load_expected, normalise, same_project

KEY = load_expected()
pytestmark = pytest.mark.skipif(KEY is None, reason=f"no answer key at {SEEDS / 'expected.yaml'}")
ARTICLES: dict[str, Any] = KEY["articles"] if KEY else {}


@pytest.fixture(scope="module")
def rules(repo: Path) -> RuleSet:
    return load_ruleset_file(repo / "config" / "rules.yaml")


@pytest.fixture(scope="module")
def extracted(rules: RuleSet) -> dict[str, tuple[str, list[Project]]]:
    out = {}
    for file in ARTICLES:
        text = (SEEDS / file).read_text(encoding="utf-8")
        out[file] = (text, extract_projects(text, rules))
    return out


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _find(projects: list[Project], expected: dict[str, Any]) -> Project | None:
    """The project named like the key's, preferring the one with the key's amount."""
    named = [p for p in projects if same_project(p.name, expected["name"])]
    right = [p for p in named if p.investment_yi == _dec(expected["investment_yi"])]
    return (right or named or [None])[0]


def _expected_projects() -> list[tuple[str, dict[str, Any]]]:
    return [(f, p) for f, a in ARTICLES.items() for p in a.get("projects") or []]


@pytest.mark.parametrize(
    ("file", "expected"), _expected_projects(), ids=lambda v: v if isinstance(v, str) else v["name"]
)
def test_expected_project_is_found_right(
    file: str, expected: dict[str, Any], extracted: dict[str, tuple[str, list[Project]]], rules: RuleSet
) -> None:
    _, projects = extracted[file]
    got = _find(projects, expected)
    if got is None or got.investment_yi != _dec(expected["investment_yi"]):
        merged = expected.get("same_as")  # the key tolerates this entry merged into another
        if merged and _find(projects, {"name": merged, "investment_yi": -1}) is not None:
            return
    assert got is not None, f"{expected['name']} not found among {[p.name for p in projects]}"
    assert got.investment_yi == _dec(expected["investment_yi"]), got
    assert got.approximate is bool(expected.get("approximate", False)), got
    assert got.stage is Stage(expected["stage"]), got
    assert got.phase == expected.get("phase"), got
    assert is_large(got, rules) is bool(expected["large"]), got
    if "land_mu" in expected:
        assert got.land_mu == _dec(expected["land_mu"]), got
    if expected.get("company"):
        assert got.company is not None, got
        a, b = normalise(got.company), normalise(expected["company"])
        assert a in b or b in a, (got.company, expected["company"])
    if expected.get("amount_text"):
        assert got.amount_text is not None
        assert got.amount_text in expected["amount_text"] or expected["amount_text"] in got.amount_text


@pytest.mark.parametrize("file", list(ARTICLES))
def test_no_large_project_beyond_the_key(
    file: str, extracted: dict[str, tuple[str, list[Project]]], rules: RuleSet
) -> None:
    _, projects = extracted[file]
    wanted = [p for p in ARTICLES[file].get("projects") or [] if p["large"]]
    for project in projects:
        if is_large(project, rules):
            assert any(same_project(project.name, w["name"]) for w in wanted), project


def test_alerts_are_exactly_the_expected_ones(extracted: dict[str, tuple[str, list[Project]]], rules: RuleSet) -> None:
    assert KEY is not None
    large = [p for _, projects in extracted.values() for p in projects if is_large(p, rules)]
    for name in KEY["expected_alerts"]:
        assert any(same_project(p.name, name) for p in large), name
    assert len(large) <= len(KEY["expected_alerts"]) + 1  # the two 中船 entries may be one or two


@pytest.mark.parametrize("file", list(ARTICLES))
def test_not_projects_are_never_an_investment(
    file: str, extracted: dict[str, tuple[str, list[Project]]], rules: RuleSet
) -> None:
    text, projects = extracted[file]
    amounts = find_amounts(text, rules)
    for wording in ARTICLES[file].get("not_projects") or []:
        at = text.find(wording)
        assert at >= 0, f"key wording {wording!r} not in {file}"
        over = [a for a in amounts if a.start < at + len(wording) and at < a.end]
        assert over, f"{wording!r} not found as a money figure"
        assert all(a.kind is not AmountKind.INVESTMENT for a in over), over
        for project in projects:
            taken = project.amount_text is not None and (
                project.amount_text in wording or wording in project.amount_text
            )
            assert not (taken and project.investment_yi in {a.value_yi for a in over}), (wording, project)


@pytest.mark.parametrize("file", list(ARTICLES))
def test_names_without_amount_carry_none(file: str, extracted: dict[str, tuple[str, list[Project]]]) -> None:
    _, projects = extracted[file]
    for name in ARTICLES[file].get("named_without_amount") or []:
        for project in projects:
            if same_project(project.name, name):
                assert project.investment_yi is None, project


def test_output_keeps_the_articles_own_script(extracted: dict[str, tuple[str, list[Project]]]) -> None:
    traditional = next(f for f in ARTICLES if f.startswith("001_"))
    text, projects = extracted[traditional]
    assert projects, "the Traditional seed names projects"
    for project in projects:
        assert project.name in text
        assert project.evidence and project.evidence in text
    assert any("項目" in p.name for p in projects)


def test_every_amount_wording_is_the_articles(extracted: dict[str, tuple[str, list[Project]]], rules: RuleSet) -> None:
    for text, _ in extracted.values():
        for amount in find_amounts(text, rules):
            assert text[amount.start : amount.end] == amount.text
