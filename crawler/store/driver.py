"""Prebuilt Core statements run on the DBAPI cursor of a connection: the ingest path's writes and reads.

For the small statements ingestion runs for every article, ``Connection.execute`` cost more than the
database's own work (its execution context, parameter processing and result objects: bench/README.md).
Here a statement is compiled once per (statement, dialect, parameter keys) by the dialect SQLAlchemy
would use, and each call sends the values SQLAlchemy would send: every bound parameter in the compiled
order (or by name, for a named parameter style), the scalar ``default=`` of each column a row leaves
out, each value through its type's bind processor (on SQLite: dates and datetimes as SQLAlchemy's ISO
text, Numeric as float, Boolean as 0/1), and the returned columns through their result processors.

Drivers other than those in ``DRIVERS``, and connections with the execution option ``SQLALCHEMY_ONLY``
set, run the statements through ``Connection.execute``: the plain path, which tests compare this one
with (tests/test_driver_writes.py). A statement this module cannot reproduce (a callable or SQL default,
an expanding or literal-execute parameter) raises ``NotImplementedError`` on its first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler

SQLALCHEMY_ONLY = "newsmon_sqlalchemy_only"  # execution option: run every statement through SQLAlchemy
DRIVERS = frozenset({("sqlite", "pysqlite"), ("postgresql", "psycopg")})  # the drivers this is tested on

Params = Mapping[str, Any]


@dataclass(frozen=True)
class _Bind:
    name: str  # its name in the SQL (a named parameter style's key)
    key: str  # the key a parameter dict gives its value by
    fallback: Any  # its value when a row gives none: the bind's own value, or its column's default
    required: bool  # a row must give it
    fixed: bool  # always ``fallback``: a column default SQLAlchemy fills in (a "prefetch" column)
    process: Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    statement: Executable  # held so that its id, the cache key, is not reused
    sql: str
    binds: tuple[_Bind, ...]
    named: bool  # the driver takes a dict of names, else a tuple in the markers' order
    # Each returned column's result processor; None if one needs the cursor's column type (PostgreSQL's
    # Numeric: such a statement's rows are only read as the driver gives them, ``processed=False``).
    results: tuple[Callable[[Any], Any] | None, ...] | None
    # The common case without a loop in Python: a row giving every bind (and no column default to fill).
    pick: Callable[[Params], tuple[Any, ...]] | None  # the binds' values from such a row, in order
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # (index, bind processor) of the binds with one


def _plan_for(statement: Executable, dialect: Dialect, keys: tuple[str, ...] | None, many: bool) -> _Plan:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=keys, for_executemany=many)
    assert isinstance(compiled, SQLCompiler)
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.update_prefetch:
        raise NotImplementedError(f"not run on the driver: {compiled.string}")
    defaults = {column.key: column.default for column in compiled.insert_prefetch}
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    order = compiled.positiontup if compiled.positional else list(by_name)
    escaped = compiled.escaped_bind_names
    binds = []
    for name in order or ():
        bind = by_name[name]
        default = defaults.get(name)
        if bind.callable is not None or (default is not None and not getattr(default, "is_scalar", False)):
            raise NotImplementedError(f"not run on the driver (a computed value for {name}): {compiled.string}")
        fixed = name in defaults
        fallback = getattr(default, "arg", None) if fixed else bind.value
        process: Callable[[Any], Any] | None = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None and isinstance(bind.type, DateTime):
            process = _remembering(process)
        binds.append(_Bind(escaped.get(name, name), bind.key, fallback, bind.required and not fixed, fixed, process))
    columns = getattr(statement, "exported_columns", ())
    try:
        results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    except (TypeError, exc.InvalidRequestError):
        results = None
    processed = tuple((i, bind.process) for i, bind in enumerate(binds) if bind.process is not None)
    named = not compiled.positional
    return _Plan(statement, compiled.string, tuple(binds), named, results, _picker(binds), processed)


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process``, giving its last result again for the very same object: an article's rows (its
    mentions, its projects' ``last_seen``) bind one datetime, and SQLite's text for it costs a format."""
    last: list[tuple[Any, Any]] = [(object(), None)]

    def remembered(value: Any) -> Any:
        held = last[0]  # one read: another thread may replace it meanwhile
        if held[0] is value:
            return held[1]
        result = process(value)
        last[0] = (value, result)
        return result

    return remembered


def _picker(binds: list[_Bind]) -> Callable[[Params], tuple[Any, ...]] | None:
    """An itemgetter of the binds' keys, for a statement whose every value comes from the row."""
    if not all(bind.required for bind in binds):  # a column default or the bind's own value
        return None
    keys = [bind.key for bind in binds]
    if len(keys) > 1:
        return itemgetter(*keys)
    return (lambda row: (row[keys[0]],)) if keys else (lambda row: ())


class PlanCache:
    """Compiled plans by (statement, dialect, parameter keys, executemany): computed once, on first use."""

    LIMIT = 256

    def __init__(self) -> None:
        self._plans: dict[tuple[Any, ...], _Plan] = {}

    def get(self, statement: Executable, dialect: Dialect, keys: tuple[str, ...] | None, many: bool) -> _Plan:
        # The dialect's identity is its name, driver, parameter style and server version (which may
        # change what it renders), not the object: every engine has its own.
        version = dialect.server_version_info
        key = (id(statement), dialect.name, dialect.driver, dialect.paramstyle, version, keys, many)
        plan = self._plans.get(key)
        if plan is None or plan.statement is not statement:
            if len(self._plans) >= self.LIMIT:  # statements built for each call: compiled each time anyway
                self._plans.clear()
            plan = self._plans[key] = _plan_for(statement, dialect, keys, many)
        return plan

    def clear(self) -> None:
        self._plans.clear()


PLANS = PlanCache()


def on_driver(connection: Connection) -> bool:
    """Whether this connection's statements go to its DBAPI cursor (else through ``Connection.execute``)."""
    dialect = connection.dialect
    return (dialect.name, dialect.driver) in DRIVERS and not connection.get_execution_options().get(SQLALCHEMY_ONLY)


def _values(plan: _Plan, row: Params) -> tuple[Any, ...] | dict[str, Any]:
    """What Connection.execute would send for ``row``: each bind's value, through its bind processor."""
    picked: Sequence[Any] | None = None
    if plan.pick is not None:
        try:
            picked = plan.pick(row)
        except KeyError:  # a value is missing: the loop below says which
            picked = None
    if picked is not None and not plan.processed:
        return _shaped(plan, picked)
    values = _each_value(plan, row) if picked is None else list(picked)
    for i, process in plan.processed:
        values[i] = process(values[i])
    return _shaped(plan, values)


def _shaped(plan: _Plan, values: Sequence[Any]) -> tuple[Any, ...] | dict[str, Any]:
    if plan.named:
        return {bind.name: value for bind, value in zip(plan.binds, values, strict=True)}
    return tuple(values)


def _each_value(plan: _Plan, row: Params) -> list[Any]:
    """Each bind's value as Compiled.construct_params, then the execution's column defaults, give it."""
    values = []
    for bind in plan.binds:
        if bind.fixed:
            values.append(bind.fallback)
        elif bind.key in row:
            values.append(row[bind.key])
        elif bind.name in row:
            values.append(row[bind.name])
        elif bind.required:
            raise exc.InvalidRequestError(f"A value is required for bind parameter {bind.key!r}")
        else:
            values.append(bind.fallback)
    return values


def execute(connection: Connection, statement: Executable, params: Params) -> None:
    """``connection.execute(statement, params)``, its result unread."""
    if not on_driver(connection):
        connection.execute(statement, params)
        return
    plan = PLANS.get(statement, connection.dialect, tuple(sorted(params)), False)
    _run(connection, plan, _values(plan, params), many=False)


def executemany(connection: Connection, statement: Executable, rows: Sequence[Params]) -> None:
    """``connection.execute(statement, rows)``: every row's keys are the first row's (as SQLAlchemy assumes)."""
    if not rows:
        return
    if not on_driver(connection):
        connection.execute(statement, list(rows))
        return
    # As Connection.execute: the statement is compiled for executemany only for more than one row.
    plan = PLANS.get(statement, connection.dialect, tuple(sorted(rows[0])), len(rows) > 1)
    if len(rows) == 1:
        _run(connection, plan, _values(plan, rows[0]), many=False)
    else:
        _run(connection, plan, _all_values(plan, rows), many=True)


def _all_values(plan: _Plan, rows: Sequence[Params]) -> list[Any]:
    """``_values`` of each row; for rows that give every value as it is sent (a band's, a key's), one
    comprehension of the picker instead of a call per row (tens of thousands of rows a crawl)."""
    pick = plan.pick
    if pick is not None and not plan.processed and not plan.named:
        try:
            return [pick(row) for row in rows]  # the tuples ``_shaped`` would make
        except KeyError:  # a row lacks a value: ``_values`` says which
            pass
    return [_values(plan, row) for row in rows]


def all_rows(
    connection: Connection, statement: Executable, params: Params, processed: bool = True
) -> list[tuple[Any, ...]]:
    """``connection.execute(statement, params).all()``, as tuples; not ``processed``: on the driver's
    cursor, the values as the driver gives them (SQLite's float and ISO text), not through result processors."""
    if not on_driver(connection):
        return [tuple(row) for row in connection.execute(statement, params)]
    plan = PLANS.get(statement, connection.dialect, tuple(sorted(params)), False)
    rows = _run(connection, plan, _values(plan, params), many=False)
    if not processed or (plan.results is not None and not any(plan.results)):
        return rows
    if plan.results is None:
        raise NotImplementedError(f"not read on the driver (a column needs the cursor's type): {plan.sql}")
    return [tuple(v if p is None else p(v) for p, v in zip(plan.results, row, strict=True)) for row in rows]


def scalar(connection: Connection, statement: Executable, params: Params) -> Any:
    """``connection.execute(statement, params).scalar()``: the first column of the first row, or None."""
    rows = all_rows(connection, statement, params)
    return rows[0][0] if rows else None


def _run(connection: Connection, plan: _Plan, values: Any, many: bool) -> list[tuple[Any, ...]]:
    """Execute on a new cursor of the connection (in its transaction), and read every returned row.

    A driver error is raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), as
    Connection.execute raises it: callers catch those (``crawler.groupwrite``)."""
    if not connection.in_transaction():
        connection.begin()  # Connection.execute's autobegin
    dialect, dbapi_connection = connection.dialect, connection.connection
    cursor = dbapi_connection.cursor()
    try:
        if many:
            cursor.executemany(plan.sql, values)
            return []
        cursor.execute(plan.sql, values)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description is not None else []
    except dialect.loaded_dbapi.Error as error:
        failure, lost = error, dialect.is_disconnect(error, dbapi_connection, cursor)
    finally:
        cursor.close()
    if lost:  # as Connection.execute does: the connection is not used again
        connection.invalidate(failure)
    raise exc.DBAPIError.instance(
        plan.sql, values, failure, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    ) from failure
