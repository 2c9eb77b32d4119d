"""Near-duplicate detection: the same article reposted with another header or footer.

Documents are compared by their sets of character 5-grams (shingles).  A MinHash
signature with locality-sensitive hashing (16 bands of 4 rows) finds candidate
pairs without comparing every pair; each candidate is then checked exactly:

* containment |A ∩ B| / min(|A|, |B|) ≥ 0.85 — the shorter text is (nearly) all
  inside the longer one, as a repost is, and
* Jaccard |A ∩ B| / |A ∪ B| ≥ 0.5 — the two are of comparable length, so a short
  brief quoted inside a long report is not called a repost, and
* where the shorter text has fewer than 200 shingles (a notice, a headline, a
  one-paragraph release), containment 1: nothing of it lies outside the shared
  part.  In a short text the 15% that containment 0.85 lets differ is a few
  characters, and those are what tells two notices apart (the formulation one
  announces, 两个确立 against 两个维护); a repost of a short text adds a header or
  footer and keeps all of it.  Measured (benchmarks/near_duplicates.py): on the
  labelled development set no flagged pair has a shorter text under 399
  shingles, so none of its 7 flags changes; on 6,285 Tainan City releases and
  notices outside it, 14 of 1,250 flags are lifted (12 pairs of distinct notices,
  2 re-publications of one notice with a new deadline) and the 3 short reposts
  stay flagged.  Above the floor, successive notices of one form (a tender's
  second and third 无法决标公告) can still reach containment 0.85.

Before the exact check, a candidate whose signature agrees with the document's
in at most a fifth of its 64 values is dropped (:func:`may_be_near_duplicates`):
the share of agreeing values estimates the Jaccard similarity, and a pair at the
0.5 threshold agrees in 13 or fewer of 64 with probability below 10⁻⁶ (binomial),
while the banding itself finds such a pair only 64% of the time.  In a formulaic
corpus many unrelated articles share a bucket; this keeps them from each costing
an exact comparison of two texts.

Tried and measured against (so nobody tries it blind): one-permutation MinHash
(each shingle's mixed hash falls into one of 64 bins, each bin keeps its least
value) makes a signature in 48 us instead of 196, but on the benchmark corpus its
bands collide far more often for unrelated documents of one template: at 10,000
documents 21,042 candidates and 2,243 exact checks against 7,232 and 1,259 here,
and the exact checks are the writer's work, which is what bounds ingest at 100k.
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
# Below this many shingles (about 200 characters without punctuation) in the shorter text of
# a pair, it must lie wholly inside the longer one (see the module's docstring).
SHORT_SHINGLES = 200
MIN_AGREEMENT = 0.2  # of signature values, for a candidate to get the exact check
SIGNATURE_BLOCK = 65_536  # shingles hashed at once

_PRIME = np.uint64(4294967311)  # the first prime above 2**32
_rng = np.random.default_rng(20240229)  # fixed: signatures must be stable across runs
_A = _rng.integers(1, 2**31, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, 2**31, size=PERMUTATIONS, dtype=np.uint64)
_SQUEEZE = re.compile(r"[\s\W_]+")


def _shingle_hashes(text: str) -> np.ndarray:
    """32-bit hashes of the text's character 5-grams (white space and punctuation removed), repeats included.

    A polynomial hash over code points, vectorised: stable across runs and
    machines, unlike Python's ``hash``.
    """
    squeezed = _SQUEEZE.sub("", text)
    if not squeezed:
        return np.zeros(0, dtype=np.uint64)
    points = np.frombuffer(squeezed.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if points.size < SHINGLE:
        points = np.concatenate([points, np.zeros(SHINGLE - points.size, dtype=np.uint64)])
    width = points.size - SHINGLE + 1
    hashed = np.zeros(width, dtype=np.uint64)
    for offset in range(SHINGLE):
        hashed = hashed * np.uint64(1_000_003) + points[offset : offset + width]
    return (hashed >> np.uint64(32)) ^ (hashed & np.uint64(0xFFFFFFFF))


def shingles(text: str) -> np.ndarray:
    """Sorted distinct 32-bit hashes of the text's character 5-grams (see :func:`_shingle_hashes`)."""
    return np.unique(_shingle_hashes(text))


def signature(text: str) -> np.ndarray:
    """The MinHash signature: for each of 64 hash functions, the least hash over the shingles."""
    # A shingle's repeats change no minimum: hashing them costs less than sorting them away.
    values = _shingle_hashes(text)
    if values.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint32)
    # In blocks: all 64 hashes of a long text's shingles at once took 64 × 8 bytes
    # per shingle (1 GiB for a text of a million distinct characters).
    least = np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, values.size, SIGNATURE_BLOCK):
        hashed = np.multiply.outer(_A, values[start : start + SIGNATURE_BLOCK])
        hashed += _B[:, None]
        np.remainder(hashed, _PRIME, out=hashed)
        least = np.minimum(least, hashed.min(axis=1))
    return least.astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One bucket key per band; two documents sharing any key are candidates."""
    return [zlib.crc32(sig[b * ROWS : (b + 1) * ROWS].tobytes()) for b in range(BANDS)]


def may_be_near_duplicates(sig: np.ndarray, stored: list[bytes | None]) -> list[bool]:
    """For each stored signature (``documents.minhash``), whether it agrees with ``sig`` enough for the
    two texts to reach the Jaccard threshold (see above); one without a signature of this size may."""
    size = sig.nbytes
    comparable = [i for i, blob in enumerate(stored) if blob is not None and len(blob) == size]
    verdicts = [True] * len(stored)
    if comparable:
        others = np.frombuffer(b"".join(stored[i] for i in comparable), dtype=np.uint32).reshape(len(comparable), -1)
        for i, agrees in zip(comparable, ((others == sig).mean(axis=1) > MIN_AGREEMENT).tolist()):
            verdicts[i] = agrees
    return verdicts


def shingle_similarity(sa: np.ndarray, sb: np.ndarray) -> tuple[float, float]:
    """(containment, Jaccard) of two shingle sets (from :func:`shingles`)."""
    if not sa.size or not sb.size:
        return 0.0, 0.0
    common = np.intersect1d(sa, sb, assume_unique=True).size
    return common / min(sa.size, sb.size), common / (sa.size + sb.size - common)


def is_near_duplicate_shingles(sa: np.ndarray, sb: np.ndarray) -> tuple[bool, float]:
    """(whether the texts are near-duplicates by the rules above, the containment)."""
    containment, jaccard = shingle_similarity(sa, sb)
    needed = 1.0 if min(sa.size, sb.size) < SHORT_SHINGLES else MIN_CONTAINMENT
    return containment >= needed and jaccard >= MIN_JACCARD, containment

