"""Floors on the real-pages corpus (../shared/realpages; never copied into the project).

Scored as in bench/eval_extract.py: whitespace removed; body = both anchors present; chrome = no
chrome sample present; date = ``date`` or one of ``date_alternatives``. At the time of writing
newsmon reaches body 116, chrome 115, both 115, date 116, title 110 (of 116); bare trafilatura on
raw bytes reaches 111 / 94 / 89 / 102 / 67. The floors sit a little below so that a general
improvement elsewhere may cost a page, but a regression cannot pass.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from crawler.extract import decode_html, extract_article
from crawler.models import Article

PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "realpages"
pytestmark = pytest.mark.skipif(
    not (PAGES / "articles.jsonl").exists(), reason=f"real-pages corpus not found at {PAGES}"
)

FLOORS = {"body": 114, "chrome": 112, "both": 111, "date": 112, "title": 104}
_WS = re.compile(r"\s+")


def squash(text: str | None) -> str:
    return _WS.sub("", text or "")


@lru_cache(maxsize=1)
def results() -> tuple[tuple[dict[str, Any], Article], ...]:
    records = [json.loads(line) for line in (PAGES / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    out = []
    for record in records:
        raw = (PAGES / "articles" / f"{record['id']}.html").read_bytes()
        out.append((record, extract_article(decode_html(raw).text, url=record.get("url"))))
    return tuple(out)


def _passes(metric: str, record: dict[str, Any], article: Article) -> bool:
    text = squash(article.text)
    body = squash(record["body_start"]) in text and squash(record["body_end"]) in text
    chrome = not any(squash(c) in text for c in record["chrome_samples"])
    if metric == "body":
        return body
    if metric == "chrome":
        return chrome
    if metric == "both":
        return body and chrome
    if metric == "date":
        got = article.published.isoformat() if article.published else None
        return got in {record["date"], *(record.get("date_alternatives") or [])}
    return squash(article.title) == squash(record["title"])


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_floor(metric: str) -> None:
    failing = [r["id"] for r, a in results() if not _passes(metric, r, a)]
    passed = len(results()) - len(failing)
    assert passed >= FLOORS[metric], f"{metric}: {passed}/{len(results())}, failing {failing}"


def test_gov_pages_all_pass() -> None:
    """Gov pages are what the monitor is for: every one keeps its body without chrome."""
    failing = [r["id"] for r, a in results() if r["category"] == "gov" and not _passes("both", r, a)]
    assert not failing


def test_no_page_crashes_or_loses_all_text() -> None:
    empty = [r["id"] for r, a in results() if len(a.text) < 100]
    assert not empty
