"""MinHash signatures and LSH band keys of a text's character shingles, vectorised with numpy.

The text is folded first (Simplified script, NFKC, lowercase, no punctuation or spaces), so a
Traditional-script reprint or one with other punctuation shingles the same as the original.

The signature is a one-permutation MinHash (Li, Owen & Zhang 2012) with rotation densification
(Shrivastava & Li 2014): every shingle is hashed once with a well-mixed 64-bit hash, the hash space is
cut into ``BINS`` ranges and each bin keeps its smallest hash. Two texts agree on a bin with probability
equal to the Jaccard similarity of their shingle sets, like classic MinHash, at the cost of one hash per
shingle instead of one per shingle and permutation (datasketch's ``MinHash.update`` loops in Python
over shingles: about 50x slower on a 2,000-character article).

The band keys are persisted: changing SHINGLE, BANDS, ROWS or SCHEME changes every key, and the
index must then be rebuilt (``crawler.dedup.neardup.reindex``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crawler.textnorm import fold, fold_article, to_simplified

U64 = npt.NDArray[np.uint64]

SHINGLE = 4  # characters per shingle
BANDS = 25  # LSH bands ...
ROWS = 4  # ... of this many bins each: a pair shares a band with probability 1 - (1 - J**ROWS)**BANDS
BINS = BANDS * ROWS
# A candidate must share MIN_HITS bands. At Jaccard 0.8 the chance of sharing fewer than 2 of 25 bands
# is 4e-5 (the recall lost), at 0.3 the chance of sharing 2 is 2%, at 0.05 about 1e-8 (the work saved).
MIN_HITS = 2
SCHEME = 1  # bump when the hashing changes, so old keys can never match new ones

_SHIFT = np.uint64(33)
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_MULT = np.uint64(0x100000001B3)  # FNV-64 prime, for rolling the shingle's characters together
_SEED = np.uint64(0x9E3779B97F4A7C15 ^ SCHEME)
_MASK32 = np.uint64(0xFFFFFFFF)
# Bin j holds the hashes h with floor((h >> 32) * BINS / 2**32) == j; these are the smallest such h.
_BIN_STARTS = np.array([(-(-j * 2**32 // BINS)) << 32 for j in range(BINS)], dtype=np.uint64)
_BAND_SALT = (np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0xBF58476D1CE4E5B9)) ^ _SEED
_ROW_POWERS = np.array([pow(0x100000001B3, i, 2**64) for i in range(ROWS)], dtype=np.uint64)
_SPACE = re.compile(r"\s+")
# Any script and width: 86.8亿, ８６.８億, 4215 万 (\d is every Unicode decimal digit); kept with its point.
_FIGURE = re.compile(r"\d+(?:[.．]\d+)?\s*[亿億万萬]")


def _fmix64(x: U64) -> U64:
    """MurmurHash3's finaliser: a bijection on 64-bit integers that mixes every input bit into every output bit."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> _SHIFT)  # a new array: the caller's is left alone, the steps below work in place
        x *= _FMIX_1
        x ^= x >> _SHIFT
        x *= _FMIX_2
        x ^= x >> _SHIFT
        return x


def shingles(text: str, k: int = SHINGLE) -> U64:
    """Sorted unique 64-bit hashes of the folded text's k-character shingles (empty if it is shorter)."""
    return _folded_shingles(fold(text), k)


def _folded_shingles(folded: str, k: int) -> U64:
    if len(folded) < k:
        return np.empty(0, dtype=np.uint64)
    chars = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(chars) - k + 1
    rolled = chars[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):  # in place: no temporary array a step
            rolled *= _MULT
            rolled += chars[j : j + n]
    rolled ^= _SEED
    hashed = _fmix64(rolled)
    hashed.sort()
    # np.unique is 4x slower than sorting and dropping repeats.
    keep = np.empty(hashed.size, dtype=bool)
    keep[0] = True
    np.not_equal(hashed[1:], hashed[:-1], out=keep[1:])
    return hashed[keep]


def signature(hashes: U64) -> U64 | None:
    """The BINS-value one-permutation MinHash of sorted shingle hashes; None for an empty set."""
    if hashes.size == 0:
        return None
    idx = np.searchsorted(hashes, _BIN_STARTS)
    present = idx < hashes.size
    values = np.zeros(BINS, dtype=np.uint64)
    values[present] = hashes[idx[present]]
    bins = ((values >> np.uint64(32)) * np.uint64(BINS)) >> np.uint64(32)
    filled = present & (bins == np.arange(BINS, dtype=np.uint64))
    if filled.all():
        return values
    # Rotation densification: an empty bin borrows the next filled bin's value, salted by the distance.
    full = np.flatnonzero(filled)
    pos = np.arange(BINS)
    nxt = np.searchsorted(full, pos) % full.size
    distance = (full[nxt] - pos) % BINS
    with np.errstate(over="ignore"):
        borrowed = _fmix64(values[full[nxt]] + distance.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    return np.where(filled, values, borrowed)


def band_keys(sig: U64) -> list[int]:
    """One signed 64-bit key per band (a BIGINT column on every database); the band number is mixed in."""
    with np.errstate(over="ignore"):
        # Each band's rows times _ROW_POWERS, summed (wrapping at 2**64 like the products): a matrix product.
        combined = _fmix64((sig.reshape(BANDS, ROWS) @ _ROW_POWERS) ^ _BAND_SALT)
    keys: list[int] = combined.view(np.int64).tolist()
    return keys


def jaccard(a: U64, b: U64) -> float:
    """Exact Jaccard similarity of two sorted unique hash sets."""
    if a.size == 0 or b.size == 0:
        return 0.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


def estimated_similarity(a: U64, b: U64) -> float:
    """The share of signature bins two texts agree on: an unbiased estimate of their Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / BINS


def money_figures(text: str) -> set[str]:
    """The amounts (digits + 亿/万) a text states, normalised: a reprint adding one is not a mere reprint."""
    return {_SPACE.sub("", unicodedata.normalize("NFKC", to_simplified(m))) for m in _FIGURE.findall(text)}


@dataclass(frozen=True)
class Fingerprint:
    """What the near-duplicate index needs of one text."""

    hashes: U64  # sorted unique shingle hashes: the exact Jaccard similarity is computed on these
    signature: U64 | None  # None when the text has fewer than SHINGLE characters
    folded_chars: int
    keys: tuple[int, ...]  # the BANDS band keys of the signature, empty without one


def fingerprint(text: str) -> Fingerprint:
    folded = fold_article(text)
    hashes = _folded_shingles(folded, SHINGLE)
    sig = signature(hashes)
    return Fingerprint(hashes, sig, len(folded), tuple(band_keys(sig)) if sig is not None else ())
