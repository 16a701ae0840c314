"""Benchmark the near-duplicate index: insert N synthetic articles, then query planted reprints and fresh texts.

    .venv/bin/python bench/bench_neardup.py            # 100,000 articles, 20,000 queries
    .venv/bin/python bench/bench_neardup.py --n 5000   # quicker

Articles are generated from a Zipf-distributed vocabulary of Chinese "words" with shared stock openings,
so unrelated articles share common shingles as real portal news does. Half the queries are reprints of a
stored article with a random share of words replaced, a paragraph dropped or added, site chrome added,
and one in five converted to Traditional script; the other half are fresh articles. The truth of each
reprint is its exact shingle Jaccard similarity to its source: at or above the threshold it must be found
(else a false negative); below it, or fresh, it must not be (else a false positive).

Inserts go through the real index (``index_many``) and article rows, 500 per transaction; queries go
through ``find_near_duplicate`` exactly as ingestion calls it (fingerprint, band lookup, verification
on the stored texts). The report also times what a process would pay at start to rebuild an in-memory
index instead (reading and fingerprinting every stored text), the alternative the persisted bands avoid.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from opencc import OpenCC
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.dedup.minhash import _traditional_chars, fingerprint, jaccard, shingles
from crawler.dedup.neardup import NearDupSettings, find_near_duplicate, index_many
from crawler.store import open_database
from crawler.store.schema import ArticleRow

VOCAB = 30_000
_S2T = OpenCC("s2t")
BATCH = 500


class Corpus:
    """Deterministic synthetic articles: article i is the same text in every run."""

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        traditional = _traditional_chars()  # Simplified news uses none of them; the Traditional reprints do
        simplified = np.array([c for c in range(0x4E00, 0x9FA6) if not traditional.match(chr(c))])
        chars = rng.choice(simplified, size=3500, replace=False)
        char_p = 1.0 / np.arange(1, chars.size + 1) ** 0.9
        lengths = rng.choice([1, 2, 2, 2, 3, 3, 4], size=VOCAB)
        words = []
        for n in lengths:
            picked = rng.choice(chars, size=n, p=char_p / char_p.sum())
            words.append("".join(chr(c) for c in picked))
        self.words = np.array(words, dtype=object)
        word_p = 1.0 / np.arange(1, VOCAB + 1) ** 1.05
        self.word_p = word_p / word_p.sum()
        self.openings = [self._sentence(rng, 40) for _ in range(50)]

    def _sentence(self, rng: np.random.Generator, n_words: int) -> str:
        picked = self.words[rng.choice(VOCAB, size=n_words, p=self.word_p)]
        return "".join(picked) + "。"

    def paragraphs(self, i: int) -> list[str]:
        rng = np.random.default_rng(1_000_003 * i + 17)
        n_words = int(np.clip(rng.lognormal(6.2, 0.5), 150, 2000))
        picked = self.words[rng.choice(VOCAB, size=n_words, p=self.word_p)]
        paras, start = [], 0
        while start < n_words:
            size = int(rng.integers(40, 120))
            paras.append("，".join("".join(picked[j : j + 8]) for j in range(start, min(start + size, n_words), 8)))
            start += size
        if i % 3 == 0:
            paras.insert(0, self.openings[i % len(self.openings)])
        return [p + "。" for p in paras]

    def text(self, i: int) -> str:
        return "\n".join(self.paragraphs(i))

    def reprint(self, i: int, rng: np.random.Generator) -> str:
        """Article i as another site reprints it: some words replaced, a paragraph dropped or added, chrome."""
        paras = self.paragraphs(i)
        share = float(rng.uniform(0.0, 0.05))
        edited = []
        for para in paras:
            chars: list[str] = list(para)
            where = np.flatnonzero(rng.random(len(chars)) < share)
            for pos, word in zip(where, self.words[rng.choice(VOCAB, size=where.size, p=self.word_p)], strict=True):
                chars[pos] = word
            edited.append("".join(chars))
        if len(edited) > 3 and rng.random() < 0.3:
            del edited[int(rng.integers(len(edited)))]
        if rng.random() < 0.3:
            edited.append(self._sentence(rng, 30))
        text = "来源：某某网　责任编辑：张三\n" + "\n".join(edited) + "\n【打印本页】【关闭窗口】"
        if rng.random() < 0.2:
            text = str(_S2T.convert(text))
        return text


def insert_corpus(db: Any, corpus: Corpus, n: int) -> float:
    """Seconds spent fingerprinting and storing (generating the texts is not counted)."""
    elapsed = 0.0
    now = datetime(2024, 1, 1)
    for lo in range(0, n, BATCH):
        ids = range(lo + 1, min(lo + BATCH, n) + 1)
        texts = [corpus.text(i) for i in ids]
        started = time.perf_counter()
        with db.transaction() as session:
            session.execute(insert(ArticleRow), [_article(i, t, now) for i, t in zip(ids, texts, strict=True)])
            index_many(session, ((i, fingerprint(t)) for i, t in zip(ids, texts, strict=True)))
        elapsed += time.perf_counter() - started
        if lo and lo % 20_000 == 0:
            print(f"  inserted {lo:,} ({lo / elapsed:,.0f}/s)", flush=True)
    return elapsed


def _article(i: int, text: str, now: datetime) -> dict[str, Any]:
    return {
        "id": i,
        "url": f"http://bench.test/{i}.html",
        "canonical_url": f"http://bench.test/{i}.html",
        "source_name": "bench",
        "title": f"article {i}",
        "published_or_seen": date(2024, 1, 1),
        "text": text,
        "content_hash": f"{i:064x}",
        "first_seen": now,
    }


def run_queries(db: Any, corpus: Corpus, n: int, queries: int, settings: NearDupSettings) -> dict[str, Any]:
    """Queries in batches of 1,000: each batch is generated first, then timed on its own."""
    rng = np.random.default_rng(99)
    tally = {"positives": 0, "negatives": 0, "fp": 0, "fn": 0}
    elapsed = cpu = 0.0
    for lo in range(0, queries, 1000):
        batch = [_query(corpus, n, q, rng, settings.threshold) for q in range(lo, min(lo + 1000, queries))]
        with db.session() as session:
            started, cpu_started = time.perf_counter(), time.process_time()
            found = [find_near_duplicate(session, fingerprint(text), text, settings) for text, _, _ in batch]
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
        for (_, source, truth), match in zip(batch, found, strict=True):
            _score(tally, match.original_id if match else None, source, truth)
    return {**tally, "seconds": elapsed, "cpu_seconds": cpu}


def _query(corpus: Corpus, n: int, q: int, rng: np.random.Generator, threshold: float) -> tuple[str, int | None, bool]:
    """Even queries reprint a stored article (truth: similar enough or not), odd ones are fresh articles."""
    if q % 2:
        return corpus.text(n + 1 + q), None, False
    source = int(rng.integers(1, n + 1))
    text = corpus.reprint(source, rng)
    return text, source, jaccard(shingles(text), shingles(corpus.text(source))) >= threshold


def _score(tally: dict[str, int], found: int | None, source: int | None, truth: bool) -> None:
    if truth:
        tally["positives"] += 1
        tally["fn"] += int(found != source)
    else:
        tally["negatives"] += 1
        tally["fp"] += int(found is not None)


def rebuild_cost(db: Any) -> float:
    """Seconds to read and fingerprint every stored text: the start-up cost of an in-memory index."""
    started = time.perf_counter()
    with db.session() as session:
        for (text,) in session.execute(select(ArticleRow.text).execution_options(yield_per=2000)):
            _ = fingerprint(text).keys
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles inserted (default 100,000)")
    parser.add_argument("--queries", type=int, default=20_000, help="queries, half planted reprints")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument(
        "--db", help="SQLAlchemy URL of an empty database, or of one a previous run with the same --n filled"
    )
    parser.add_argument("--skip-rebuild", action="store_true", help="do not time the in-memory rebuild")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = open_database(url)
        corpus = Corpus()
        print(f"near-duplicate index benchmark: {args.n:,} articles, {args.queries:,} queries, {url}")
        with db.session() as session:
            stored = session.scalar(select(func.count()).select_from(ArticleRow))
        insert_s = insert_corpus(db, corpus, args.n) if stored != args.n else None
        result = run_queries(db, corpus, args.n, args.queries, NearDupSettings(threshold=args.threshold))
        rebuild_s = None if args.skip_rebuild else rebuild_cost(db)
        size = os.path.getsize(Path(tmp) / "bench.db") if not args.db else None
        db.close()
    _report(args, insert_s, result, rebuild_s, size)


def _report(args: Any, insert_s: float | None, r: dict[str, Any], rebuild_s: float | None, size: int | None) -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if insert_s is not None:
        print(f"inserts      {args.n / insert_s:10,.0f} articles/s  ({insert_s:.1f} s, {BATCH} per transaction)")
    print(
        f"queries      {args.queries / r['seconds']:10,.0f} queries/s   ({r['seconds']:.1f} s; "
        f"{args.queries / r['cpu_seconds']:,.0f} per CPU-second; load {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)"
    )
    print(f"reprints     {r['positives']:10,} at or above {args.threshold} (planted), {r['negatives']:,} negatives")
    print(f"false neg.   {r['fn'] / max(r['positives'], 1):10.4%}  ({r['fn']})")
    print(f"false pos.   {r['fp'] / max(r['negatives'], 1):10.4%}  ({r['fp']})")
    if rebuild_s is not None:
        print(f"rebuild      {rebuild_s:10.1f} s to fingerprint every stored text (paid per start if not persisted)")
    if size is not None:
        print(f"database     {size / 2**20:10.0f} MB")
    print(f"peak memory  {peak_mb:10.0f} MB (max RSS)")


if __name__ == "__main__":
    main()
