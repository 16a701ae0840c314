"""`newsmon extract`: the extraction and rules of a crawl, applied to files or JSON lines."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from crawler.extract import decode_html, extract_article, extract_plain_text
from crawler.models import Article
from crawler.rules import RuleSet, extract_projects, find_amounts

_LOOKS_HTML = re.compile(rb"<(html|body|div|p|head|meta|table|article)[\s>/]", re.IGNORECASE)


def article_from_bytes(raw: bytes, url: str | None) -> Article:
    """An HTML page or a plain-text article, decoded as the crawler would."""
    decoded = decode_html(raw, None)
    if _LOOKS_HTML.search(raw[:4096]):
        return extract_article(decoded.text, url)
    return extract_plain_text(decoded.text, url)


def analyse(article: Article, rules: RuleSet, item_id: str | None = None) -> dict[str, Any]:
    projects = extract_projects(article.text, rules)
    return {
        "id": item_id,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "text": article.text,
        "projects": [
            {
                "name": p.name,
                "company": p.company,
                "investment_yi": _number(p.investment_yi),
                "currency": p.currency,
                "amount_text": p.amount_text,
                "stage": p.stage.value,
                "approximate": p.approximate,
            }
            for p in projects
        ],
        "amounts": [{"text": a.text, "kind": a.kind.value} for a in find_amounts(article.text, rules)],
    }


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def read_path(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()


def jsonl_results(lines: TextIO, rules: RuleSet) -> Iterator[dict[str, Any]]:
    """One result per input line; a bad line yields an ``error`` object, never stops the stream."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            yield analyse(_article_from_item(item), rules, item.get("id"))
        except (ValueError, OSError, KeyError) as exc:
            yield {"id": _safe_id(line), "line": number, "error": f"{type(exc).__name__}: {exc}"}


def _article_from_item(item: dict[str, Any]) -> Article:
    url = item.get("url")
    if "text" in item:
        return extract_plain_text(str(item["text"]), url)
    if "html" in item:
        return extract_article(str(item["html"]), url)
    if "path" in item:
        return article_from_bytes(Path(item["path"]).read_bytes(), url)
    raise KeyError("each line needs one of text, html or path")


def _safe_id(line: str) -> Any:
    try:
        value = json.loads(line)
        return value.get("id") if isinstance(value, dict) else None
    except ValueError:
        return None


def render_text(result: dict[str, Any], out: TextIO) -> None:
    out.write(f"标题: {result['title'] or '-'}\n日期: {result['published'] or '-'}\n")
    out.write(f"正文: {len(result['text'])} 字\n\n项目 ({len(result['projects'])}):\n")
    for p in result["projects"]:
        amount = f"{p['investment_yi']:g} 亿元" if p["investment_yi"] is not None else "-"
        approx = " (约)" if p["approximate"] else ""
        out.write(f"  - {p['name']}  {amount}{approx}  [{p['stage']}]  {p['company'] or ''}\n")
    out.write(f"\n金额 ({len(result['amounts'])}):\n")
    for a in result["amounts"]:
        out.write(f"  - {a['text']}  [{a['kind']}]\n")
