"""Engine, sessions and migrations. SQLite (WAL) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crawler.errors import NewsmonError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision (tests/test_store.py holds it to alembic's head). A database found
# at it is opened without importing alembic (~0.2 s of every process's start: a crawl's ingest child
# never migrates); any other revision, or none, goes through alembic, so a stale value costs time only.
SCHEMA_HEAD = "0006"
IN_CHUNK = 500  # values bound in one IN (...) query: well under every database's limit


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any exception."""
        with self.sessions.begin() as session:
            yield session

    def session(self) -> Session:
        return self.sessions()

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str, migrate: bool = True) -> Database:
    """Connect, and bring the schema to the newest migration (first use creates it)."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return Database(engine)


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise NewsmonError(f"database URL {url!r} is not valid: {exc}") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(parsed, future=True, pool_pre_ping=True, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets a status command read while a crawl writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    # synchronous=NORMAL with WAL: no corruption on a crash; a power loss may drop the last commits,
    # whose URLs are then not stored either, so the next crawl fetches them again.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upgrade(engine: Engine) -> None:
    """Apply the pending migrations, if any, in one transaction.

    On SQLite, foreign keys are off while they run (batch migrations rebuild a table by dropping
    it, which other tables may refer to) and every reference is checked before the commit.
    """
    try:
        with engine.connect() as connection:
            current = _stored_revision(connection)
            connection.rollback()
            if current != SCHEMA_HEAD:
                _upgrade_with_alembic(connection, current, sqlite=engine.dialect.name == "sqlite")
    except OperationalError as exc:
        raise NewsmonError(f"cannot open database {engine.url!r}: {exc.orig}") from None
    logger.debug("database {} at newest schema", engine.url.render_as_string(hide_password=True))


def _stored_revision(connection: Connection) -> str | None:
    """The revision alembic recorded in the database (its ``alembic_version`` table), None if none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return str(revision) if revision is not None else None


def _upgrade_with_alembic(connection: Connection, current: str | None, sqlite: bool) -> None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if current != ScriptDirectory.from_config(cfg).get_current_head():
        _migrate(connection, cfg, sqlite)


def _migrate(connection: Connection, cfg: AlembicConfig, sqlite: bool) -> None:
    from alembic import command

    if sqlite:  # only takes effect outside a transaction
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise NewsmonError(f"the migration broke foreign keys: {broken[:5]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def driver_rows(connection: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` straight from the DBAPI cursor, in the connection's transaction.

    For hot read paths whose columns need no conversion (integers, text): SQLAlchemy's result
    processing costs more than SQLite's own work on a few hundred rows. ``sql`` is in the driver's
    parameter style (``paramstyle_mark``)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(params))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def paramstyle_mark(connection: Connection) -> str | None:
    """The positional parameter marker of the connection's driver, or None for a style not written here."""
    return _MARKS.get(connection.dialect.paramstyle)


def rows_where_in(session: Session, column: Any, values: Iterable[Any]) -> Iterator[Any]:
    """The ORM rows whose ``column`` is one of ``values``, a query per ``IN_CHUNK`` of them."""
    keys = list(dict.fromkeys(values))
    entity = column.class_
    for start in range(0, len(keys), IN_CHUNK):
        yield from session.scalars(select(entity).where(column.in_(keys[start : start + IN_CHUNK])))
