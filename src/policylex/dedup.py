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
in at most a quarter of its 64 values is dropped (:func:`may_be_near_duplicates`):
the share of agreeing values estimates the Jaccard similarity, and a pair at the
0.5 threshold agrees in 16 or fewer of 64 with probability 4·10⁻⁵ (binomial),
while the banding itself finds such a pair only 64% of the time.  In a formulaic
corpus many unrelated articles share a bucket; this keeps them from each costing
an exact comparison of two texts.  A fifth (13 or fewer: 10⁻⁶) let pairs of one
template through: on the 100,000-document benchmark corpus, 3,000 more documents
had 20,690 candidates, 2,277 of them checked against 195 with a quarter, and the
16 near-duplicates among them agree in 60 or more of 64 values.

The 64 hash functions are multiply-add over 64-bit words, (a·x + b) mod 2⁶⁴ with a
odd, each signature value the top 32 bits of the least: a multiplication and an
addition a shingle, where (a·x + b) mod p for a prime p needed a 64-bit division
(schema versions before 6; 0.22 → 0.07 ms a document of 1,000 shingles, measured
on the benchmark corpus).  The estimate is as good: on 580 pairs of development-set
texts (reposts with cut and added parts, and unrelated pairs) the agreement's mean
error against the true Jaccard similarity is the same within noise (see the commit
that made the change).

Tried and measured against (so nobody tries it blind): one-permutation MinHash
(each shingle's mixed hash falls into one of 64 bins, each bin keeps its least
value) makes a signature in 48 us instead of 196, but on the benchmark corpus its
bands collide far more often for unrelated documents of one template: at 10,000
documents 21,042 candidates and 2,243 exact checks against 7,232 and 1,259 here,
and the exact checks are the writer's work, which is what bounds ingest at 100k.
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from functools import lru_cache

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
MIN_AGREEMENT = 0.25  # more than this share of signature values, for a candidate to get the exact check
SIGNATURE_BLOCK = 65_536  # shingles hashed at once

_rng = np.random.default_rng(20261203)  # fixed: signatures must be stable across runs
_A = _rng.integers(0, 2**64, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)  # odd: a bijection of words
_B = _rng.integers(0, 2**64, size=PERMUTATIONS, dtype=np.uint64)
_TOP = np.uint64(32)
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
        hashed = np.multiply.outer(_A, values[start : start + SIGNATURE_BLOCK])  # wraps: mod 2**64
        hashed += _B[:, None]
        least = np.minimum(least, hashed.min(axis=1))
    return (least >> _TOP).astype(np.uint32)


def band_keys(sig: np.ndarray) -> list[int]:
    """One key per band (the band's number, then its bucket); two documents sharing any key are candidates."""
    return [band << 32 | zlib.crc32(sig[band * ROWS : (band + 1) * ROWS].tobytes()) for band in range(BANDS)]


def may_be_near_duplicates(sig: np.ndarray, stored: list[bytes | None]) -> list[bool]:
    """For each stored signature (``signatures.minhash``), whether it agrees with ``sig`` enough for the
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



# --- the index in the corpus (tables signatures and lsh, see policylex.store) -------------


def index(db: sqlite3.Connection, seq: int, sig: np.ndarray) -> None:
    """Store a new document's signature and band keys (:func:`unindex` one that had them)."""
    db.execute("INSERT INTO signatures(seq, minhash) VALUES (?, ?)", (seq, sig.tobytes()))
    db.executemany("INSERT OR IGNORE INTO lsh(key, seq) VALUES (?, ?)", [(key, seq) for key in band_keys(sig)])


def unindex(db: sqlite3.Connection, seq: int) -> None:
    db.execute("DELETE FROM lsh WHERE seq = ?", (seq,))
    db.execute("DELETE FROM signatures WHERE seq = ?", (seq,))


@lru_cache(maxsize=None)
def _candidates_sql(keys: int) -> str:
    # The id and flags come from an index: in a row they follow the texts, and reaching
    # them read each candidate's overflow pages.
    return ("SELECT d.id, d.seq, s.minhash FROM signatures s JOIN documents d INDEXED BY documents_candidate "
            f"ON d.seq = s.seq WHERE s.seq IN (SELECT seq FROM lsh WHERE key IN ({', '.join('?' * keys)})) "
            "AND s.seq != ? AND d.duplicate_of IS NULL AND d.near_duplicate_of IS NULL ORDER BY s.seq")


def candidates(db: sqlite3.Connection, seq: int, sig: np.ndarray) -> list[sqlite3.Row]:
    """(id, seq, minhash) of the documents sharing a band key with the document ``seq``, neither of
    them a duplicate nor a near-duplicate, and whose signatures agree enough (see
    :func:`may_be_near_duplicates`), in corpus order."""
    keys = band_keys(sig)
    found = db.execute(_candidates_sql(len(keys)), [*keys, seq]).fetchall()
    return [row for row, agrees in zip(found, may_be_near_duplicates(sig, [row[2] for row in found])) if agrees]


def rebuild_index(db: sqlite3.Connection, batch: int = 2_000) -> None:
    """Sign every document again from its normalised text (inside the caller's transaction).

    The band keys are sorted before they are written: B-tree pages filled in order,
    not at random (at 100,000 documents, 1.6 million keys).
    """
    db.execute("DELETE FROM signatures")
    db.execute("DELETE FROM lsh")
    keys: list[np.ndarray] = []
    last = 0
    while rows := db.execute("SELECT seq, norm_text FROM documents WHERE seq > ? ORDER BY seq LIMIT ?",
                             (last, batch)).fetchall():
        signed = [(seq, signature(text)) for seq, text in rows]
        db.executemany("INSERT INTO signatures(seq, minhash) VALUES (?, ?)",
                       [(seq, sig.tobytes()) for seq, sig in signed])
        keys += [np.array([(key, seq) for key in band_keys(sig)], dtype=np.int64) for seq, sig in signed]
        last = rows[-1][0]
    if keys:
        pairs = np.unique(np.concatenate(keys), axis=0)  # sorted by key, then seq
        db.executemany("INSERT INTO lsh(key, seq) VALUES (?, ?)", pairs.tolist())
