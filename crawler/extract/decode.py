"""Turn a response body into text: the declared charset when it holds, a sniffed one when it lies.

Chinese portals declare GB2312 and send GBK, declare UTF-8 and send GBK, or declare nothing.
Decoding is done here, once, so that trafilatura and lxml only ever see unicode.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import charset_normalizer

from crawler.extract.patterns import (
    BINARY_SIGNATURES,
    GB_FAMILY,
    HEADER_CHARSET_RE,
    META_CHARSET_RE,
    WEAK_CODECS,
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    """A decoded body: its text, the codec that produced it, and what went wrong on the way."""

    text: str
    encoding: str
    warnings: tuple[str, ...]


def normalize_charset(label: str | None) -> str | None:
    """The Python codec for a charset label, GB family widened to gb18030; None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in GB_FAMILY:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in GB_FAMILY else name


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = HEADER_CHARSET_RE.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """The charset a <meta> declares, looked for in the head only (where the spec requires it)."""
    match = META_CHARSET_RE.search(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _bom(body: bytes) -> str | None:
    for mark, codec in _BOMS:
        if body.startswith(mark):
            return codec
    return None


def _binary_kind(body: bytes) -> str | None:
    for magic, kind in BINARY_SIGNATURES:
        if body.startswith(magic):
            return kind
    head = body[:2048]
    # Text in any ASCII-compatible charset has no NUL bytes; UTF-16 was caught by its BOM.
    if head.count(b"\x00") > 8:
        return "unknown binary"
    return None


def clean_text(body: bytes, codec: str) -> str | None:
    """``body`` decoded, when it is valid ``codec`` except perhaps for a character cut off at the end; else None.

    An incremental decoder without ``final`` keeps an incomplete trailing sequence buffered
    instead of failing, which is exactly the tolerance a truncated download needs. The text is the
    one ``body.decode(codec, errors="replace")`` gives, so the check is also the decoding.
    """
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        text = decoder.decode(body, final=False)
    except (UnicodeError, LookupError):  # UnicodeError too: UTF-16 without a byte-order mark raises it
        return None
    if decoder.getstate() != (b"", 0):  # a cut-off last character (or a codec's own state): decode it
        return body.decode(codec, errors="replace")
    return text


def _is_ascii(body: bytes) -> bool:
    return body.isascii()


def sniff_charset(body: bytes) -> str:
    """Guess the charset of undeclared bytes: UTF-8 if valid, then GB18030, then charset-normalizer."""
    return _sniff(body)[0]


def _sniff(body: bytes) -> tuple[str, str | None]:
    """``sniff_charset``, with the text when a clean decode was the test (None: not decoded yet)."""
    if _is_ascii(body):
        return "utf-8", None
    for codec in ("utf-8", "gb18030"):
        text = clean_text(body, codec)
        if text is not None:
            return codec, text
    best = charset_normalizer.from_bytes(body[:65536]).best()
    guessed = normalize_charset(best.encoding) if best is not None else None
    return guessed or "utf-8", None


def _choose(body: bytes, declared: str | None, where: str) -> tuple[str, list[str], str | None]:
    """Check a declaration against the bytes; return the codec to use, any warnings, and the text
    when checking the codec already decoded it (None: decode it)."""
    warnings: list[str] = []
    codec = normalize_charset(declared)
    if declared and codec is None:
        warnings.append(f"unknown charset {declared!r} declared in {where}")
    if _is_ascii(body):
        return codec or "utf-8", warnings, None
    if codec is None or codec in WEAK_CODECS:
        sniffed, text = _sniff(body)
        if codec is not None and sniffed != codec:
            warnings.append(f"{where} declares {declared} but bytes are {sniffed}")
        return sniffed, warnings, text
    # Non-ASCII text that is valid UTF-8 is UTF-8 whatever the label says: GBK prose essentially
    # never forms valid UTF-8, while pages re-saved as UTF-8 often keep their old gb2312 <meta>.
    if codec != "utf-8" and (text := clean_text(body, "utf-8")) is not None:
        warnings.append(f"{where} declares {declared} but bytes are utf-8")
        return "utf-8", warnings, text
    if (text := clean_text(body, codec)) is not None:
        return codec, warnings, text
    if codec != "gb18030" and (text := clean_text(body, "gb18030")) is not None:
        warnings.append(f"{where} declares {declared} but bytes are gb18030")
        return "gb18030", warnings, text
    # Nothing decodes cleanly (corrupt bytes): keep whichever codec damages the fewest characters.
    best = min((codec, "utf-8", "gb18030"), key=lambda c: body.decode(c, errors="replace").count("\ufffd"))
    if best != codec:
        warnings.append(f"{where} declares {declared} but bytes are mostly {best}")
    return best, warnings, None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTTP body to text. Never raises: bad bytes become U+FFFD and a warning."""
    if not body:
        return Decoded("", "utf-8", ())
    kind = _binary_kind(body)
    if kind is not None:
        return Decoded("", "binary", (f"body is binary ({kind}), not text",))
    # A BOM cannot appear by accident, so (as in the WHATWG encoding spec) it outranks labels.
    bom = _bom(body)
    warnings: list[str]
    text: str | None = None
    if bom is not None:
        codec, warnings = bom, []
    else:
        declared, where = header_charset(content_type), "HTTP header"
        if not declared:
            declared, where = meta_charset(body), "<meta>"
        codec, warnings, text = _choose(body, declared, where)
    if text is None:
        text = body.decode(codec, errors="replace")
    bad = text.count("\ufffd")
    if bad:
        warnings.append(f"{bad} undecodable byte sequence(s) replaced ({codec})")
    return Decoded(text, codec, tuple(warnings))
