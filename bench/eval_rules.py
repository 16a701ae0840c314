"""Score the investment-project rules on the labelled corpus of real third-party passages.

Usage:  .venv/bin/python bench/eval_rules.py [--corpus tests/data/rules_corpus.jsonl]
                                              [--threshold 10] [--json] [--verbose] [--only p001,p002]

The corpus and its label conventions are described in tests/data/README.md. For every passage the
engine (``crawler.rules.extract_projects`` with ``config/rules.yaml``) is run on ``text``; its
projects are matched one-to-one to the gold ``projects`` by name:

* names are normalised (OpenCC t2s, pinyin glosses such as ``項(xiàng)目`` dropped, punctuation and
  whitespace removed, a trailing 建设项目/项目 removed, a leading company name removed when the
  gold project has that company);
* a pair matches when the normalised names are equal, or one contains the other and the shorter
  has >= 4 characters, or rapidfuzz ``partial_ratio`` >= 85; pairs are taken greedily, best first.

Reported: LARGE projects (investment >= threshold 亿元): precision / recall / F1 — a predicted large
project is a true positive when it is matched to a gold large project; ALL projects with an amount:
precision / recall / F1; amount accuracy on matched pairs (within 1 %, 2 % for a foreign-currency
gold); stage accuracy on matched pairs; how many ``not_projects`` figures the engine reported as a
project's investment. It is a report, not a test: it exits 0 whenever it ran (2 when the engine
cannot be imported or the corpus cannot be read).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "data" / "rules_corpus.jsonl"
RULES = ROOT / "config" / "rules.yaml"
MATCH_MIN = 85  # rapidfuzz partial_ratio needed for a name match
CONTAIN_MIN = 4  # shorter name length needed for a containment match
AMOUNT_TOL_CNY = 0.01
AMOUNT_TOL_FOREIGN = 0.02
# Only used to read the value of a not_projects figure (the engine has its own rates).
RATES = {
    "美元": 7.2,
    "美金": 7.2,
    "欧元": 7.8,
    "歐元": 7.8,
    "港元": 0.92,
    "港币": 0.92,
    "港幣": 0.92,
    "澳门元": 0.89,
    "澳門元": 0.89,
    "澳元": 0.89,
    "新台币": 0.22,
    "新台幣": 0.22,
    "台币": 0.22,
    "台幣": 0.22,
}
UNITS = {
    "万": Decimal("0.0001"),
    "萬": Decimal("0.0001"),
    "亿": Decimal(1),
    "億": Decimal(1),
    "万亿": Decimal(10000),
    "萬億": Decimal(10000),
    "兆": Decimal(10000),
}

Extractor = Callable[[str], Sequence[Any]]

# --------------------------------------------------------------------------- names

_PINYIN_GLOSS = re.compile(r"\([a-zA-Z\u00c0-\u024f\u1e00-\u1eff]{1,8}\)")
_NOT_WORD = re.compile(r"[^0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_TRAILING = ("建设项目", "項目", "项目")


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    try:
        import opencc

        return opencc.OpenCC("t2s").convert
    except Exception:  # pragma: no cover - OpenCC is a declared dependency
        return lambda s: s


@lru_cache(maxsize=20000)
def _base(text: str) -> str:
    text = _PINYIN_GLOSS.sub("", text or "")
    return _NOT_WORD.sub("", _t2s()(text)).lower()


def normalise_name(name: str, company: str | None = None) -> str:
    """The comparable form of a project name (see the module docstring)."""
    n = _base(name)
    if company:
        c = _base(company)
        if c and n.startswith(c) and len(n) > len(c):
            n = n[len(c) :]
    for suffix in _TRAILING:
        if n.endswith(suffix) and len(n) > len(suffix):
            n = n[: -len(suffix)]
            break
    return n


def name_score(pred: str, gold: str, company: str | None = None) -> float:
    """0..100; >= MATCH_MIN means the two names denote the same project."""
    p, g = normalise_name(pred, company), normalise_name(gold, company)
    if not p or not g:
        return 0.0
    if p == g:
        return 100.0
    short, long_ = (p, g) if len(p) <= len(g) else (g, p)
    if len(short) >= CONTAIN_MIN and short in long_:
        return 99.0
    from rapidfuzz import fuzz

    return min(float(fuzz.partial_ratio(p, g)), 98.0)  # equality and containment rank first


# --------------------------------------------------------------------------- amounts

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_MULT = {"十": 10, "百": 100, "千": 1000}
_FIGURE = re.compile(
    r"(?P<num>\d[\d,，]*(?:\s*[.．。]\s*\d+)?|[零〇一二两兩三四五六七八九十百千]+)\s*[余餘多]?\s*"
    r"(?P<unit>万亿|萬億|万|萬|亿|億|兆)"
)


def _chinese_number(token: str) -> Decimal:
    """七百二十六 -> 726, 三千五 -> 3500 (a trailing digit takes the next lower place), 千 -> 1000."""
    total, digit, last_mult = 0, None, 1
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            mult = _CN_MULT[ch]
            total += (1 if digit is None else digit) * mult
            digit, last_mult = None, mult
    if digit is not None:
        total += digit * (last_mult // 10 if last_mult >= 10 else 1)
    return Decimal(total)


def figure_values(text: str) -> list[float]:
    """Values in 亿元 CNY of the figures written in a not_projects string (arabic or Chinese numerals)."""
    out: list[float] = []
    text = _PINYIN_GLOSS.sub("", text)
    for m in _FIGURE.finditer(text):
        raw = re.sub(r"[,，\s]", "", m.group("num")).replace("．", ".").replace("。", ".")
        try:
            number = Decimal(raw) if raw[0].isdigit() else _chinese_number(raw)
            value = float(number * UNITS[m.group("unit")])
        except Exception:
            continue
        tail = text[m.end() : m.end() + 4]
        rate = next((r for word, r in RATES.items() if tail.startswith(word)), 1.0)
        out.append(value * rate)
    return out


def amount_ok(pred: float, gold: float, currency: str) -> bool:
    tol = AMOUNT_TOL_CNY if currency == "CNY" else AMOUNT_TOL_FOREIGN
    return abs(pred - gold) <= tol * abs(gold) + 1e-9


# --------------------------------------------------------------------------- scoring


@dataclass
class Pred:
    name: str
    company: str | None
    value: float | None
    stage: str
    approximate: bool
    amount_text: str | None
    evidence: str

    @classmethod
    def of(cls, p: Any) -> Pred:
        inv = getattr(p, "investment_yi", None)
        stage = getattr(p, "stage", "unknown")
        return cls(
            name=str(getattr(p, "name", "") or ""),
            company=getattr(p, "company", None),
            value=None if inv is None else float(inv),
            stage=str(getattr(stage, "value", stage) or "unknown"),
            approximate=bool(getattr(p, "approximate", False)),
            amount_text=getattr(p, "amount_text", None),
            evidence=str(getattr(p, "evidence", "") or ""),
        )


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def prf(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class Report:
    threshold: float
    passages: int = 0
    sites: int = 0
    gold_projects: int = 0
    gold_large: int = 0
    predicted: int = 0
    predicted_without_amount: int = 0
    large: Counts = field(default_factory=Counts)
    all: Counts = field(default_factory=Counts)
    amount_right: int = 0
    amount_checked: int = 0
    stage_right: int = 0
    stage_checked: int = 0
    not_projects_total: int = 0
    not_projects_taken: int = 0
    errors: int = 0
    seconds: float = 0.0
    issues: list[dict[str, Any]] = field(default_factory=list)
    recall_by_tag: dict[str, Counter[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 1.0

        by_tag = {
            t: {"gold": c["gold"], "found": c["found"], "recall": ratio(c["found"], c["gold"])}
            for t, c in sorted(self.recall_by_tag.items())
            if c["gold"]
        }
        return {
            "threshold_yi": self.threshold,
            "passages": self.passages,
            "sites": self.sites,
            "gold_projects": self.gold_projects,
            "gold_large_projects": self.gold_large,
            "predicted_with_amount": self.predicted,
            "predicted_without_amount": self.predicted_without_amount,
            "large": self.large.prf(),
            "all": self.all.prf(),
            "amount_accuracy": ratio(self.amount_right, self.amount_checked),
            "amount_checked": self.amount_checked,
            "stage_accuracy": ratio(self.stage_right, self.stage_checked),
            "stage_checked": self.stage_checked,
            "not_projects_total": self.not_projects_total,
            "not_projects_taken_as_investment": self.not_projects_taken,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "recall_by_tag": by_tag,
        }


def match(preds: Sequence[Pred], golds: Sequence[dict[str, Any]]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching, best name score first (amount closeness breaks ties)."""
    pairs: list[tuple[float, float, int, int]] = []
    for i, p in enumerate(preds):
        for j, g in enumerate(golds):
            s = max(
                name_score(p.name, g["name"], g.get("company")),
                name_score(p.name, g["name"], p.company) if p.company else 0.0,
                name_score(p.name, g["name"]),  # a name that is (mostly) the company itself
            )
            if s >= MATCH_MIN:
                closeness = -abs((p.value or 0.0) - float(g["investment_yi"]))
                pairs.append((s, closeness, i, j))
    pairs.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    out: list[tuple[int, int, float]] = []
    for s, _, i, j in pairs:
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        out.append((i, j, s))
    return out


def _snippet(text: str, needle: str, width: int = 60) -> str:
    key = needle[:6] if needle else ""
    k = text.find(key) if key else -1
    if k < 0:
        return text[:width].replace("\n", " ") + "…"
    lo, hi = max(0, k - width // 3), min(len(text), k + width)
    return ("…" if lo else "") + text[lo:hi].replace("\n", " ") + ("…" if hi < len(text) else "")


def score_passage(rec: dict[str, Any], preds: Sequence[Pred], rep: Report) -> None:
    th = rep.threshold
    golds = rec["projects"]
    with_amount = [p for p in preds if p.value is not None]
    rep.predicted += len(with_amount)
    rep.predicted_without_amount += len(preds) - len(with_amount)
    rep.gold_projects += len(golds)
    rep.gold_large += sum(float(g["investment_yi"]) >= th for g in golds)

    pairs = match(with_amount, golds)
    gold_of = {i: j for i, j, _ in pairs}
    pred_of = {j: i for i, j, _ in pairs}

    def issue(kind: str, **kw: Any) -> None:
        rep.issues.append({"id": rec["id"], "kind": kind, **kw})

    # ALL projects with an amount
    rep.all.tp += len(pairs)
    rep.all.fp += len(with_amount) - len(pairs)
    rep.all.fn += len(golds) - len(pairs)
    for i, p in enumerate(with_amount):
        if i not in gold_of:
            issue(
                "FP" + (" LARGE" if p.value is not None and p.value >= th else ""),
                name=p.name,
                value=p.value,
                amount_text=p.amount_text,
                snippet=(p.evidence or _snippet(rec["text"], p.name))[:120],
            )
    for j, g in enumerate(golds):
        if j not in pred_of:
            issue(
                "FN" + (" LARGE" if float(g["investment_yi"]) >= th else ""),
                name=g["name"],
                value=g["investment_yi"],
                snippet=_snippet(rec["text"], g["name"]),
            )

    # LARGE projects
    for i, p in enumerate(with_amount):
        if p.value is None or p.value < th:
            continue
        gj = gold_of.get(i)
        if gj is not None and float(golds[gj]["investment_yi"]) >= th:
            rep.large.tp += 1
        else:
            rep.large.fp += 1
    for j, g in enumerate(golds):
        if float(g["investment_yi"]) < th:
            continue
        pi = pred_of.get(j)
        if pi is None or (with_amount[pi].value or 0.0) < th:
            rep.large.fn += 1

    # amounts and stages on matched pairs
    for i, j, _ in pairs:
        p, g = with_amount[i], golds[j]
        rep.amount_checked += 1
        if amount_ok(p.value or 0.0, float(g["investment_yi"]), g.get("currency", "CNY")):
            rep.amount_right += 1
        else:
            issue("AMOUNT", name=g["name"], gold=g["investment_yi"], predicted=p.value, amount_text=p.amount_text)
        rep.stage_checked += 1
        if p.stage == g.get("stage", "unknown"):
            rep.stage_right += 1
        else:
            issue("STAGE", name=g["name"], gold=g.get("stage"), predicted=p.stage)

    # not_projects reported as an investment (unmatched, or matched with that wrong amount)
    rep.not_projects_total += len(rec.get("not_projects", []))
    suspicious = [
        p
        for i, p in enumerate(with_amount)
        if i not in gold_of
        or not amount_ok(
            p.value or 0.0, float(golds[gold_of[i]]["investment_yi"]), golds[gold_of[i]].get("currency", "CNY")
        )
    ]
    for figure in rec.get("not_projects", []):
        vals = figure_values(figure)
        squashed = re.sub(r"\s+", "", figure)
        for p in suspicious:
            by_text = bool(p.amount_text) and re.sub(r"\s+", "", p.amount_text or "") in squashed
            by_value = any(abs((p.value or 0.0) - v) <= 0.02 * max(v, 1e-9) for v in vals)
            if by_text or by_value:
                rep.not_projects_taken += 1
                issue("NOT_PROJECT", figure=figure, name=p.name, value=p.value)
                break

    # recall by tag (all gold projects of a passage carry its tags)
    for tag in rec.get("tags", []):
        c = rep.recall_by_tag.setdefault(tag, Counter())
        c["gold"] += len(golds)
        c["found"] += len(pairs)


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def engine_extractor(rules_path: Path = RULES) -> Extractor:
    """The real engine; raises ImportError when ``crawler.rules`` is not importable yet."""
    from crawler.rules import extract_projects, load_ruleset_file

    rules = load_ruleset_file(rules_path)
    return lambda text: extract_projects(text, rules)


def evaluate(records: Iterable[dict[str, Any]], extract: Extractor, threshold: float = 10.0) -> Report:
    records = list(records)
    rep = Report(threshold=threshold, passages=len(records), sites=len({r["site"] for r in records}))
    start = time.perf_counter()
    for rec in records:
        try:
            preds = [Pred.of(p) for p in extract(rec["text"])]
        except Exception as exc:  # one bad passage must not stop the report
            rep.errors += 1
            rep.issues.append(
                {
                    "id": rec["id"],
                    "kind": "ERROR",
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=3),
                }
            )
            preds = []
        score_passage(rec, preds, rep)
    rep.seconds = time.perf_counter() - start
    return rep


def format_report(rep: Report, verbose: bool = False) -> str:
    d = rep.as_dict()

    def pct(x: float) -> str:
        return f"{100 * x:5.1f}%"

    lines = [
        f"passages {d['passages']}  sites {d['sites']}  gold projects {d['gold_projects']} "
        f"(large >= {rep.threshold:g}亿: {d['gold_large_projects']})  predicted with amount "
        f"{d['predicted_with_amount']} (+{d['predicted_without_amount']} without)  errors {d['errors']}  "
        f"{d['seconds']}s",
    ]
    for key, label in (("large", f"LARGE >= {rep.threshold:g}亿"), ("all", "ALL with amount")):
        m = d[key]
        lines.append(
            f"{label:<16} P {pct(m['precision'])}  R {pct(m['recall'])}  F1 {pct(m['f1'])}"
            f"   (tp {m['tp']} fp {m['fp']} fn {m['fn']})"
        )
    lines.append(
        f"amount accuracy {pct(d['amount_accuracy'])} of {d['amount_checked']} matched;  "
        f"stage accuracy {pct(d['stage_accuracy'])} of {d['stage_checked']}"
    )
    lines.append(
        f"not_projects taken as a project investment: {d['not_projects_taken_as_investment']} "
        f"of {d['not_projects_total']}"
    )
    if verbose:
        lines.append("")
        lines.append("recall by tag:")
        for tag, v in d["recall_by_tag"].items():
            lines.append(f"  {tag:<20} {v['found']:>3}/{v['gold']:<3} {pct(v['recall'])}")
        lines.append("")
        order = {"ERROR": 0, "FP LARGE": 1, "FN LARGE": 2, "NOT_PROJECT": 3, "FP": 4, "FN": 5, "AMOUNT": 6, "STAGE": 7}
        for it in sorted(rep.issues, key=lambda x: (order.get(x["kind"], 9), x["id"])):
            rest = {k: v for k, v in it.items() if k not in ("id", "kind", "trace")}
            lines.append(f"{it['kind']:<11} {it['id']}  " + json.dumps(rest, ensure_ascii=False))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--rules", type=Path, default=RULES)
    ap.add_argument("--threshold", type=float, default=10.0, help="large-project line in 亿元 (default 10)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--verbose", action="store_true", help="list every FP/FN/amount/stage miss")
    ap.add_argument("--only", default="", help="comma-separated passage ids")
    args = ap.parse_args(argv)
    try:
        records = load_corpus(args.corpus)
    except OSError as exc:
        print(f"cannot read corpus: {exc}", file=sys.stderr)
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        records = [r for r in records if r["id"] in wanted]
    try:
        extract = engine_extractor(args.rules)
    except Exception as exc:
        print(f"cannot load the rules engine: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    rep = evaluate(records, extract, args.threshold)
    if args.json:
        d = rep.as_dict()
        if args.verbose:
            d["issues"] = [{k: v for k, v in it.items() if k != "trace"} for it in rep.issues]
        print(json.dumps(d, ensure_ascii=False))
    else:
        print(format_report(rep, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
