"""Alembic environment: always run with a connection handed over by ``crawler.store.db.upgrade``."""

from __future__ import annotations

from alembic import context

from crawler.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through crawler.store.db.upgrade (newsmon does it on first use)")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
