"""Storage: one database is the truth (articles, projects, mentions, the alert outbox, crawl runs)."""

from crawler.store.db import Database, open_database

__all__ = ["Database", "open_database"]
