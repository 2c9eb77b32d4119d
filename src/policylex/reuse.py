"""Text reuse: passages one document shares with another, told apart from central wording.

How passages are found (:func:`find_reuse`):

1. **Text.** Each document's normalised text with white space and punctuation
   removed (as :mod:`policylex.dedup` does): a copied paragraph is found whatever
   its commas, and every length here counts characters of that text.  Exact and
   near-duplicate reposts (flagged at ingest) are left out, and page furniture
   was already removed by ``normalise``.
2. **Seeds.** Character ``SHINGLE``-grams (10), hashed; one in four kept,
   chosen by its hash, so two copies of a passage keep the same ones.  An
   inverted index (the hashes sorted) gives the documents holding each: a
   shingle in more than the template cap of documents (``max_docs``, by default
   half the documents but at most 50) is a template (a broadcaster's header, a
   guiding-ideology sentence) and seeds nothing.  Only documents sharing a seed
   are ever compared, never all pairs; the seed hits of each pair are made a
   part of the corpus at a time (by the pair's first document), so memory
   stays bounded however many documents share shingles.
3. **Chains.** A pair's seeds in order along the first document, close together
   (at most ``SEED_GAP`` characters apart) and on nearly the same diagonal (an
   insertion shifts it by its length, at most ``MAX_GAP``), form a chain; a chain
   of at least two seeds spanning at least 60% of ``min_chars`` is verified.
4. **Alignment.** The chain's stretch of both texts (with a margin) is aligned
   (difflib's matching blocks of at least ``MIN_BLOCK`` characters).  Blocks
   separated by a gap of at most ``MAX_GAP`` characters on either side are one
   run; a gap counts one edit per ``GAP_EDIT`` characters (a changed character, an
   inserted 的, a different two-to-four-character place name: one edit each).  A
   run is a passage when its edits are within the budget of one per
   ``CHARS_PER_EDIT`` (50) characters of its length, rounded up; a run over
   budget is split at its widest gap, and each part tried again (so one bad
   stretch costs the passage that stretch, not the whole passage).  Passages
   sharing fewer than ``min_chars`` characters are dropped.
5. **Centre versus neighbour.** The reference documents (by default those whose
   province is 全国) are indexed too, whether or not ``where`` selects them.  A
   passage between two other documents is cut where a stretch that either of
   them shares with a reference document begins or ends; each part is
   *vertical* (``via_centre``) when a reference document shares it, otherwise
   *horizontal*, a borrowing between the two (a part shorter than ``min_chars``
   joins its neighbour).  A passage with a reference document is vertical.
6. **Direction** by date: ``earlier`` and ``later``.  When one document has no year,
   or their dates are the same as far as both are known, the pair has no
   direction: ``lag_days`` is empty (undated) or 0 (same date), and earlier/later
   are in corpus order.

The results (:class:`Reuse`) give tables: one row per pair and kind
(:meth:`Reuse.pairs`), one row per passage cluster (:meth:`Reuse.clusters`), the
borrowing matrix between groups (:meth:`Reuse.matrix`) and one pair's aligned
passages (:meth:`Reuse.passages_of`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from policylex.choices import ReuseField
from policylex.errors import UsageError
from policylex.output import Table
from policylex.store import Corpus

SHINGLE = 10  # characters per seed shingle
SAMPLE_BITS = 2  # one shingle in 2**SAMPLE_BITS (4) kept as a seed, by its hash's top bits
SEED_GAP = 60  # seeds further apart than this along the text start a new chain
MAX_GAP = 8  # a longer unmatched stretch on either side ends a passage
GAP_EDIT = 4  # characters of a gap that count one edit
MIN_BLOCK = 4  # matching blocks shorter than this are chance
MIN_EDGE = SHINGLE  # a passage starts and ends with a block at least this long (not a chance match after a gap)
CHARS_PER_EDIT = 50  # the edit budget: one edit per this many characters (rounded up)
MARGIN = 40  # characters aligned beyond a chain's first and last seed
MAX_TEMPLATE_DOCS = 50  # the default template cap never exceeds this
DEFAULT_MIN_CHARS = 50
DEFAULT_REFERENCE = ("province=全国",)
ACROSS = tuple(field.value for field in ReuseField)  # what pairs are compared across and grouped by: province city source
BATCH_CHARS = 1_000_000  # characters hashed at once (about 60 MB of arrays)
EXAMPLE_CHARS = 80

Progress = Callable[[int, int], None]
_CONTENT = re.compile(r"[^\s\W_]")
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads the polynomial hash's bits


@lru_cache(maxsize=1)
def _is_content() -> np.ndarray:
    """For each code point of the Basic Multilingual Plane, whether reuse compares it (``[^\\s\\W_]``)."""
    return np.array([_CONTENT.match(chr(c)) is not None for c in range(0x10000)], dtype=bool)


def _content_mask(points: np.ndarray) -> np.ndarray:
    mask = np.zeros(points.size, dtype=bool)
    bmp = points < 0x10000
    mask[bmp] = _is_content()[points[bmp]]
    for i in np.flatnonzero(~bmp).tolist():  # beyond the BMP (rare): ask the regex
        mask[i] = _CONTENT.match(chr(points[i])) is not None
    return mask


def _points(text: str) -> np.ndarray:
    return np.frombuffer((text or "").encode("utf-32-le"), dtype=np.uint32)


def content_text(text: str) -> str:
    """The characters reuse compares: white space and punctuation removed (a lookup table, not a regex: 3x faster)."""
    points = _points(text)
    return points[_content_mask(points)].tobytes().decode("utf-32-le")


def content_offsets(text: str) -> np.ndarray:
    """The position in ``text`` of each character of :func:`content_text` (for showing passages in context)."""
    return np.flatnonzero(_content_mask(_points(text)))


def template_cap(n_docs: int, max_docs: int | None = None) -> int:
    """The most documents a seed shingle may be in: ``max_docs``, or half the documents (at least 3, at most 50)."""
    if max_docs is not None:
        return max_docs
    return min(MAX_TEMPLATE_DOCS, max(3, n_docs // 2))


def edit_budget(length: int) -> int:
    """Edits allowed in a passage of ``length`` characters: one per 50, rounded up."""
    return max(1, math.ceil(length / CHARS_PER_EDIT))


def gap_edits(gap_a: int, gap_b: int) -> int:
    """The edits a gap between two matching blocks counts: one per 4 characters on its longer side."""
    return math.ceil(max(gap_a, gap_b) / GAP_EDIT)


# --- the documents ---------------------------------------------------------------------------


@dataclass
class Documents:
    """The documents reuse reads, in corpus order: metadata and content text."""

    names: list[str]
    dates: list[str]
    provinces: list[str]
    cities: list[str]
    sources: list[str]
    texts: list[str]  # content text (see content_text)
    selected: np.ndarray  # bool: may be one end of a reported pair (--where)
    reference: np.ndarray  # bool: a reference (central) document
    seqs: np.ndarray  # corpus seq, to read a text again
    # The normalised text, and where each content character is in it, of the documents in a passage.
    norm: dict[int, str] = field(default_factory=dict)
    offsets: dict[int, np.ndarray] = field(default_factory=dict)

    def span(self, doc: int, start: int, end: int) -> tuple[int, int]:
        """A span of the content text as one of the normalised text (punctuation inside it included)."""
        offsets = self.offsets[doc]
        return int(offsets[start]), int(offsets[end - 1]) + 1

    def excerpt(self, doc: int, start: int, end: int, limit: int | None = None) -> str:
        """The normalised text of a content span, cut to ``limit`` characters with …."""
        lo, hi = self.span(doc, start, end)
        piece = self.norm[doc][lo:hi]
        return piece if limit is None or len(piece) <= limit else piece[: limit - 1] + "…"

    def field(self, name: str) -> list[str]:
        return {"province": self.provinces, "city": self.cities, "source": self.sources}[name]

    def index_of(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise UsageError(f"no document named {name!r} among those compared (selected or reference "
                             "documents; reposts are left out)") from None


def load_documents(corpus: Corpus, *, where: list[str] | None = None,
                   reference: list[str] | tuple[str, ...] | None = DEFAULT_REFERENCE) -> Documents:
    """The selected documents and the reference documents (duplicates left out), with their content text."""
    from policylex.selection import load_documents as load_meta

    meta = load_meta(corpus)
    selected = np.zeros(meta.n_docs, dtype=bool)
    selected[meta.rows(where=where)] = True
    ref = np.zeros(meta.n_docs, dtype=bool)
    if reference:
        ref[meta.rows(where=list(reference))] = True
    keep = np.flatnonzero(selected | ref)
    wanted = set(keep.tolist())
    texts: dict[int, str] = {}
    seqs: dict[int, int] = {}
    rows = corpus.db.execute("SELECT seq, norm_text FROM documents ORDER BY seq")
    for position, row in enumerate(rows):  # the same order as load_meta's (seq), every document
        if position in wanted:
            texts[position] = content_text(row["norm_text"])
            seqs[position] = row["seq"]
    m = meta.meta
    return Documents(
        names=m["name"][keep].tolist(), dates=m["date"][keep].tolist(), provinces=m["province"][keep].tolist(),
        cities=m["city"][keep].tolist(), sources=m["source"][keep].tolist(),
        texts=[texts[i] for i in keep.tolist()], selected=selected[keep], reference=ref[keep],
        seqs=np.array([seqs[i] for i in keep.tolist()], dtype=np.int64))


# --- seeds: the inverted index -------------------------------------------------------------------


def seed_postings(texts: list[str], *, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hash, document, position) of every kept seed shingle, in document and position order.

    Texts are hashed a batch at a time, concatenated: a vectorised polynomial
    hash over code points (as :func:`policylex.dedup.shingles`), the shingles
    that cross from one text into the next dropped.
    """
    hashes, docs, positions = [], [], []
    start = 0
    while start < len(texts):
        stop, size = start, 0
        while stop < len(texts) and (size < BATCH_CHARS or stop == start):
            size += len(texts[stop])
            stop += 1
        batch = texts[start:stop]
        lengths = np.array([len(t) for t in batch], dtype=np.int64)
        joined = "".join(batch)
        if len(joined) >= SHINGLE:
            points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            width = points.size - SHINGLE + 1
            hashed = np.zeros(width, dtype=np.uint64)
            for offset in range(SHINGLE):
                hashed = hashed * np.uint64(1_000_003) + points[offset: offset + width]
            hashed *= _MIX
            ends = np.cumsum(lengths)
            owner = np.repeat(np.arange(len(batch), dtype=np.int64), lengths)[:width]
            within = np.arange(width, dtype=np.int64) - (ends - lengths)[owner]
            # Kept: whole inside one text, and one in four by the hash's top bits
            # (the same shingle is kept, or not, in every document).
            keep = (within + SHINGLE <= lengths[owner]) & ((hashed >> np.uint64(64 - SAMPLE_BITS)) == 0)
            hashes.append(hashed[keep])
            docs.append((owner[keep] + start).astype(np.int32))
            positions.append(within[keep].astype(np.int32))
        start = stop
        if progress:
            progress(start, len(texts))
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int32)
    return np.concatenate(hashes), np.concatenate(docs), np.concatenate(positions)


@dataclass
class Seeds:
    """Seed hits shared by two documents: a < b, the position of the shingle in each."""

    a: np.ndarray
    b: np.ndarray
    pa: np.ndarray
    pb: np.ndarray


@dataclass
class SeedIndex:
    """The inverted index: seed shingles in 2 to ``cap`` documents, each a run of (document, position)."""

    docs: np.ndarray  # int32, the runs one after another
    positions: np.ndarray  # int32
    starts: np.ndarray  # where each run begins
    lengths: np.ndarray  # its documents
    templates: int  # distinct shingles left out as templates (in more than cap documents)
    shingles: int  # distinct seed shingles

    def pair_count(self) -> int:
        """Seed hits the index gives, every pair of each run: L(L-1)/2 for a run of L."""
        return int((self.lengths * (self.lengths - 1) // 2).sum())


def seed_index(hashes: np.ndarray, docs: np.ndarray, positions: np.ndarray, cap: int) -> SeedIndex:
    """The seed postings sorted by hash into runs, a shingle's repeats within one document reduced
    to its first; runs of one document (shared with no one) and of more than ``cap`` (templates) out.

    A stable sort keeps each run in document and position order.
    """
    order = np.argsort(hashes, kind="stable")
    h = hashes[order]
    del hashes  # the caller holds no reference: each array is freed once sorted (memory at 100k documents)
    d = docs[order]
    del docs
    p = positions[order]
    del positions, order
    first = np.ones(h.size, dtype=bool)
    first[1:] = (h[1:] != h[:-1]) | (d[1:] != d[:-1])
    h, d, p = h[first], d[first], p[first]
    starts = np.flatnonzero(np.concatenate([[True], h[1:] != h[:-1]])) if h.size else np.zeros(0, np.int64)
    del h
    lengths = np.diff(np.concatenate([starts, [d.size]])) if d.size else np.zeros(0, np.int64)
    templates, shingles = int(np.count_nonzero(lengths > cap)), int(starts.size)
    kept = (lengths >= 2) & (lengths <= cap)
    member = np.repeat(kept, lengths)
    lengths = lengths[kept]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if lengths.size else lengths
    return SeedIndex(d[member], p[member], starts, lengths, templates, shingles)


PAIR_BLOCK = 2_000_000  # seed hits made at once; a part is at most 4 blocks of them: memory stays bounded


def shared_seeds(index: SeedIndex, keep_pair: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 part: int = 0, parts: int = 1) -> Seeds:
    """The seed hits of document pairs ``keep_pair`` wants whose first document is ``part`` modulo ``parts``.

    Each run of L documents gives its L(L-1)/2 pairs, the runs of one length at a
    time, a block of runs at a time.
    """
    out: list[tuple[np.ndarray, ...]] = []
    d, p = index.docs, index.positions
    for length in np.unique(index.lengths).tolist():
        ii, jj = np.triu_indices(length, 1)
        run_starts = index.starts[index.lengths == length]
        step = max(1, PAIR_BLOCK // ii.size)
        for block in range(0, run_starts.size, step):
            chosen = run_starts[block: block + step]
            left = (chosen[:, None] + ii[None, :]).ravel()
            right = (chosen[:, None] + jj[None, :]).ravel()
            a, b = d[left], d[right]
            wanted = keep_pair(a, b)
            if parts > 1:
                wanted &= a % parts == part
            out.append((a[wanted], b[wanted], p[left][wanted], p[right][wanted]))
    if not out:
        empty = np.zeros(0, np.int32)
        return Seeds(empty, empty, empty, empty)
    return Seeds(*(np.concatenate(column) for column in zip(*out)))


def chains(seeds: Seeds, min_chars: int) -> list[tuple[int, int, int, int, int, int]]:
    """(a, b, first pa, last pa, first pb, last pb) of each chain of seeds worth aligning."""
    if seeds.a.size == 0:
        return []
    # One int64 key (pair, then position) sorted: np.lexsort on three keys took twice the memory.
    # Documents are under 2**21 characters (ingest refuses longer ones) and fewer than 2**21.
    key = (seeds.a.astype(np.int64) << 42) | (seeds.b.astype(np.int64) << 21) | seeds.pa.astype(np.int64)
    order = np.argsort(key)
    del key
    a, b = seeds.a[order], seeds.b[order]
    pa, pb = seeds.pa[order].astype(np.int64), seeds.pb[order].astype(np.int64)
    del order
    diagonal = pb - pa
    new = np.ones(a.size, dtype=bool)
    new[1:] = ((a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (pa[1:] - pa[:-1] > SEED_GAP)
               | (np.abs(diagonal[1:] - diagonal[:-1]) > MAX_GAP))
    starts = np.flatnonzero(new)
    counts = np.diff(np.concatenate([starts, [a.size]]))
    ends = starts + counts - 1
    pb_low = np.minimum.reduceat(pb, starts)
    pb_high = np.maximum.reduceat(pb, starts)
    span = pa[ends] - pa[starts] + SHINGLE
    worth = (counts >= 2) & (span >= 0.6 * min_chars)
    return list(zip(a[starts][worth].tolist(), b[starts][worth].tolist(), pa[starts][worth].tolist(),
                    pa[ends][worth].tolist(), pb_low[worth].tolist(), pb_high[worth].tolist()))


# --- alignment -----------------------------------------------------------------------------------------


@dataclass
class Passage:
    """A passage two documents share: spans in each one's content text, end exclusive."""

    a: int
    b: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    chars: int  # characters matched
    edits: int
    blocks: list[tuple[int, int, int]] = field(default_factory=list, repr=False)  # (a pos, b pos, size)
    via_centre: bool = False


def passages_of_blocks(blocks: list[tuple[int, int, int]], min_chars: int) -> list[tuple[list, int]]:
    """Matching blocks (a, b, size) in order → passages (their blocks, edits) within the edit budget.

    Blocks with a gap wider than MAX_GAP between them never join; a run of
    blocks over budget is split at its widest gap and each part tried again.
    """
    runs: list[list[tuple[int, int, int]]] = []
    for block in blocks:
        if runs:
            pa, pb, ps = runs[-1][-1]
            gap_a, gap_b = block[0] - (pa + ps), block[1] - (pb + ps)
            if 0 <= gap_a <= MAX_GAP and 0 <= gap_b <= MAX_GAP:
                runs[-1].append(block)
                continue
        runs.append([block])
    out: list[tuple[list, int]] = []
    todo = runs[::-1]
    while todo:
        run = _trimmed(todo.pop())
        if sum(size for _, _, size in run) < min_chars:
            continue
        gaps = [gap_edits(run[i + 1][0] - run[i][0] - run[i][2], run[i + 1][1] - run[i][1] - run[i][2])
                for i in range(len(run) - 1)]
        length = run[-1][0] + run[-1][2] - run[0][0]
        edits = sum(gaps)
        if edits <= edit_budget(length):
            out.append((run, edits))
            continue
        widest = max(range(len(gaps)), key=lambda i: (gaps[i], -abs(i - len(gaps) / 2)))
        todo.extend([run[widest + 1:], run[: widest + 1]])  # the left part first
    return out


def _trimmed(run: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The run without short blocks at either end: four characters matching after a gap are chance."""
    start, stop = 0, len(run)
    while start < stop and run[start][2] < MIN_EDGE:
        start += 1
    while stop > start and run[stop - 1][2] < MIN_EDGE:
        stop -= 1
    return run[start:stop]


def run_edits(run: list[tuple[int, int, int]]) -> int:
    return sum(gap_edits(run[i + 1][0] - run[i][0] - run[i][2], run[i + 1][1] - run[i][1] - run[i][2])
               for i in range(len(run) - 1))


def align(text_a: str, text_b: str, a0: int, a1: int, b0: int, b1: int,
          min_chars: int) -> list[tuple[list, int]]:
    """Passages in text_a[a0:a1] and text_b[b0:b1], in the texts' coordinates."""
    from difflib import SequenceMatcher

    a0, b0 = max(0, a0), max(0, b0)
    matcher = SequenceMatcher(None, text_a[a0:a1], text_b[b0:b1], autojunk=False)
    blocks = [(a0 + i, b0 + j, n) for i, j, n in matcher.get_matching_blocks() if n >= MIN_BLOCK]
    return passages_of_blocks(blocks, min_chars)


def _overlap(start: int, end: int, spans: list[tuple[int, int]]) -> int:
    return sum(max(0, min(end, e) - max(start, s)) for s, e in spans)


def _dedupe(found: list[Passage]) -> list[Passage]:
    """One passage per stretch of a pair's texts: chains on nearby diagonals find the same one twice.

    Of passages overlapping in both documents, the longest is kept.
    """
    by_pair: dict[tuple[int, int], list[Passage]] = {}
    for p in found:
        by_pair.setdefault((p.a, p.b), []).append(p)
    kept: list[Passage] = []
    for pair in sorted(by_pair):
        mine: list[Passage] = []
        for p in sorted(by_pair[pair], key=lambda p: (-p.chars, p.a_start)):
            if not any(min(p.a_end, q.a_end) > max(p.a_start, q.a_start)
                       and min(p.b_end, q.b_end) > max(p.b_start, q.b_start) for q in mine):
                mine.append(p)
        kept.extend(sorted(mine, key=lambda p: p.a_start))
    return kept


# --- the whole search ---------------------------------------------------------------------------------


@dataclass
class Settings:
    min_chars: int
    cap: int
    across: str | None
    reference: tuple[str, ...]


@dataclass
class Reuse:
    """What :func:`find_reuse` found: the documents compared, their shared passages, and the settings."""

    documents: Documents
    passages: list[Passage]
    settings: Settings
    stats: dict[str, int]

    # -- the tables --

    def pairs(self) -> Table:
        """One row per pair of documents and kind (horizontal, or vertical via the centre).

        Columns: earlier later earlier_date later_date earlier_province later_province chars
        share_earlier share_later lag_days via_centre example.
        """
        return pairs_table(self)

    def clusters(self) -> Table:
        """One row per passage cluster: a passage and every document holding it, in date order."""
        return clusters_table(self)

    def matrix(self, by: str = "province") -> Table:
        """Who takes how much from whom: one row per (from, to) group, horizontal and vertical apart."""
        return matrix_table(self, by)

    def passages_of(self, first: str, second: str) -> Table:
        """The aligned passages of two documents (by name)."""
        return passages_table(self, first, second)


def find_reuse(corpus: Corpus, *, where: list[str] | None = None,
               reference: list[str] | tuple[str, ...] | None = DEFAULT_REFERENCE, across: str | None = None,
               min_chars: int = DEFAULT_MIN_CHARS, max_docs: int | None = None, only: list[str] | None = None,
               progress: Progress | None = None) -> Reuse:
    """Passages shared by the selected documents (``where``), told apart from those of the reference documents.

    ``across`` (province, city or source) keeps only pairs whose two documents
    differ in that field; ``max_docs`` is the template cap (see :func:`template_cap`);
    ``only`` (document names) compares only those documents with the others, for one pair's passages.
    """
    if across is not None and across not in ACROSS:
        raise UsageError(f"across {across!r}: choose from {', '.join(ACROSS)}")
    if min_chars < SHINGLE:
        raise UsageError(f"min_chars {min_chars}: at least {SHINGLE} (the seed length)")
    if max_docs is not None and max_docs < 2:
        raise UsageError(f"max_docs {max_docs}: at least 2 (a seed in one document is shared with no one)")
    reference = tuple(reference or ())
    docs = load_documents(corpus, where=where, reference=reference)
    n = len(docs.names)
    cap = template_cap(n, max_docs)
    settings = Settings(min_chars, cap, across, reference)
    # The template cap counts every compared document; the pairs kept are the ones reported
    # (both selected) and those with a reference document (which decide via_centre).
    selected, ref = docs.selected, docs.reference
    group = None
    if across is not None:
        group = np.unique(np.array(docs.field(across), dtype=str), return_inverse=True)[1].ravel()
        known = np.array([v != "" for v in docs.field(across)])
    focus = None
    if only:
        focus = np.zeros(n, dtype=bool)
        for name in only:
            focus[docs.index_of(name)] = True

    def keep_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        reported = selected[a] & selected[b]
        if group is not None:  # across: both known, and different
            reported &= (group[a] != group[b]) & known[a] & known[b]
        wanted = reported | (ref[a] & selected[b]) | (selected[a] & ref[b])
        if focus is not None:  # the pair itself, and each one's pairs with the reference (for via_centre)
            wanted &= (focus[a] & focus[b]) | ((focus[a] | focus[b]) & (ref[a] | ref[b]))
        return wanted

    # Passed on without a name here, so seed_index can let go of each array once sorted.
    index = seed_index(*seed_postings(docs.texts, progress=progress), cap)
    # Seed hits a part at a time (by the pair's first document), so that memory stays
    # bounded when many documents share many shingles: a pair's seeds are all in one part.
    parts = max(1, math.ceil(index.pair_count() / (4 * PAIR_BLOCK)))
    found: list[Passage] = []
    seed_pairs = aligned = 0
    for part in range(parts):
        seeds = shared_seeds(index, keep_pair, part, parts)
        seed_pairs += int(seeds.a.size)
        todo = chains(seeds, min_chars)
        del seeds
        for a, b, pa0, pa1, pb0, pb1 in todo:
            for blocks, edits in align(docs.texts[a], docs.texts[b], pa0 - MARGIN, pa1 + SHINGLE + MARGIN,
                                       pb0 - MARGIN, pb1 + SHINGLE + MARGIN, min_chars):
                found.append(_passage(a, b, blocks))
        aligned += len(todo)
        if progress:
            progress(part + 1, parts)
    passages = split_by_centre(_dedupe(found), ref, min_chars)
    _add_examples(corpus, docs, passages)
    stats = {"documents": n, "reference documents": int(ref.sum()), "selected documents": int(selected.sum()),
             "seed shingles": index.shingles, "template shingles": index.templates, "template cap": cap,
             "seed pairs": seed_pairs, "parts": parts, "chains aligned": aligned, "passages": len(passages)}
    return Reuse(docs, passages, settings, stats)


def _passage(a: int, b: int, blocks: list[tuple[int, int, int]], via_centre: bool = False) -> Passage:
    return Passage(a, b, blocks[0][0], blocks[-1][0] + blocks[-1][2], blocks[0][1], blocks[-1][1] + blocks[-1][2],
                   sum(s for _, _, s in blocks), run_edits(blocks), blocks, via_centre)


def _add_examples(corpus: Corpus, docs: Documents, passages: list[Passage]) -> None:
    """Read the normalised text of the documents holding a passage (for excerpts with their punctuation)."""
    wanted = sorted({p.a for p in passages} | {p.b for p in passages})
    for start in range(0, len(wanted), 500):
        chunk = wanted[start: start + 500]
        seq_to_doc = {int(docs.seqs[d]): d for d in chunk}
        marks = ",".join("?" * len(chunk))
        for row in corpus.db.execute(f"SELECT seq, norm_text FROM documents WHERE seq IN ({marks})", list(seq_to_doc)):
            doc = seq_to_doc[row["seq"]]
            docs.norm[doc] = row["norm_text"]
            docs.offsets[doc] = content_offsets(row["norm_text"])


def split_by_centre(passages: list[Passage], ref: np.ndarray, min_chars: int) -> list[Passage]:
    """Each passage's stretches also shared with a reference document marked vertical, the rest horizontal.

    A passage with a reference document is vertical.  Between two other
    documents, a passage is cut where a stretch some reference document shares
    (in either of the two) begins or ends, and each part is vertical when a
    reference document shares it.  A part shorter than ``min_chars`` joins its
    neighbour: a boundary is known to a few characters, not one.
    """
    central: dict[int, list[tuple[int, int]]] = {}
    for p in passages:
        if ref[p.a]:
            central.setdefault(p.b, []).append((p.b_start, p.b_end))
        if ref[p.b]:
            central.setdefault(p.a, []).append((p.a_start, p.a_end))
    out = []
    for p in passages:
        if ref[p.a] or ref[p.b]:
            p.via_centre = True
            out.append(p)
            continue
        in_a, in_b = central.get(p.a, []), central.get(p.b, [])
        if not in_a and not in_b:
            out.append(p)
            continue
        pieces: list[tuple[bool, tuple[int, int, int]]] = []
        for pa, pb, size in p.blocks:
            # Cut the block where a central stretch of either document begins or ends (in a's coordinates).
            cuts = {pa, pa + size}
            cuts.update(x for s, e in in_a for x in (s, e) if pa < x < pa + size)
            cuts.update(pa + x - pb for s, e in in_b for x in (s, e) if pb < x < pb + size)
            edges = sorted(cuts)
            for lo, hi in zip(edges, edges[1:]):
                middle = (lo + hi) / 2
                is_central = (any(s <= middle < e for s, e in in_a)
                              or any(s <= middle - pa + pb < e for s, e in in_b))
                pieces.append((is_central, (lo, pb + lo - pa, hi - lo)))
        groups: list[list] = []  # [flag, blocks]
        for flag, block in pieces:
            if groups and groups[-1][0] == flag:
                last = groups[-1][1][-1]
                if last[0] + last[2] == block[0] and last[1] + last[2] == block[1]:  # a cut block: join again
                    groups[-1][1][-1] = (last[0], last[1], last[2] + block[2])
                else:
                    groups[-1][1].append(block)
            else:
                groups.append([flag, [block]])
        merged: list[list] = []
        for flag, blocks in groups:
            short = sum(s for _, _, s in blocks) < min_chars
            if merged and (short or sum(s for _, _, s in merged[-1][1]) < min_chars):
                keep = merged[-1][0] if short else flag  # the longer part decides the kind
                merged[-1] = [keep, merged[-1][1] + blocks]
            else:
                merged.append([flag, blocks])
        out.extend(_passage(p.a, p.b, blocks, flag) for flag, blocks in merged)
    return out


# --- dates and direction --------------------------------------------------------------------------


def _date_parts(value: str) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of a stored date (2021-02-25, 2021-02, 2021, --10-30); None where unknown."""
    match = re.fullmatch(r"(\d{4}|-)-?(\d{2})?-?(\d{2})?", value or "")
    if not match or match.group(1) == "-":
        return None, None, None
    year, month, day = match.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def order_pair(date_a: str, date_b: str) -> tuple[bool, int | None, bool]:
    """(a is later, lag in days or None, directed) for two stored dates.

    Directed when both have a year and they differ as far as both are known;
    the lag only between two full dates.
    """
    from datetime import date

    pa, pb = _date_parts(date_a), _date_parts(date_b)
    if pa[0] is None or pb[0] is None:
        return False, None, False
    for x, y in zip(pa, pb):
        if x is None or y is None:
            return False, None, False
        if x != y:
            later = x > y
            lag = None
            if None not in pa and None not in pb:
                lag = abs((date(*pa) - date(*pb)).days)
            return later, lag, True
    return False, 0, False


# --- tables ------------------------------------------------------------------------------------------------

PAIR_COLUMNS = ("earlier", "later", "earlier_date", "later_date", "earlier_province", "later_province", "chars",
                "share_earlier", "share_later", "lag_days", "via_centre", "example")


def _example(passage: Passage, docs: Documents, later_is_b: bool) -> str:
    if later_is_b:
        return docs.excerpt(passage.b, passage.b_start, passage.b_end, EXAMPLE_CHARS)
    return docs.excerpt(passage.a, passage.a_start, passage.a_end, EXAMPLE_CHARS)


@dataclass
class _Pair:
    earlier: int
    later: int
    lag: int | None
    directed: bool
    via_centre: bool
    passages: list[Passage]

    @property
    def chars(self) -> int:
        return sum(p.chars for p in self.passages)


def _pairs(reuse: Reuse) -> list[_Pair]:
    """The reported pairs (both documents selected), a pair's horizontal and vertical passages apart."""
    docs = reuse.documents
    groups: dict[tuple[int, int, bool], list[Passage]] = {}
    for p in reuse.passages:
        if docs.selected[p.a] and docs.selected[p.b]:
            if reuse.settings.across is not None:
                values = docs.field(reuse.settings.across)
                if not values[p.a] or not values[p.b] or values[p.a] == values[p.b]:
                    continue
            groups.setdefault((p.a, p.b, p.via_centre), []).append(p)
    out = []
    for (a, b, via), found in groups.items():
        a_later, lag, directed = order_pair(docs.dates[a], docs.dates[b])
        earlier, later = (b, a) if a_later else (a, b)
        out.append(_Pair(earlier, later, lag, directed, via, found))
    out.sort(key=lambda q: (-q.chars, docs.names[q.earlier], docs.names[q.later], q.via_centre))
    return out


def pairs_table(reuse: Reuse) -> Table:
    docs = reuse.documents
    rows = []
    undirected = 0
    for pair in _pairs(reuse):
        e, l = pair.earlier, pair.later
        longest = max(pair.passages, key=lambda p: p.chars)
        chars = pair.chars
        rows.append((docs.names[e], docs.names[l], docs.dates[e] or None, docs.dates[l] or None,
                     docs.provinces[e] or None, docs.provinces[l] or None, chars,
                     round(chars / max(1, len(docs.texts[e])), 4), round(chars / max(1, len(docs.texts[l])), 4),
                     pair.lag, pair.via_centre, _example(longest, docs, later_is_b=(longest.b == l))))
        undirected += not pair.directed
    notes = _notes(reuse)
    if undirected:
        notes.append(f"{undirected} pair(s) without a direction (a document has no year, or both the same date): "
                     "earlier/later are in corpus order there; lag_days is empty (undated) or 0 (same date).")
    return Table(PAIR_COLUMNS, rows, title="Shared passages, one row per pair and kind", notes=notes)


def _notes(reuse: Reuse) -> list[str]:
    s = reuse.settings
    reference = " and ".join(s.reference) if s.reference else "none"
    return [f"chars: characters shared, punctuation and white space not counted; passages of at least {s.min_chars}; "
            f"seed shingles in more than {s.cap} documents are templates; reference (via_centre): {reference}."]


CLUSTER_COLUMNS = ("cluster", "documents", "provinces", "first", "first_date", "first_province", "chars",
                   "via_centre", "members", "example")


def _clusters(reuse: Reuse) -> list[tuple[list[tuple[int, int, int]], int]]:
    """Passages joined into clusters: two passages holding overlapping stretches of one document are
    one passage.  Each cluster: its occurrences (document, start, end) and its longest passage's chars."""
    parent = list(range(len(reuse.passages)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    spans: dict[int, list[tuple[int, int, int]]] = {}  # document -> (start, end, passage number)
    for k, p in enumerate(reuse.passages):
        spans.setdefault(p.a, []).append((p.a_start, p.a_end, k))
        spans.setdefault(p.b, []).append((p.b_start, p.b_end, k))
    for items in spans.values():
        items.sort()
        end, last = -1, -1
        for start, stop, k in items:
            if start < end:  # overlaps a stretch before it in this document: the same passage
                parent[find(k)] = find(last)
                end = max(end, stop)
            else:
                end = stop
            last = k
    members: dict[int, list[tuple[int, int, int]]] = {}
    longest: dict[int, int] = {}
    for doc, items in spans.items():
        for start, stop, k in items:
            root = find(k)
            members.setdefault(root, []).append((doc, start, stop))
            longest[root] = max(longest.get(root, 0), reuse.passages[k].chars)
    return [(members[root], longest[root]) for root in members]


def clusters_table(reuse: Reuse) -> Table:
    docs = reuse.documents
    rows = []
    for occurrences, chars in _clusters(reuse):
        by_doc: dict[int, tuple[int, int]] = {}
        for doc, start, stop in occurrences:
            s, e = by_doc.get(doc, (start, stop))
            by_doc[doc] = (min(s, start), max(e, stop))
        members = [d for d in by_doc if docs.selected[d] or docs.reference[d]]
        if len(members) < 2:
            continue
        members.sort(key=lambda d: (_sort_date(docs.dates[d]), d))
        first = members[0]
        example = docs.excerpt(first, *by_doc[first], EXAMPLE_CHARS)
        provinces = sorted({docs.provinces[d] or "unknown" for d in members})
        listed = "; ".join(f"{docs.names[d]} ({docs.dates[d] or 'undated'}, {docs.provinces[d] or 'unknown'})"
                           for d in members)
        rows.append([len(members), " ".join(provinces), docs.names[first], docs.dates[first] or None,
                     docs.provinces[first] or None, chars, any(docs.reference[d] for d in members), listed, example])
    rows.sort(key=lambda r: (-r[0], -r[5], r[2]))
    return Table(CLUSTER_COLUMNS, [(i + 1, *r) for i, r in enumerate(rows)],
                 title="Passage clusters: each passage once, its documents in date order", notes=_notes(reuse))


def readable(table: Table, limit: int = 16) -> Table:
    """The table for a terminal: each example cut to ``limit`` characters (the other formats keep 80)."""
    if "example" not in table.columns:
        return table
    at = list(table.columns).index("example")
    cut = [tuple(v[: limit - 1] + "…" if i == at and isinstance(v, str) and len(v) > limit else v
                 for i, v in enumerate(row)) for row in table.rows]
    return Table(table.columns, cut, title=table.title, notes=table.notes)


def _sort_date(value: str) -> tuple:
    """Dates in order, undated last."""
    y, m, d = _date_parts(value)
    return (y is None, y or 0, m or 0, d or 0)


MATRIX_COLUMNS = ("from", "to", "horizontal_pairs", "horizontal_chars", "horizontal_lag_days", "vertical_pairs",
                  "vertical_chars", "vertical_lag_days")


def matrix_table(reuse: Reuse, by: str = "province") -> Table:
    """Borrowing between groups: for each (from, to), the directed pairs, the characters they share and
    their median lag in days (pairs with two full dates), horizontal and vertical apart."""
    if by not in ACROSS:
        raise UsageError(f"by {by!r}: choose from {', '.join(ACROSS)}")
    docs = reuse.documents
    values = docs.field(by)
    cells: dict[tuple[str, str], dict[bool, list]] = {}
    undirected = 0
    for pair in _pairs(reuse):
        if not pair.directed:
            undirected += 1
            continue
        key = (values[pair.earlier] or "unknown", values[pair.later] or "unknown")
        cell = cells.setdefault(key, {False: [0, 0, []], True: [0, 0, []]})[pair.via_centre]
        cell[0] += 1
        cell[1] += pair.chars
        if pair.lag is not None:
            cell[2].append(pair.lag)

    def kind(cell: list) -> tuple:
        return cell[0], cell[1], float(np.median(cell[2])) if cell[2] else None

    rows = [(f, t, *kind(c[False]), *kind(c[True])) for (f, t), c in cells.items()]
    rows.sort(key=lambda r: (-r[3], -r[6], r[0], r[1]))
    notes = _notes(reuse)
    if undirected:
        notes.append(f"{undirected} pair(s) without a direction (undated, or the same date) are not in the matrix.")
    return Table(MATRIX_COLUMNS, rows, title=f"Borrowing by {by}: from the earlier document's {by} to the later's",
                 notes=notes)


PASSAGE_COLUMNS = ("passage", "first_start", "first_end", "second_start", "second_end", "chars", "edits",
                   "via_centre", "first_text", "second_text")


def passages_table(reuse: Reuse, first: str, second: str) -> Table:
    """One pair's passages, aligned: each one's span in both documents' normalised text (start, end
    exclusive), its characters and edits, and both sides with the stretches that differ in brackets
    (``更[加]突出`` / ``更[为]突出``; the texts without punctuation, as they were compared)."""
    docs = reuse.documents
    a, b = docs.index_of(first), docs.index_of(second)
    if a == b:
        raise UsageError("give two different documents")
    swap = a > b
    rows = []
    for p in reuse.passages:
        if (p.a, p.b) != ((b, a) if swap else (a, b)):
            continue
        text_a, text_b = _marked(docs.texts[p.a], docs.texts[p.b], p.blocks)
        sides = [(docs.span(p.a, p.a_start, p.a_end), text_a), (docs.span(p.b, p.b_start, p.b_end), text_b)]
        if swap:
            sides.reverse()
        ((s1, e1), t1), ((s2, e2), t2) = sides
        rows.append((len(rows) + 1, s1, e1, s2, e2, p.chars, p.edits, p.via_centre, t1, t2))
    return Table(PASSAGE_COLUMNS, rows, title=f"Passages shared by {first} and {second}", notes=_notes(reuse))


def _marked(text_a: str, text_b: str, blocks: list[tuple[int, int, int]]) -> tuple[str, str]:
    """Both sides of a passage, the stretches between matching blocks in brackets."""
    out_a, out_b = [], []
    for i, (pa, pb, size) in enumerate(blocks):
        if i:
            qa, qb, qs = blocks[i - 1]
            gap_a, gap_b = text_a[qa + qs: pa], text_b[qb + qs: pb]
            if gap_a or gap_b:  # blocks cut at a central stretch's edge follow each other with no gap
                out_a.append(f"[{gap_a}]")
                out_b.append(f"[{gap_b}]")
        out_a.append(text_a[pa: pa + size])
        out_b.append(text_b[pb: pb + size])
    return "".join(out_a), "".join(out_b)
