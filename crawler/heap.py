"""The cyclic garbage collector, tuned for a crawl's processes once their start-up is done.

Measured on the bench mirror (bench/README.md, session 5): with Python's defaults the crawl process
spent ~18% of its CPU in the collector. Start-up leaves ~155,000 long-lived container objects
(Scrapy, Twisted, SQLAlchemy, lxml and the rules' tables) that every full collection walked again,
0.13 s a time; and with a young generation of 700 allocations, short-lived objects (a response's
requests, headers, Deferreds) that merely outlive a reactor turn were promoted and walked again in
the older generations. Freezing what start-up built takes it out of every collection (it is never
garbage: modules, classes, compiled rules); a young generation of 50,000 allocations lets most
objects die by reference counting before any collection sees them. Cycles are still collected,
only in larger batches. The same thresholds from the CLI's first line spare start-up's imports the
full collections they triggered, and the frozen heap is not walked at exit either: a re-crawl of
unchanged columns spent 0.70 s in the collector (mostly single-core start and exit), now 0.18 s.
"""

from __future__ import annotations

import gc

YOUNG_ALLOCATIONS = 50_000  # Python's default is 700
# Then the middle generation is collected every 20 young collections (1M allocations instead of
# 7,000), the oldest every 100 of those and only when its pending objects pass 25% of it (CPython's rule).
OLDER_COLLECTIONS = (20, 100)


def tune_collector() -> None:
    """First thing in a process (``newsmon``'s main): start-up's imports then meet no full collection
    (each walked every object imported so far: ~0.3 s of a crawl's single-core start)."""
    gc.set_threshold(YOUNG_ALLOCATIONS, *OLDER_COLLECTIONS)


def settle_after_startup() -> None:
    """Call once a process has imported and built what it keeps for its whole life, before its work.
    No collection first: it would walk all of it once more (~0.15 s) to free ~1,300 objects."""
    gc.freeze()
    tune_collector()
