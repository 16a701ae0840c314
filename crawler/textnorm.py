"""Text normalisation shared by dedup and project identity: Simplified script, folded width and punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    # Built on first use, not at import: loading the dictionaries takes a few milliseconds.
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, character for character (OpenCC t2s keeps lengths for nearly all text)."""
    return str(_t2s().convert(text)) if text else text


def fold(text: str) -> str:
    """Simplified, NFKC (full-width digits and letters to ASCII), lowercase, no punctuation or spaces."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", to_simplified(text)).lower())
