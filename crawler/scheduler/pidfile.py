"""The daemon's pid file under data_dir: one daemon per data folder, and `status` can tell it runs."""

from __future__ import annotations

import os
from pathlib import Path

from crawler.errors import NewsmonError

PID_FILE = "newsmon.pid"


def claim_pid_file(data_dir: Path) -> Path:
    """Refuse to start a second daemon on the same data folder: both would run every job."""
    path = data_dir / PID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    other = running_daemon(data_dir)
    if other is not None and other != os.getpid():
        raise NewsmonError(f"another `newsmon run` (pid {other}) is running on {data_dir} (or delete {path})")
    path.write_text(f"{os.getpid()}\n", encoding="utf-8")
    return path


def running_daemon(data_dir: Path) -> int | None:
    """The pid in the pid file if that process is alive, else None."""
    try:
        pid = int((data_dir / PID_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
