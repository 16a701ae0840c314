"""Article extraction: bytes -> text -> Article (title, published date, source, clean main text).

Pure functions, no I/O. ``patterns`` holds the vocabularies; the other modules hold the logic.
"""

from __future__ import annotations

from crawler.extract.chrome import strip_chrome
from crawler.extract.decode import Decoded, decode_html
from crawler.extract.html import extract_article
from crawler.extract.plain import PlainParts, extract_plain_text, split_plain_text

__all__ = [
    "Decoded",
    "PlainParts",
    "decode_html",
    "extract_article",
    "extract_plain_text",
    "split_plain_text",
    "strip_chrome",
]
