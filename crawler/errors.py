"""Exceptions shared across the core."""

from __future__ import annotations


class NewsmonError(Exception):
    """Base class: an error the CLI reports as one line, without a traceback."""


class ConfigError(NewsmonError):
    """A configuration file is missing, malformed, or has an unknown key or a bad value.

    The message always names the file and the dotted key, e.g.
    ``config/newsmon.yaml: alerts.threshold_yi: expected a number, got 'ten'``.
    """

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(f"{where}{problem}")
