"""What the spider hands the pipelines, and the seen-URL check it asks before any request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crawler.dedup import canonical_url
from crawler.store.db import Database
from crawler.store.schema import ArticleRow


@dataclass(frozen=True)
class FetchedPage:
    url: str
    body: bytes
    content_type: str | None
    source_name: str
    region: str | None
    fetched_at: datetime


class SeenUrls:
    """Answers "was this article stored already?" so the spider never requests it again."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def is_seen(self, url: str) -> bool:
        with self.db.session() as session:
            found = session.scalars(
                select(ArticleRow.id).where(ArticleRow.canonical_url == canonical_url(url)).limit(1)
            ).first()
        return found is not None
