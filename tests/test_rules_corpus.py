"""The labelled rules corpus (tests/data/rules_corpus.jsonl): its validity, the scorer, and the
engine's scores on it (floors a little under what the engine reached when they were set).

The validity and scorer tests never need the engine; the score test is skipped, with the reason,
while ``crawler.rules`` cannot be imported.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "rules_corpus.jsonl"
SCORER = REPO / "bench" / "eval_rules.py"

# Floors on the engine's scores (bench/eval_rules.py, threshold 10 亿元), set a little under what the
# engine reached on 112 passages (see tests/data/README.md); raise them when the rules improve. The
# issue's targets are large-project precision >= 0.95 and recall >= 0.90.
FLOORS = {
    "large.precision": 0.95,  # engine at 1.000 (tp 72, fp 0); the target
    "large.recall": 0.90,  # engine at 0.911 (fn 7); the target
    "all.precision": 0.96,  # engine at 0.987
    "all.recall": 0.85,  # engine at 0.876
    "amount_accuracy": 0.97,  # engine at 0.987
    "stage_accuracy": 0.76,  # engine at 0.790
}
MAX_NOT_PROJECTS_TAKEN = 2  # engine at 0
MAX_ERRORS = 0

STAGES = {"signed", "started", "completed", "operating", "planned", "unknown"}
CURRENCIES = {"CNY", "USD", "EUR", "HKD", "MOP", "TWD"}
REQUIRED = ("id", "url", "site", "script", "tags", "text", "projects", "not_projects")
PROJECT_KEYS = ("name", "company", "investment_yi", "approximate", "currency", "stage")


def _load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_rules", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_rules"] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


ev = _load_scorer()


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return ev.load_corpus(CORPUS)


# --------------------------------------------------------------------------- corpus validity


def test_size_sites_and_ids(corpus: list[dict[str, Any]]) -> None:
    assert len(corpus) >= 80
    assert len({r["site"] for r in corpus}) >= 40
    ids = [r["id"] for r in corpus]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    texts = [_squash(r["text"]) for r in corpus]
    assert len(texts) == len(set(texts)), "duplicate passage"


def test_required_fields(corpus: list[dict[str, Any]]) -> None:
    for r in corpus:
        missing = [k for k in REQUIRED if k not in r]
        assert not missing, (r.get("id"), missing)
        assert r["url"].startswith(("http://", "https://")), r["id"]
        assert r["site"] == urlsplit(r["url"]).hostname, r["id"]
        assert r["script"] in {"simplified", "traditional"}, r["id"]
        assert isinstance(r["tags"], list) and r["tags"], r["id"]
        assert 30 <= len(r["text"]) <= 3000, (r["id"], len(r["text"]))
        for p in r["projects"]:
            missing = [k for k in PROJECT_KEYS if k not in p]
            assert not missing, (r["id"], p.get("name"), missing)
            assert isinstance(p["investment_yi"], (int, float)) and p["investment_yi"] > 0, (r["id"], p["name"])
            assert p["currency"] in CURRENCIES, (r["id"], p["name"])
            assert p["stage"] in STAGES, (r["id"], p["name"])
            assert isinstance(p["approximate"], bool), (r["id"], p["name"])


def test_not_projects_are_substrings(corpus: list[dict[str, Any]]) -> None:
    bad = [(r["id"], s) for r in corpus for s in r["not_projects"] if s not in r["text"]]
    assert not bad, bad


def test_gold_names_are_substrings(corpus: list[dict[str, Any]]) -> None:
    bad = []
    for r in corpus:
        text = _squash(r["text"])
        for p in r["projects"]:
            if _squash(p["name"]) not in text:
                bad.append((r["id"], p["name"]))
            if p["company"] and _squash(p["company"]) not in text:
                bad.append((r["id"], "company", p["company"]))
        bad += [(r["id"], "named", n) for n in r.get("named_without_amount", []) if _squash(n) not in text]
    assert not bad, bad


def test_gold_names_unique_within_passage(corpus: list[dict[str, Any]]) -> None:
    for r in corpus:
        names = [ev.normalise_name(p["name"], p["company"]) for p in r["projects"]]
        assert len(names) == len(set(names)), r["id"]


def test_coverage_of_hard_cases(corpus: list[dict[str, Any]]) -> None:
    tags = Counter(t for r in corpus for t in r["tags"])
    assert sum(any(p["investment_yi"] >= 10 for p in r["projects"]) for r in corpus) >= 30
    assert sum(not r["projects"] for r in corpus) >= 10
    assert sum(r["script"] == "traditional" for r in corpus) >= 8
    for tag, least in {
        "aggregate": 10,
        "wan_yuan": 5,
        "usd": 5,
        "approximate": 5,
        "threshold": 5,
        "output_value": 3,
        "revenue": 3,
        "funds_in_place": 3,
        "phase": 3,
        "eur": 2,
        "hkd": 2,
        "combined": 2,
        "list": 5,
        "chinese_numerals": 1,
        "capital_increase": 2,
    }.items():
        assert tags[tag] >= least, (tag, tags[tag])


# --------------------------------------------------------------------------- the scorer itself


def _as_pred(p: dict[str, Any], **over: Any) -> SimpleNamespace:
    d = {
        "name": p["name"],
        "company": p["company"],
        "investment_yi": p["investment_yi"],
        "stage": p["stage"],
        "approximate": p["approximate"],
        "amount_text": None,
        "evidence": "",
    }
    d.update(over)
    return SimpleNamespace(**d)


def test_scorer_perfect_on_gold(corpus: list[dict[str, Any]]) -> None:
    by_text = {r["text"]: r for r in corpus}
    rep = ev.evaluate(corpus, lambda text: [_as_pred(p) for p in by_text[text]["projects"]])
    d = rep.as_dict()
    assert d["large"]["precision"] == d["large"]["recall"] == 1.0
    assert d["all"]["precision"] == d["all"]["recall"] == 1.0
    assert d["amount_accuracy"] == d["stage_accuracy"] == 1.0
    assert d["not_projects_taken_as_investment"] == 0


def test_scorer_normalises_names_and_counts_mistakes() -> None:
    rec = {
        "id": "x1",
        "site": "example.org",
        "tags": ["t"],
        "text": "總投資15億元的鄭州豫港制藥有限公司(輔仁藥業(yè))項(xiàng)目,年銷售收入10.8億元。",
        "projects": [
            {
                "name": "鄭州豫港制藥有限公司(輔仁藥業(yè))項(xiàng)目",
                "company": "鄭州豫港制藥有限公司",
                "investment_yi": 15,
                "approximate": False,
                "currency": "CNY",
                "stage": "started",
            }
        ],
        "not_projects": ["年銷售收入10.8億元"],
    }
    preds = [
        SimpleNamespace(
            name="辅仁药业",
            company=None,
            investment_yi=15,
            stage="started",
            approximate=False,
            amount_text="總投資15億元",
            evidence="",
        ),
        SimpleNamespace(
            name="某某",
            company=None,
            investment_yi=10.8,
            stage="unknown",
            approximate=False,
            amount_text="10.8億元",
            evidence="",
        ),
    ]
    d = ev.evaluate([rec], lambda _t: preds).as_dict()
    assert d["large"]["tp"] == 1 and d["large"]["fp"] == 1 and d["large"]["fn"] == 0
    assert d["all"]["tp"] == 1 and d["all"]["fp"] == 1
    assert d["not_projects_taken_as_investment"] == 1
    assert ev.name_score("郑州豫港制药有限公司(辅仁药业)", rec["projects"][0]["name"]) >= ev.MATCH_MIN
    assert ev.figure_values("首期投資約一百四十二億元") == [142.0]
    assert ev.figure_values("總投資三千五億") == [3500.0]


# --------------------------------------------------------------------------- the engine


def test_engine_scores_meet_floors(corpus: list[dict[str, Any]]) -> None:
    try:
        extract = ev.engine_extractor()
    except Exception as exc:  # the rules engine is developed alongside this corpus
        pytest.skip(f"crawler.rules engine not importable yet ({type(exc).__name__}: {exc})")
    d = ev.evaluate(corpus, extract).as_dict()
    got = {
        "large.precision": d["large"]["precision"],
        "large.recall": d["large"]["recall"],
        "all.precision": d["all"]["precision"],
        "all.recall": d["all"]["recall"],
        "amount_accuracy": d["amount_accuracy"],
        "stage_accuracy": d["stage_accuracy"],
    }
    below = {k: (got[k], floor) for k, floor in FLOORS.items() if got[k] < floor}
    assert not below, f"scores under their floors (got, floor): {below}; run bench/eval_rules.py --verbose"
    assert d["errors"] <= MAX_ERRORS, d["errors"]
    assert d["not_projects_taken_as_investment"] <= MAX_NOT_PROJECTS_TAKEN, d["not_projects_taken_as_investment"]
