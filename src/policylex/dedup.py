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
in at most a quarter of its 64 values is dropped (:func:`agree_enough`):
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
_band_rng = np.random.default_rng(20261204)
_BAND_MIX = _band_rng.integers(0, 2**64, size=(BANDS, ROWS), dtype=np.uint64) | np.uint64(1)
_BAND_SALT = _band_rng.integers(0, 2**64, size=BANDS, dtype=np.uint64)  # equal values in two bands: two keys
SIGNATURE_BYTES = PERMUTATIONS * 4
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


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """Each signature's key per band, shape (signatures, bands): two documents sharing any are candidates.

    A band's values folded into one 64-bit word by a multiply-add with the band's
    own constants; unequal bands collide with probability about 2⁻⁶⁴, and a
    collision only adds a candidate, which the checks below then drop.
    """
    rows = np.asarray(signatures, dtype=np.uint32).reshape(-1, BANDS, ROWS).astype(np.uint64)
    return (rows * _BAND_MIX).sum(axis=2, dtype=np.uint64) + _BAND_SALT


def agree_enough(sig: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each row of ``others`` (signatures), whether it agrees with ``sig`` in enough values for
    the two texts to reach the Jaccard threshold (see above)."""
    return (others == sig).mean(axis=1) > MIN_AGREEMENT


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



# --- the index: signatures in the corpus, band keys in memory ---------------------------


class BandIndex:
    """The band keys and signatures of every document in the corpus, in memory, for the one writer.

    The corpus keeps the signatures (table ``signatures``, by ``seq``); the band
    keys are computed from them when first needed (at 100,000 documents, 1.6
    million keys sorted in about 0.3 s).  Kept as SQLite rows, each new document's
    16 keys went to random places of a B-tree and each candidate lookup read 16 of
    them: at 100,000 documents most of ingest's writer time.  The keys are held
    sorted (NumPy, looked up by binary search) with each key's document; keys added
    since are in a dict, merged into the sorted ones every :attr:`FOLD_AT` documents
    (a merge copies the arrays once: about 10 ms at 100,000 documents).

    :meth:`add` and :meth:`remove` write the table and the memory together;
    :meth:`sync`, at the start of each transaction, drops what is in memory when
    another connection has committed since (SQLite's ``data_version``).
    """

    FOLD_AT = 4_096  # added documents held in the dict before they are folded into the sorted part

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self._version: int | None = None
        self._loaded = False

    def sync(self) -> None:
        """Call inside each transaction, before the index is used."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version, self._loaded = version, False

    def _load(self) -> None:
        rows = [(seq, blob) for seq, blob in self.db.execute("SELECT seq, minhash FROM signatures ORDER BY seq")
                if len(blob) == SIGNATURE_BYTES]
        seqs = np.array([seq for seq, _ in rows], dtype=np.int64)
        sigs = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.uint32).reshape(-1, PERMUTATIONS)
        self._index(seqs, sigs)
        self._loaded = True

    def _index(self, seqs: np.ndarray, sigs: np.ndarray) -> None:
        """Hold these (seqs ascending) as the sorted part, with nothing added or removed since."""
        self._seqs, self._sigs = seqs, sigs
        keys = band_keys(sigs).ravel()
        order = np.argsort(keys)
        self._keys, self._owners = keys[order], np.repeat(seqs, BANDS)[order]
        self._direct()
        self._added: dict[int, np.ndarray] = {}
        self._added_keys: dict[int, list[int]] = {}
        self._removed: set[int] = set()

    def _fold(self) -> None:
        """Move what was added into the sorted part, by merging (no sort of the whole)."""
        seqs, sigs, keys, owners = self._seqs, self._sigs, self._keys, self._owners
        if self._removed:
            removed = np.fromiter(self._removed, dtype=np.int64, count=len(self._removed))
            kept = ~np.isin(owners, removed)
            keys, owners = keys[kept], owners[kept]
            kept = ~np.isin(seqs, removed)
            seqs, sigs = seqs[kept], sigs[kept]
        added = np.array(sorted(self._added), dtype=np.int64)
        added_sigs = np.array([self._added[seq] for seq in added.tolist()], dtype=np.uint32).reshape(-1, PERMUTATIONS)
        added_keys = band_keys(added_sigs).ravel()
        order = np.argsort(added_keys)
        at = np.searchsorted(keys, added_keys[order])
        self._keys = np.insert(keys, at, added_keys[order])
        self._owners = np.insert(owners, at, np.repeat(added, BANDS)[order])
        seqs, sigs = np.concatenate([seqs, added]), np.concatenate([sigs, added_sigs])
        if seqs.size > 1 and (seqs[1:] < seqs[:-1]).any():  # a document added again: ascending once more
            order = np.argsort(seqs)
            seqs, sigs = seqs[order], sigs[order]
        self._seqs, self._sigs = seqs, sigs
        self._direct()
        self._added, self._added_keys, self._removed = {}, {}, set()

    def _direct(self) -> None:
        """Where the sorted keys of each leading-bits prefix start: a lookup reads two places, where a
        binary search of 1.6 million keys read 21 (each a cache miss: 64 -> 10 us a document)."""
        bits = max(8, int(self._keys.size).bit_length())  # about one key a prefix
        self._shift = np.uint64(64 - bits)
        counts = np.bincount((self._keys >> self._shift).astype(np.intp), minlength=1 << bits)
        self._starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def add(self, seq: int, sig: np.ndarray) -> np.ndarray | None:
        """Store a new document's signature (:meth:`remove` one that had one); its band keys, if computed."""
        self.db.execute("INSERT INTO signatures(seq, minhash) VALUES (?, ?)", (seq, sig.tobytes()))
        if not self._loaded:
            return None
        self._added[seq] = sig  # a seq removed from the sorted part stays removed there: its keys are old
        keys = band_keys(sig)[0]
        for key in keys.tolist():
            self._added_keys.setdefault(key, []).append(seq)
        if len(self._added) >= self.FOLD_AT:
            self._fold()
        return keys

    def remove(self, seq: int) -> None:
        self.db.execute("DELETE FROM signatures WHERE seq = ?", (seq,))
        if not self._loaded:
            return
        sig = self._added.pop(seq, None)
        if sig is not None:
            for key in band_keys(sig)[0].tolist():
                self._added_keys[key].remove(seq)
        self._removed.add(seq)

    def _signatures(self, seqs: list[int]) -> np.ndarray:
        rows = np.minimum(np.searchsorted(self._seqs, seqs), max(self._seqs.size - 1, 0))
        found = self._sigs[rows] if self._seqs.size else np.zeros((len(seqs), PERMUTATIONS), dtype=np.uint32)
        for i, seq in enumerate(seqs):
            if seq in self._added:
                found[i] = self._added[seq]
        return found

    def similar(self, seq: int, sig: np.ndarray, keys: np.ndarray | None = None) -> list[int]:
        """The documents sharing a band key with the document ``seq`` whose signatures agree enough
        (see :func:`agree_enough`), ascending.  ``keys``: the signature's band keys, if at hand."""
        if not self._loaded:
            self._load()
        if keys is None:
            keys = band_keys(sig)[0]
        prefixes = (keys >> self._shift).astype(np.intp)
        starts, spans = self._starts[prefixes], self._starts[prefixes + 1] - self._starts[prefixes]
        # Every key under the same prefixes, at once: positions start, start + 1, … for each.
        at = np.arange(spans.sum()) + np.repeat(starts - (np.cumsum(spans) - spans), spans)
        found = set(self._owners[at[self._keys[at] == np.repeat(keys, spans)]].tolist())
        found -= self._removed
        for key in keys.tolist():
            found.update(self._added_keys.get(key, ()))
        found.discard(seq)
        if not found:
            return []
        others = sorted(found)
        return [other for other, ok in zip(others, agree_enough(sig, self._signatures(others)).tolist()) if ok]

    def candidates(self, seq: int, sig: np.ndarray, keys: np.ndarray | None = None) -> list[sqlite3.Row]:
        """(id, seq) of the :meth:`similar` documents that are neither duplicates nor near-duplicates."""
        similar = self.similar(seq, sig, keys)
        return self.db.execute(_candidates_sql(len(similar)), similar).fetchall() if similar else []


@lru_cache(maxsize=None)
def _candidates_sql(count: int) -> str:
    # The id and flags come from an index: in a row they follow the texts, and reaching
    # them read each candidate's overflow pages.
    return (f"SELECT id, seq FROM documents INDEXED BY documents_candidate WHERE seq IN ({', '.join('?' * count)}) "
            "AND duplicate_of IS NULL AND near_duplicate_of IS NULL ORDER BY seq")


def rebuild_index(db: sqlite3.Connection, batch: int = 2_000) -> None:
    """Sign every document again from its normalised text (inside the caller's transaction)."""
    db.execute("DELETE FROM signatures")
    last = 0
    while rows := db.execute("SELECT seq, norm_text FROM documents WHERE seq > ? ORDER BY seq LIMIT ?",
                             (last, batch)).fetchall():
        db.executemany("INSERT INTO signatures(seq, minhash) VALUES (?, ?)",
                       [(seq, signature(text).tobytes()) for seq, text in rows])
        last = rows[-1][0]
