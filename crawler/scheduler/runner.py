"""Run one source's crawl in a child process, with a timeout, and report how it ended.

Why a child process per crawl rather than calling ``run_crawl`` in the daemon:

* Scrapy runs on Twisted's reactor, which can be started once per process and never restarted,
  so a long-lived process cannot run crawl after crawl;
* a hung crawl (a portal that accepts the connection and never answers, a parser stuck on a page)
  can be killed from outside, which a thread cannot;
* a crash or a memory blow-up in Scrapy, lxml or trafilatura takes down the child, not the daemon
  and the other sources' schedules.

Each child gets its own session (process group), so a Ctrl-C typed at the daemon's terminal
reaches only the daemon, which then decides whether the crawl may finish (grace period) or is
killed; killing signals the whole group.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from loguru import logger

from crawler.config import DATABASE_ENV

KILL_WAIT_S = 2.0  # after SIGTERM, how long a child may take to stop before SIGKILL
_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\s+(TRACE|DEBUG|INFO|SUCCESS|WARNING|ERROR|CRITICAL)\s+(.*)$")


@dataclass
class ChildOutcome:
    source: str
    started_at: datetime
    exit_code: int | None = None
    kill_reason: str | None = None  # set when the daemon killed it (timeout or shutdown)
    tallies: list[dict[str, Any]] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """The child ran to its end and recorded its own run (ok, or failed with errors)."""
        return self.kill_reason is None and self.exit_code in (0, 1)

    def failure_reason(self) -> str:
        if self.kill_reason:
            return self.kill_reason
        tail = "\n".join(self.stderr_tail[-5:])
        return f"crawl process exited with status {self.exit_code}" + (f":\n{tail}" if tail else "")


def child_command(source_name: str, config_folder: Path, verbosity: int) -> list[str]:
    command = [sys.executable, "-m", "crawler.scheduler.child", source_name, "--config", str(config_folder.resolve())]
    return command + ["-v"] * verbosity


class ChildCrawl:
    """One running crawl child. ``kill`` may be called from any thread; ``run`` blocks until it ends."""

    def __init__(self, source_name: str, command: Sequence[str], database_url: str) -> None:
        self.outcome = ChildOutcome(source_name, datetime.now())
        self.command = list(command)
        self.database_url = database_url  # handed over in the environment: a password stays out of `ps`
        self.process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def run(self, timeout_s: float) -> ChildOutcome:
        env = {**os.environ, DATABASE_ENV: self.database_url, "PYTHONUNBUFFERED": "1"}
        with self._lock:
            self.process = subprocess.Popen(
                self.command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=env,
                start_new_session=True,
            )
        assert self.process.stdout is not None and self.process.stderr is not None
        readers = [
            threading.Thread(target=self._forward_logs, args=(self.process.stderr,), daemon=True),
            threading.Thread(target=self._collect_output, args=(self.process.stdout,), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill(f"timed out: killed after {timeout_s:g} s (schedule.crawl_timeout_s)")
        for reader in readers:
            reader.join(timeout=KILL_WAIT_S)
        self.outcome.exit_code = self.process.returncode
        return self.outcome

    def kill(self, reason: str) -> None:
        """SIGTERM the child's process group, then SIGKILL it if it has not stopped within KILL_WAIT_S."""
        with self._lock:
            if self.outcome.kill_reason is None:
                self.outcome.kill_reason = reason
            process = self.process
        if process is None or process.poll() is not None:
            return
        logger.warning("crawl {}: {}", self.outcome.source, reason)
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def _forward_logs(self, stream: IO[str]) -> None:
        """Re-log the child's log lines through the daemon's sinks, prefixed with the source name."""
        tail: deque[str] = deque(maxlen=20)
        level = "INFO"
        for raw in stream:
            line = raw.rstrip()
            if not line:
                continue
            match = _LOG_LINE.match(line)
            if match:
                level, line = match[1], match[2]
            tail.append(line)
            logger.log(level, "[{}] {}", self.outcome.source, line)
        self.outcome.stderr_tail = list(tail)

    def _collect_output(self, stream: IO[str]) -> None:
        text = stream.read()
        try:
            data = json.loads(text) if text.strip() else []
        except json.JSONDecodeError:
            logger.warning("crawl {}: unreadable output {!r}", self.outcome.source, text[:200])
            return
        if isinstance(data, list):
            self.outcome.tallies = [d for d in data if isinstance(d, dict)]


def _signal_group(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
