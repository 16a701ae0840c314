"""Speed of the investment-project rules against trafilatura's extraction, in the same run.

Usage:  .venv/bin/python bench/bench_rules.py [--pages DIR] [--rounds N] [--json]

Over the real article pages (``/work/shared/realpages/articles/*.html``): each page is decoded
with ``crawler.extract.decode_html`` and extracted with ``trafilatura.bare_extraction`` (timed),
then ``extract_projects`` + ``find_amounts`` run on the extracted text (timed). Both rates are
pages per second; the ratio is rules / extraction (target: >= 5). Takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import decode_html  # noqa: E402
from crawler.rules import extract_projects, find_amounts, load_ruleset_file  # noqa: E402

DEFAULT_PAGES = Path("/work/shared/realpages/articles")
TIME_BUDGET_S = 40.0  # stop adding rounds past this


def _text_of(document: Any) -> str:
    if document is None:
        return ""
    if isinstance(document, dict):
        return str(document.get("text") or "")
    return str(getattr(document, "text", "") or "")


def _extract_all(htmls: list[str]) -> tuple[list[str], float]:
    texts: list[str] = []
    t0 = time.perf_counter()
    for html in htmls:
        texts.append(_text_of(trafilatura.bare_extraction(html)))
    return texts, time.perf_counter() - t0


def _rules_all(texts: list[str], rules: Any) -> tuple[int, int, float]:
    projects = amounts = 0
    t0 = time.perf_counter()
    for text in texts:
        projects += len(extract_projects(text, rules))
        amounts += len(find_amounts(text, rules))
    return projects, amounts, time.perf_counter() - t0


def run(pages: Path, rounds: int) -> dict[str, Any] | None:
    files = sorted(pages.glob("*.html"))
    if not files:
        return None
    htmls = [decode_html(f.read_bytes()).text for f in files]
    rules = load_ruleset_file(ROOT / "config" / "rules.yaml")
    extract_projects("热身：总投资10亿元的测试项目开工。", rules)  # build the t2s converter outside the timing
    ext_s = rules_s = 0.0
    done = projects = amounts = chars = 0
    started = time.perf_counter()
    for _ in range(rounds):
        texts, t_ext = _extract_all(htmls)
        p, a, t_rules = _rules_all(texts, rules)
        ext_s, rules_s, done = ext_s + t_ext, rules_s + t_rules, done + len(htmls)
        projects, amounts, chars = p, a, sum(len(t) for t in texts)
        if time.perf_counter() - started > TIME_BUDGET_S:
            break
    ext_rate, rules_rate = done / ext_s, done / rules_s
    return {
        "pages": len(files),
        "pages_timed": done,
        "text_chars": chars,
        "projects": projects,
        "amounts": amounts,
        "extract_pages_per_s": round(ext_rate, 1),
        "rules_pages_per_s": round(rules_rate, 1),
        "ratio": round(rules_rate / ext_rate, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.pages, max(1, args.rounds))
    if result is None:
        print(f"no article pages in {args.pages}: benchmark skipped")
        return 0
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"pages {result['pages']} (timed {result['pages_timed']}), extracted text {result['text_chars']} chars")
    print(f"trafilatura bare_extraction  {result['extract_pages_per_s']:8.1f} pages/s")
    print(
        f"rules (extract_projects + find_amounts)  {result['rules_pages_per_s']:8.1f} pages/s"
        f"  ({result['projects']} projects, {result['amounts']} amounts per round)"
    )
    print(f"ratio rules/extraction  {result['ratio']:.2f}x  (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
