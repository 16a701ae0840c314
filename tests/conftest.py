"""Shared fixtures: the repository, the shared material, databases, and running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
POSTGRES_ENV = "NEWSMON_TEST_POSTGRES_URL"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_seeds() -> Path:
    path = SHARED / "seeds"
    if not (path / "expected.yaml").exists():
        pytest.skip(f"shared seeds answer key not found at {path}")
    return path


@pytest.fixture(scope="session")
def config_dir() -> Path:
    return REPO / "config"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> CliResult:
    """Run `newsmon` as a user would: a separate process (Twisted's reactor runs once per process)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NEWSMON_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def postgres_url() -> str | None:
    """The PostgreSQL test server's URL if one answers, else None."""
    url = os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


def fresh_postgres_schema(url: str) -> Iterator[str]:
    """A URL whose tables live in a new schema, dropped afterwards, so tests never share state."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema {schema} cascade"))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on SQLite, and on PostgreSQL whenever the server answers."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newsmon.db'}"
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"no PostgreSQL answering at {os.environ.get(POSTGRES_ENV, POSTGRES_DEFAULT)}")
    yield from fresh_postgres_schema(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh databases of one kind, for two runs whose rows a test compares."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
        return
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL answering (tests.conftest.postgres_url)")
    with ExitStack() as stack:
        fresh = contextmanager(fresh_postgres_schema)
        yield stack.enter_context(fresh(url)), stack.enter_context(fresh(url))
