"""Scrapy's downloader, holding each host to its concurrency limit under the asyncio reactor.

Scrapy 2.19's ``Downloader._process_queue`` starts a host's queued requests while
``slot.free_transfer_slots()`` is positive, and a request counts as transferring only once the task
that downloads it runs. Under the asyncio reactor (Scrapy's default) that task starts later, so every
queued request is started at once: 7 requests in flight to a host limited to 2, measured here.
``CONCURRENT_REQUESTS_PER_DOMAIN`` is how newsmon is polite to small government servers, so this
downloader hands Scrapy only as many queued requests as the host has free slots, and counts those
started as transferring at once (Scrapy adds them again, to a set, when their task runs).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from scrapy.core.downloader import Downloader, Slot


class SlotLimitedDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        free = max(slot.free_transfer_slots(), 0)
        held: deque[Any] = deque()
        while len(slot.queue) > free:
            held.appendleft(slot.queue.pop())
        offered = [request for request, _ in slot.queue]
        try:
            super()._process_queue(slot)
        finally:
            slot.transferring.update(offered[: len(offered) - len(slot.queue)])  # the ones Scrapy started
            slot.queue.extend(held)
