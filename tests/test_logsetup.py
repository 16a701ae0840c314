"""Log levels during a crawl: Scrapy's per-request and per-item DEBUG records are built only when asked for."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from crawler.config import load_config
from crawler.crawl import crawler_process
from crawler.logsetup import setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, scrapy = logging.root.level, logging.getLogger("scrapy").level
    handlers = list(logging.root.handlers)
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(root)
    logging.getLogger("scrapy").setLevel(scrapy)
    logger.remove()
    logger.add(lambda message: sys.stderr.write(message))  # whatever stderr is when a record comes


@pytest.mark.parametrize(("verbosity", "debug"), [(0, False), (1, False), (2, True)])
def test_scrapy_debug_records_follow_the_chosen_verbosity(
    config_dir: Path, restore_logging: None, verbosity: int, debug: bool
) -> None:
    setup_logging(verbosity)
    crawler_process(load_config(config_dir))  # Scrapy's configure_logging sets its loggers to DEBUG
    for name in ("scrapy.core.scraper", "scrapy.core.engine"):
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG) is debug
    assert logging.getLogger("scrapy.core.engine").isEnabledFor(logging.WARNING)
