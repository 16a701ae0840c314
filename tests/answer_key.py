"""The seeds' answer key (../shared/seeds/expected.yaml) and its name tolerance, for tests.

The key says: "a matcher should accept the same project named a little shorter or longer
(with or without the company prefix, 项目 suffix)". ``same_project`` implements that.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"
EXPECTED = SEEDS / "expected.yaml"

_PUNCT = re.compile(r"[\W_]+")
_TAILS = ("建设项目", "项目", "工程", "一期", "二期", "三期", "首期")
MIN_CONTAINED = 5  # the shorter name must keep this many characters to count as contained
MIN_RATIO = 90  # rapidfuzz partial ratio accepted for names that differ a little


def load_expected() -> dict[str, Any] | None:
    """The parsed answer key, or None when ../shared/seeds/expected.yaml is absent."""
    if not EXPECTED.exists():
        return None
    data = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalise(name: str) -> str:
    """Simplified, lowercase, no punctuation or spaces, no trailing 项目 / 建设项目 / 一期."""
    text = _PUNCT.sub("", _t2s().convert(name).lower())
    changed = True
    while changed:
        changed = False
        for tail in _TAILS:
            if text.endswith(tail) and len(text) > len(tail) + 1:
                text = text[: -len(tail)]
                changed = True
    return text


def same_project(a: str, b: str) -> bool:
    """Whether two wordings name the same project, with the key's tolerance."""
    x, y = normalise(a), normalise(b)
    if not x or not y:
        return False
    short, long = sorted((x, y), key=len)
    if len(short) < MIN_CONTAINED:
        return short == long
    return short in long or fuzz.partial_ratio(short, long) >= MIN_RATIO
