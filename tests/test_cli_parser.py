"""The command line's parser: every command is there for the user, while a crawl's start loads only
what the crawl needs (the command groups' modules would delay its ingest child)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

COMMAND_GROUP_MODULES = ("crawler.alerts.commands", "crawler.projects_cmd", "crawler.sources_cmd")


def test_help_and_errors_name_every_command(tmp_path: Path) -> None:
    listed = run_cli("--help", cwd=tmp_path)
    assert listed.code == 0
    for command in ("replay", "extract", "crawl", "alerts", "run", "status", "projects", "dedup", "sources"):
        assert command in listed.stdout, command
    wrong = run_cli("crawlx", cwd=tmp_path)
    assert wrong.code == 2 and "invalid choice" in wrong.stderr and "projects" in wrong.stderr


@pytest.mark.parametrize(
    ("argv", "groups_loaded"),
    [
        (["crawl", "--all"], False),
        (["replay"], False),
        (["projects", "--min-yi", "10"], True),
        (["alerts", "list"], True),
    ],
)
def test_the_command_groups_are_loaded_only_for_their_commands(argv: list[str], groups_loaded: bool) -> None:
    probe = (
        "import sys; from crawler.cli import build_parser; build_parser(sys.argv[1]).parse_args(sys.argv[1:]); "
        f"print(all(m in sys.modules for m in {COMMAND_GROUP_MODULES!r}))"
    )
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(groups_loaded)


def test_a_command_groups_help_still_works(tmp_path: Path) -> None:
    shown = run_cli("projects", "--help", cwd=tmp_path)
    assert shown.code == 0 and "usage: newsmon projects" in shown.stdout
