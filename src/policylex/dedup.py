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

The signature is one-permutation MinHash (Li, Owen & Zhang 2012): each shingle's
hash, mixed once, falls into one of 64 bins by its top bits, and each bin keeps
its least value; a bin no shingle fell into takes its next full neighbour's value
with an offset (Shrivastava 2017's densification).  Two texts' bins agree with
probability close to their Jaccard similarity, as with 64 separate hash
functions, for one hash per shingle instead of 64: 48 us a document instead of
198 (schema version 5 made every stored signature again).
"""

from __future__ import annotations

import re

import numpy as np

SHINGLE = 5
PERMUTATIONS = 64  # bins of the signature (the name is MinHash's: one hash function a value)
BANDS = 16
ROWS = PERMUTATIONS // BANDS
MIN_CONTAINMENT = 0.85
MIN_JACCARD = 0.5
# Below this many shingles (about 200 characters without punctuation) in the shorter text of
# a pair, it must lie wholly inside the longer one (see the module's docstring).
SHORT_SHINGLES = 200
MIN_AGREEMENT = 0.2  # of signature values, for a candidate to get the exact check

_BIN_SHIFT = np.uint64(64 - 6)  # the top 6 bits of a mixed hash choose one of 64 bins
_LOW = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint64(1 << 32)  # above every 32-bit value: a bin no shingle fell into
_OFFSET = 0x9E3779B1  # added per bin skipped when an empty bin borrows a neighbour's value
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


def _mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, vectorised: every bit of a shingle's hash moves every bit of the result."""
    mixed = values ^ (values >> np.uint64(30))
    mixed *= np.uint64(0xBF58476D1CE4E5B9)
    mixed ^= mixed >> np.uint64(27)
    mixed *= np.uint64(0x94D049BB133111EB)
    mixed ^= mixed >> np.uint64(31)
    return mixed


def signature(text: str) -> np.ndarray:
    """The one-permutation MinHash signature: 64 bins, each the least 32-bit value that fell into it."""
    values = _shingle_hashes(text)
    if values.size == 0:
        return np.zeros(PERMUTATIONS, dtype=np.uint32)
    mixed = _mix(values)
    least = np.full(PERMUTATIONS, _EMPTY, dtype=np.uint64)
    np.minimum.at(least, (mixed >> _BIN_SHIFT).astype(np.intp), mixed & _LOW)
    empty = least == _EMPTY
    if empty.any():  # a short text: its empty bins borrow, rotating right, from the next full one
        full = np.flatnonzero(~empty)
        for index in np.flatnonzero(empty):
            after = full[np.searchsorted(full, index) % full.size]
            distance = int(after - index) % PERMUTATIONS
            least[index] = (int(least[after]) + distance * _OFFSET) & 0xFFFFFFFF
    return least.astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One 32-bit bucket key per band (its 4 values combined, then mixed); two documents sharing any key are candidates."""
    rows = sig.reshape(BANDS, ROWS).astype(np.uint64)
    combined = rows[:, 0]
    for row in range(1, ROWS):
        combined = combined * np.uint64(0x100000001B3) + rows[:, row]
    return (_mix(combined) >> np.uint64(32)).tolist()


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

