"""Near-duplicate detection: the same article reposted with another header or footer.

Documents are compared by their sets of character 5-grams (shingles).  A MinHash
signature with locality-sensitive hashing (16 bands of 4 rows) finds candidate
pairs without comparing every pair; each candidate is then checked exactly:

* containment |A ∩ B| / min(|A|, |B|) ≥ 0.85 — the shorter text is (nearly) all
  inside the longer one, as a repost is, and
* Jaccard |A ∩ B| / |A ∪ B| ≥ 0.5 — the two are of comparable length, so a short
  brief quoted inside a long report is not called a repost.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

SHINGLE = 5
PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
MIN_CONTAINMENT = 0.85
MIN_JACCARD = 0.5

_PRIME = np.uint64(4294967311)  # the first prime above 2**32
_rng = np.random.default_rng(20240229)  # fixed: signatures must be stable across runs
_A = _rng.integers(1, 2**31, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 2**31, size=PERMUTATIONS, dtype=np.uint64)
_SQUEEZE = re.compile(r"[\s\W_]+")


def shingles(text: str) -> set[int]:
    """Hashes of the character 5-grams of the text, white space and punctuation removed."""
    squeezed = _SQUEEZE.sub("", text)
    if len(squeezed) < SHINGLE:
        return {zlib.crc32(squeezed.encode("utf-8"))} if squeezed else set()
    return {zlib.crc32(squeezed[i : i + SHINGLE].encode("utf-8")) for i in range(len(squeezed) - SHINGLE + 1)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature: for each of 64 hash functions, the least hash over the shingles."""
    values = np.fromiter(shingles(text), dtype=np.uint64)
    if values.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint32)
    hashed = (values[None, :] * _A[:, None] + _B[:, None]) % _PRIME
    return hashed.min(axis=1).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One bucket key per band; two documents sharing any key are candidates."""
    return [zlib.crc32(sig[b * ROWS : (b + 1) * ROWS].tobytes()) for b in range(BANDS)]


def similarity(a: str, b: str) -> tuple[float, float]:
    """(containment, Jaccard) of two texts' shingle sets."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0, 0.0
    common = len(sa & sb)
    return common / min(len(sa), len(sb)), common / len(sa | sb)


def is_near_duplicate(a: str, b: str) -> tuple[bool, float]:
    containment, jaccard = similarity(a, b)
    return containment >= MIN_CONTAINMENT and jaccard >= MIN_JACCARD, containment
