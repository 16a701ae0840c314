"""List-link discovery on the real saved list pages: per-page and overall precision and recall.

    .venv/bin/python bench/eval_lists.py [--shared ../shared/realpages] [--json]

Reads ``lists.jsonl`` and ``lists/NNN.html`` (never copied into the project). ``article_links`` are
hrefs as written; both sides are resolved against the page ``url`` before comparing. "overall" is
micro-averaged over all links; the page-averaged (macro) figures are printed too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.extract import decode_html
from crawler.listing import parse_list_page

DEFAULT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


def page_url(record: dict[str, Any]) -> str:
    return str(record["url"]).split(" ", 1)[0]


def evaluate(shared: Path) -> dict[str, Any]:
    pages = []
    tp_all = found_all = truth_all = 0
    for line in (shared / "lists.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        url = page_url(record)
        raw = (shared / "lists" / f"{record['id']}.html").read_bytes()
        listing = parse_list_page(decode_html(raw).text, url)
        truth = {urljoin(url, h).split("#", 1)[0] for h in record["article_links"]}
        found = set(listing.article_links)
        tp = len(found & truth)
        pages.append(
            {
                "id": record["id"],
                "site": record["site"],
                "cms": listing.cms,
                "truth": len(truth),
                "found": len(found),
                "correct": tp,
                "precision": tp / len(found) if found else 0.0,
                "recall": tp / len(truth) if truth else 1.0,
            }
        )
        tp_all, found_all, truth_all = tp_all + tp, found_all + len(found), truth_all + len(truth)
    return {
        "pages": pages,
        "overall": {
            "truth": truth_all,
            "found": found_all,
            "correct": tp_all,
            "precision": tp_all / found_all if found_all else 0.0,
            "recall": tp_all / truth_all if truth_all else 0.0,
        },
        "page_average": {
            "precision": sum(p["precision"] for p in pages) / len(pages) if pages else 0.0,
            "recall": sum(p["recall"] for p in pages) / len(pages) if pages else 0.0,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.shared / "lists.jsonl").exists():
        print(f"no lists.jsonl under {args.shared}", file=sys.stderr)
        return 2
    result = evaluate(args.shared)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"{'id':<4} {'site':<34} {'cms':<8} {'truth':>5} {'found':>5} {'ok':>5} {'prec':>6} {'recall':>6}")
    for p in result["pages"]:
        print(
            f"{p['id']:<4} {p['site'][:34]:<34} {p['cms']:<8} {p['truth']:>5} {p['found']:>5} {p['correct']:>5} "
            f"{p['precision']:>6.1%} {p['recall']:>6.1%}"
        )
    o, m = result["overall"], result["page_average"]
    print(
        f"overall (micro, {o['truth']} links): precision {o['precision']:.1%}  recall {o['recall']:.1%}; "
        f"page average (macro, {len(result['pages'])} pages): precision {m['precision']:.1%}  recall {m['recall']:.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
