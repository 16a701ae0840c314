"""Text normalisation shared by dedup and project identity: Simplified script, folded width and punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# The characters fold keeps: letters and digits of any script (\w less the underscore). Joining its runs
# drops everything else, as re.sub(r"[\W_]+", "", text) does, with a quarter less work on CJK text.
_WORD_RUN = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    # Built on first use, not at import: loading the dictionaries takes a few milliseconds.
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, character for character (OpenCC t2s keeps lengths for nearly all text)."""
    return str(_t2s().convert(text)) if text else text


def fold(text: str) -> str:
    """Simplified, NFKC (full-width digits and letters to ASCII), lowercase, no punctuation or spaces.

    Punctuation goes first (NFKC is slow on text full of full-width punctuation) and Simplified text
    skips OpenCC (a scan for Traditional characters is cheaper): 4x faster on article text than
    folding in the plain order, with the same result.
    """
    folded = _keep_words(text)
    if _traditional_chars().search(folded):
        folded = to_simplified(folded)
    if not unicodedata.is_normalized("NFKC", folded):
        folded = _keep_words(unicodedata.normalize("NFKC", folded))
    return folded.lower()


def _keep_words(text: str) -> str:
    return "".join(_WORD_RUN.findall(text))


@lru_cache(maxsize=4)
def fold_article(text: str) -> str:
    """``fold``, kept for the last few texts: an article's content hash and its near-duplicate
    fingerprint both fold its whole text, one right after the other."""
    return fold(text)


@lru_cache(maxsize=1)
def _traditional_chars() -> re.Pattern[str]:
    """The CJK characters OpenCC t2s changes on their own (about 4,200; built once, in about 15 ms)."""
    blocks = (range(0x3400, 0x4DC0), range(0x4E00, 0xA000), range(0xF900, 0xFB00))
    chars = [chr(c) for block in blocks for c in block]
    converted = to_simplified("\n".join(chars)).split("\n")
    changed = sorted(a for a, b in zip(chars, converted, strict=True) if a != b)
    return re.compile("[" + "".join(changed) + "]")
