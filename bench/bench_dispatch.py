"""Benchmark the outbox dispatcher: N pending project alerts sent to a jsonl sink, on a fresh database.

    .venv/bin/python bench/bench_dispatch.py                      # 2,000 alerts, HEAD's dispatcher vs the tree's
    .venv/bin/python bench/bench_dispatch.py -n 500 --rounds 3    # smaller, best of 3
    .venv/bin/python bench/bench_dispatch.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The rows are what ingestion writes: an article (the text of one of ``seeds/*.txt``), a project, two
mentions and one pending ``alerts`` row per project, inserted with Core statements (untimed). Each
variant gets its own fresh database and jsonl file; the baseline is ``crawler/alerts/dispatch.py`` as
committed at ``--baseline`` (``git show``, loaded as a temporary module), the candidate is the working
tree's. Reported per variant: seconds for ``dispatch_pending`` and alerts/s; every alert must end
``sent`` with one finished attempt row and one jsonl line, else the script fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.alerts.notifiers import JsonlNotifier  # noqa: E402
from crawler.store import open_database  # noqa: E402
from crawler.store.db import Database  # noqa: E402
from crawler.store.schema import AlertAttemptRow, AlertRow, ArticleRow, MentionRow, ProjectRow  # noqa: E402

SEEN = datetime(2023, 4, 4, 12)


def load_baseline(rev: str) -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{rev}:crawler/alerts/dispatch.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("bench_dispatch_baseline")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:crawler/alerts/dispatch.py", "exec"), module.__dict__)
    return module


def load_tree() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dispatch_tree", ROOT / "crawler/alerts/dispatch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module.__name__] = module
    spec.loader.exec_module(module)
    return module


def fill(db: Database, n: int) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    with db.engine.begin() as conn:
        conn.execute(insert(ArticleRow), [_article(i, texts[i % len(texts)]) for i in range(n)])
        article_ids = conn.scalars(select(ArticleRow.id).order_by(ArticleRow.id)).all()
        conn.execute(insert(ProjectRow), [_project(i, aid) for i, aid in enumerate(article_ids)])
        project_ids = conn.scalars(select(ProjectRow.id).order_by(ProjectRow.id)).all()
        pairs = list(zip(project_ids, article_ids, strict=True))
        conn.execute(insert(MentionRow), [_mention(p, a, k) for p, a in pairs for k in (0, 1)])
        conn.execute(insert(AlertRow), [_alert(p, a) for p, a in pairs])


def _article(i: int, body: str) -> dict[str, Any]:
    return {
        "url": f"http://bench.gov.cn/a{i}.html",
        "canonical_url": f"http://bench.gov.cn/a{i}.html",
        "source_name": "bench",
        "region": "辽宁省 抚顺市",
        "title": f"抚顺市抓招商上项目 第{i}篇",
        "published": date(2023, 4, 4),
        "published_or_seen": date(2023, 4, 4),
        "text": body,
        "content_hash": f"{i:064d}",
        "first_seen": SEEN,
    }


def _project(i: int, article_id: int) -> dict[str, Any]:
    return {
        "name": f"65万吨苯酚丙酮一体化产业链项目{i}",
        "name_key": f"key{i}",
        "company": "江苏三木集团",
        "region": "辽宁省 抚顺市",
        "investment_yi": Decimal("86.8") + i,
        "amount_text": "86.8亿元",
        "stage": "signed",
        "first_article_id": article_id,
        "first_seen": SEEN,
        "last_seen": SEEN,
    }


def _mention(project_id: int, article_id: int, k: int) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "article_id": article_id,
        "name": f"项目{project_id}",
        "investment_yi": Decimal("86.8") if k == 0 else None,
        "amount_text": "86.8亿元",
        "stage": "signed",
        "evidence": f"此次落地的项目总投资86.8亿元，总占地1607亩。({k})",
        "created_at": SEEN,
    }


def _alert(project_id: int, article_id: int) -> dict[str, Any]:
    return {
        "kind": "project",
        "project_id": project_id,
        "article_id": article_id,
        "rule": "large-project",
        "channel": "jsonl",
        "idempotency_key": f"key-{project_id}-jsonl",
        "status": "pending",
        "attempts": 0,
        "created_at": SEEN,
        "next_attempt_at": SEEN,
    }


@contextmanager
def fresh_database(kind: str, work: Path, postgres: str | None) -> Iterator[Database]:
    if kind == "sqlite":
        db = open_database(f"sqlite:///{work / f'{uuid.uuid4().hex[:8]}.db'}")
        try:
            yield db
        finally:
            db.close()
        return
    assert postgres is not None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    sep = "&" if "?" in postgres else "?"
    db = open_database(f"{postgres}{sep}options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.close()
        with admin.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


def run_once(dispatch: Callable[..., Any], kind: str, n: int, work: Path, postgres: str | None) -> float:
    with fresh_database(kind, work, postgres) as db:
        fill(db, n)
        sink = work / f"{uuid.uuid4().hex[:8]}.jsonl"
        start = time.perf_counter()
        stats = dispatch(db, [JsonlNotifier("jsonl", sink)], now=datetime(2023, 4, 5))
        elapsed = time.perf_counter() - start
        check(db, n, sink, stats)
    return elapsed


def check(db: Database, n: int, sink: Path, stats: Any) -> None:
    with db.session() as s:
        sent = s.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.status == "sent"))
        finished = s.scalar(select(func.count()).select_from(AlertAttemptRow).where(AlertAttemptRow.ok.is_(True)))
        attempts = s.scalar(select(func.count()).select_from(AlertAttemptRow))
    lines = len(sink.read_text(encoding="utf-8").splitlines())
    if not (stats.sent == sent == finished == attempts == lines == n):
        raise SystemExit(f"wrong outcome: stats {stats}, sent {sent}, attempts {attempts}/{finished}, lines {lines}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000, help="pending project alerts (default 2000)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per variant; the best is reported")
    parser.add_argument("--baseline", default="HEAD", help="git revision of the baseline dispatcher (default HEAD)")
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh schema each run)")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()  # one INFO line per alert would time the terminal
    variants = {f"{args.baseline}": load_baseline(args.baseline), "working tree": load_tree()}
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        for kind in kinds:
            rates = {}
            for label, module in variants.items():
                best = min(
                    run_once(module.dispatch_pending, kind, args.n, Path(tmp), args.postgres)
                    for _ in range(args.rounds)
                )
                rates[label] = args.n / best
                print(f"{kind:10} {label:14} {args.n} alerts in {best:6.2f} s: {rates[label]:7.0f} alerts/s")
            first, last = rates.values()
            print(f"{kind:10} speed-up x{last / first:.1f}")


if __name__ == "__main__":
    main()
