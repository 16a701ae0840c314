"""Logging: loguru everywhere, with the standard library's records (Scrapy, Twisted) routed into it."""

from __future__ import annotations

import logging
import sys
from types import FrameType

from loguru import logger


class InterceptHandler(logging.Handler):
    """Hands stdlib log records to loguru, keeping level and origin.

    Libraries are filtered here, on the handler, because Scrapy resets its loggers' levels when a
    crawl starts (``configure_logging``), so levels set on the loggers themselves do not stick.
    """

    def __init__(self, library_level: int) -> None:
        super().__init__(level=logging.DEBUG)
        self.library_level = library_level

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < self.library_level:
            return
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame: FrameType | None = logging.currentframe()
        depth = 2
        while frame is not None and frame.f_code.co_filename == logging.__file__:
            frame, depth = frame.f_back, depth + 1
        logger.opt(depth=depth, exception=record.exc_info).log(level, "[{}] {}", record.name, record.getMessage())


def setup_logging(verbosity: int = 0) -> None:
    """0: newsmon at info, libraries at warning; 1: libraries at info; 2+: everything at debug."""
    logger.remove()
    level = "DEBUG" if verbosity >= 2 else "INFO"
    logger.add(sys.stderr, level=level, format="<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}")
    library_level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.WARNING
    # The root level too, not only the handler's filter: Scrapy logs every request at DEBUG, and a
    # record the root level refuses is never built.
    logging.basicConfig(handlers=[InterceptHandler(library_level)], level=library_level, force=True)


def current_verbosity() -> int:
    """The verbosity ``setup_logging`` was last given, read back from the root level it set (for a
    child process to log as its parent does)."""
    level = logging.getLogger().level
    return 2 if level <= logging.DEBUG else 1 if level <= logging.INFO else 0


def library_loggers_follow_root(*names: str) -> None:
    """Let these loggers take the root level again after a library set its own.

    Scrapy's ``CrawlerProcess`` sets the ``scrapy`` logger to DEBUG (``configure_logging``), so every
    request and item built a log record that the handler then dropped (~3% of the crawl's CPU)."""
    for name in names:
        logging.getLogger(name).setLevel(logging.NOTSET)
