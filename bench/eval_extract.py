"""Score article extraction on the real-pages corpus: bare trafilatura vs newsmon, same run.

Usage:  .venv/bin/python bench/eval_extract.py [--pages ../shared/realpages] [--verbose] [--only ID,ID]

Scoring follows the corpus README: compare with ALL whitespace removed; body passes when both
anchors occur; chrome passes when no chrome sample occurs; date is right when it equals ``date``
or one of ``date_alternatives``; title is exact equality (after whitespace removal).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.extract import decode_html, extract_article  # noqa: E402

_WS = re.compile(r"\s+")
METRICS = ("body", "chrome", "both", "date", "title")


def squash(text: str | None) -> str:
    return _WS.sub("", text or "")


@dataclass
class Result:
    title: str | None
    date: str | None
    text: str


@dataclass
class Score:
    passed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))
    failures: dict[str, list[str]] = field(default_factory=lambda: {m: [] for m in METRICS})
    seconds: float = 0.0


def bare_trafilatura(raw: bytes, url: str | None) -> Result:
    document = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
    if document is None:
        return Result(None, None, "")
    return Result(getattr(document, "title", None), getattr(document, "date", None), document.text or "")


def newsmon(raw: bytes, url: str | None) -> Result:
    article = extract_article(decode_html(raw).text, url=url)
    return Result(article.title, article.published.isoformat() if article.published else None, article.text)


def judge(record: dict[str, Any], result: Result) -> dict[str, tuple[bool, str]]:
    text = squash(result.text)
    missing = [a for a in ("body_start", "body_end") if squash(record[a]) not in text]
    leaked = [c for c in record["chrome_samples"] if squash(c) in text]
    dates = {record["date"], *(record.get("date_alternatives") or [])}
    body_ok, chrome_ok = not missing, not leaked
    return {
        "body": (body_ok, f"missing {', '.join(missing)}"),
        "chrome": (chrome_ok, f"leaked {leaked}"),
        "both": (body_ok and chrome_ok, ""),
        "date": (result.date in dates, f"got {result.date} want {record['date']}"),
        "title": (squash(result.title) == squash(record["title"]), f"got {result.title!r} want {record['title']!r}"),
    }


def run(
    name: str, extractor: Callable[[bytes, str | None], Result], records: list[dict[str, Any]], pages: Path
) -> Score:
    score = Score()
    start = time.perf_counter()
    for record in records:
        raw = (pages / "articles" / f"{record['id']}.html").read_bytes()
        try:
            result = extractor(raw, record.get("url"))
        except Exception as error:  # the bench reports crashes as failures instead of stopping
            result = Result(None, None, "")
            print(f"{name} {record['id']}: crashed: {error!r}", file=sys.stderr)
        for metric, (ok, why) in judge(record, result).items():
            if ok:
                score.passed[metric] += 1
            else:
                score.failures[metric].append(f"{record['id']}: {why}")
    score.seconds = time.perf_counter() - start
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=ROOT.parent / "shared" / "realpages")
    parser.add_argument("--verbose", action="store_true", help="list every failure")
    parser.add_argument("--only", help="comma-separated page ids")
    parser.add_argument("--skip-baseline", action="store_true", help="score newsmon only")
    args = parser.parse_args(argv)
    jsonl = args.pages / "articles.jsonl"
    if not jsonl.exists():
        print(f"no corpus at {args.pages}", file=sys.stderr)
        return 2
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.only:
        wanted = set(args.only.split(","))
        records = [r for r in records if r["id"] in wanted]
    runs: list[tuple[str, Callable[[bytes, str | None], Result]]] = [("newsmon", newsmon)]
    if not args.skip_baseline:
        runs.insert(0, ("bare trafilatura (raw bytes)", bare_trafilatura))
    total = len(records)
    print(f"{'extractor':<30}" + "".join(f"{m:>10}" for m in METRICS) + f"{'seconds':>10}")
    scores = []
    for name, extractor in runs:
        score = run(name, extractor, records, args.pages)
        scores.append((name, score))
        cells = "".join(f"{score.passed[m]:>6}/{total:<3}" for m in METRICS)
        print(f"{name:<30}{cells}{score.seconds:>10.1f}")
    if args.verbose:
        for name, score in scores:
            for metric in METRICS:
                if metric == "both" or not score.failures[metric]:
                    continue
                print(f"\n[{name}] {metric} failures ({len(score.failures[metric])}):")
                for line in score.failures[metric]:
                    print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
