"""Stand-ins for crawl_runs and list_pages rows, for the pure health functions (``crawler.health.assess``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Run:
    source_name: str
    status: str
    started_at: datetime
    error_text: str | None = None


@dataclass
class Column:
    source_name: str
    url: str
    empty_streak: int = 0
    error_streak: int = 0
    last_error: str | None = None
