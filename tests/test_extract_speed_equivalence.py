"""The extraction and dedup shortcuts give what the plain code they replaced gave.

Each ``_old_*`` below is the code as it was before the shortcut (kept here, not in the package). The
tests draw inputs from the characters the two versions could disagree on (whitespace of every kind,
the letters that match a-z ignoring case, copyright and ICP words, markup edge cases), and check the
one claim each shortcut rests on exhaustively where the alphabet allows it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
import unicodedata
from pathlib import Path

import lxml.html
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.dedup import content_hash
from crawler.dedup import minhash as mh
from crawler.extract import chrome
from crawler.extract.decode import clean_text, decode_html
from crawler.extract.html import _CONTAINER_XPATHS, _NON_VISIBLE, parse_tree, preclean, visible_lines
from crawler.extract.patterns import (
    CHROME_ANYWHERE,
    CHROME_ANYWHERE_LATIN,
    CHROME_IN_SHORT_LINE,
    CHROME_WHOLE_LINE,
    COPYRIGHT_MARKERS,
    COPYRIGHT_MARKERS_LATIN,
    COPYRIGHT_RE,
)
from crawler.extract.titles import normalize_space
from crawler.textnorm import _traditional_chars, fold, to_simplified

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REALPAGES = Path(__file__).resolve().parents[1].parent / "shared" / "realpages" / "articles"

# ------------------------------------------------------------------------------------- the old code

_OLD_SPACE_RE = re.compile(r"[\s\u3000\u00a0]+")
_OLD_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_OLD_CONTAINER_XPATHS = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_Editor ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' TRS_UEDITOR ')]",
    "//ucapcontent",
    "//*[@id='UCAP-CONTENT']",
    "//div[@id='zoom']",
    "//div[@id='vsb_content']",
    "//div[contains(@id, 'vsb_content')]",
)
_OLD_COPYRIGHT = (
    r"版权所有|版權所有|copyright|©|\(c\)\s*\d{4}|未经(?:本网|本站|书面|协议)?(?:特别)?授权|未經(?:本網|書面)?授權|"
    r"免责声明|禁止.{0,4}转载|不得转载|请勿转载|"
    r"转载.{0,6}(?:请联系|申请|须注明)|版权禁止|版权声明|侵权必究|违者(?:必究|依法)"
)


def _old_normalize_space(text: str) -> str:
    return _OLD_SPACE_RE.sub(" ", text).strip()


def _old_alternation(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _old_fold(text: str) -> str:
    folded = _OLD_NON_WORD.sub("", text)
    if _traditional_chars().search(folded):
        folded = to_simplified(folded)
    if not unicodedata.is_normalized("NFKC", folded):
        folded = _OLD_NON_WORD.sub("", unicodedata.normalize("NFKC", folded))
    return folded.lower()


def _old_visible_lines(tree: lxml.html.HtmlElement) -> list[str]:
    lines: list[str] = []
    body = tree.find("body")
    root = body if body is not None else tree
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag in _NON_VISIBLE:
            continue
        for piece in (element.text, element.tail):
            text = _old_normalize_space(piece or "")
            if text:
                lines.append(text)
    return lines


def _old_fmix64(x: mh.U64) -> mh.U64:
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xFF51AFD7ED558CCD)
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xC4CEB9FE1A85EC53)
        return x ^ (x >> np.uint64(33))


def _old_shingles(folded: str, k: int = mh.SHINGLE) -> mh.U64:
    if len(folded) < k:
        return np.empty(0, dtype=np.uint64)
    chars = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(chars) - k + 1
    rolled = chars[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            rolled = rolled * mh._MULT + chars[j : j + n]
    return np.unique(_old_fmix64(rolled ^ mh._SEED))


def _old_band_keys(sig: mh.U64) -> list[int]:
    with np.errstate(over="ignore"):
        rows = sig.reshape(mh.BANDS, mh.ROWS) * mh._ROW_POWERS
        combined = _old_fmix64(rows.sum(axis=1, dtype=np.uint64) ^ mh._BAND_SALT)
    keys: list[int] = combined.view(np.int64).tolist()
    return keys


# ------------------------------------------------------------------------------------- strategies

SPACES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u202f\u3000"
LATIN_LOOKALIKES = "İıſK"  # match a-z when case is ignored, without being ASCII
CHROME_WORDS = [
    "ICP",
    "icp",
    "京ICP备",
    "Copyright",
    "COPYRİGHT",
    "(c) 2024",
    "©",
    "All Rights Reserved",
    "powered by",
    "版权所有",
    "版 权 所 有",
    "未经授权",
    "禁止转载",
    "公网安备",
    "网安备 12345678",
    "网站标识码",
    "首页",
    "分享到",
    "上一篇",
    "【打印】",
    "来源：某某日报",
    "2024-03-05",
    "12345678",
    "。",
    "|",
]
lines_st = st.lists(
    st.one_of(
        st.sampled_from(CHROME_WORDS),
        st.text(alphabet=SPACES + LATIN_LOOKALIKES + "abcICPyrghtl()0123政府项目，。", max_size=12),
    ),
    max_size=8,
).map("".join)


# ------------------------------------------------------------------------------------- the tests


def test_split_whitespace_is_the_regex_whitespace() -> None:
    """normalize_space and the copyright squeeze use str.split(): it must split on what [\\s\\u3000\\u00a0] matches."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (char.split() == []) == bool(_OLD_SPACE_RE.fullmatch(char)), hex(code)


@SETTINGS
@given(st.text(alphabet=SPACES + "ab中文。", max_size=30))
def test_normalize_space(text: str) -> None:
    assert normalize_space(text) == _old_normalize_space(text)


def test_latin_gate_holds_every_letter_ignoring_case() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if re.fullmatch("[a-z]", char, re.IGNORECASE):
            assert chrome._LATIN_RE.fullmatch(char), hex(code)


@pytest.mark.parametrize("pattern", sorted({*CHROME_ANYWHERE_LATIN, *COPYRIGHT_MARKERS_LATIN}))
def test_latin_patterns_need_a_latin_letter(pattern: str) -> None:
    """The gated patterns must not match without a letter: each has one outside any optional part."""
    parsed = re._parser.parse(pattern, re.IGNORECASE)  # type: ignore[attr-defined]
    literals = [chr(av) for op, av in parsed.data if op is re._constants.LITERAL]  # type: ignore[attr-defined]
    assert any(c.isascii() and c.isalpha() for c in literals)


def test_vocabularies_split_as_before() -> None:
    assert COPYRIGHT_RE.pattern == _OLD_COPYRIGHT
    assert COPYRIGHT_MARKERS_LATIN.issubset(COPYRIGHT_MARKERS)


@SETTINGS
@given(lines_st)
@example("京İCP证12345678号")
@example("COPYRİGHT 2024 某某网")
def test_chrome_checks(line: str) -> None:
    text = line.strip()
    old_anywhere = _old_alternation((*CHROME_ANYWHERE, *CHROME_ANYWHERE_LATIN)).search(text) is not None
    new_anywhere = chrome._anywhere_re().search(text) is not None or chrome._has_latin_match(
        chrome._anywhere_latin_re(), text
    )
    assert new_anywhere == old_anywhere
    squeezed = _OLD_SPACE_RE.sub("", text)
    old_markers = len(re.compile(_OLD_COPYRIGHT, re.IGNORECASE).findall(squeezed))
    short = (len(text) <= 40 or "。" not in text or old_markers >= 2) if old_markers else False
    assert chrome._is_copyright(text) == short
    for patterns in (CHROME_IN_SHORT_LINE, CHROME_WHOLE_LINE):
        old, new = _old_alternation(patterns), chrome._alternation(patterns)
        assert bool(old.search(text)) == bool(new.search(text))
        assert bool(old.fullmatch(text)) == bool(new.fullmatch(text))


@SETTINGS
@given(st.text(alphabet=SPACES + "_-，。！abcABC１２３ＡＢ中文國際項目億萬①½", max_size=40))
def test_fold(text: str) -> None:
    assert fold(text) == _old_fold(text)


def _pages() -> list[bytes]:
    pages = [path.read_bytes() for path in sorted(FIXTURES.rglob("*.html"))]
    if REALPAGES.is_dir():
        pages += [path.read_bytes() for path in sorted(REALPAGES.glob("*.html"))]
    return pages


EDGE_CASE_PAGES = [
    "<html><head><title>t</title><meta id='UCAP-CONTENT'></head><body>x</body></html>",
    "<div class='a\tTRS_Editor\nb'>1</div><div class='TRS_Editor\xa0x'>2</div><div class=' TRS_UEDITOR '>3</div>",
    "<div id='zoom'><div id='zoom'>nested</div></div><span id='zoom'>no</span><p id='UCAP-CONTENT'>any</p>",
    "<div id='my_vsb_content_2'>a</div><div id='vsb_content'>b</div><UCAPCONTENT>c</UCAPCONTENT>",
    "<frameset><frame src='a'></frameset>",
    "text only<!-- c -->tail<script>s</script>after<noscript><p>in</p></noscript>\u3000\xa0end",
]


def test_container_xpaths_and_visible_lines() -> None:
    for page in [*_pages(), *(p.encode() for p in EDGE_CASE_PAGES)]:
        text = decode_html(page, None).text
        if not text.strip():
            continue
        cleaned = preclean(text)
        tree, old_tree = parse_tree(cleaned), lxml.html.document_fromstring(cleaned)
        assert tree is not None
        old = [[etree.tostring(e) for e in etree.XPath(x)(old_tree)] for x in _OLD_CONTAINER_XPATHS]
        assert [[etree.tostring(e) for e in xpath(tree)] for xpath in _CONTAINER_XPATHS] == old
        assert visible_lines(tree) == _old_visible_lines(old_tree)


@SETTINGS
@given(st.binary(max_size=40), st.sampled_from(["utf-8", "gb18030", "big5", "utf-16", "latin-1", "cp1252"]))
@example("价格".encode()[:-1], "utf-8")
def test_clean_text_is_the_replacing_decode(body: bytes, codec: str) -> None:
    try:
        codecs.getincrementaldecoder(codec)(errors="strict").decode(body, final=False)
        clean = True
    except UnicodeDecodeError:
        clean = False
    except UnicodeError:  # utf-16 without a BOM: decode_html lets this through, as it always did
        return
    text = clean_text(body, codec)
    assert (text is not None) == clean
    if text is not None:
        assert text == body.decode(codec, errors="replace")


@SETTINGS
@given(st.text(alphabet="项目投资亿元國際abc123，。 ", max_size=300))
def test_fingerprint(text: str) -> None:
    folded = fold(text)
    hashes = mh._folded_shingles(folded, mh.SHINGLE)
    assert np.array_equal(hashes, _old_shingles(folded))
    assert np.array_equal(mh._fmix64(hashes), _old_fmix64(hashes))
    sig = mh.signature(hashes)
    if sig is not None:
        assert mh.band_keys(sig) == _old_band_keys(sig)
    assert content_hash(text) == hashlib.sha256(_old_fold(text).encode("utf-8")).hexdigest()
