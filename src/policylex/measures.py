"""Term frequencies over the tokenised corpus.

``term_frequencies`` gives, per term: ``rank``, ``term``, ``count`` (occurrences),
``per_10k`` (occurrences per 10,000 tokens of the counted documents) and
``docfreq`` (documents containing the term).  Exact and near-duplicates are left
out unless ``include_duplicates``.
"""

from __future__ import annotations

from collections import Counter

from policylex.errors import UsageError
from policylex.output import Table
from policylex.store import COUNTED, Corpus

FREQ_COLUMNS = ("rank", "term", "count", "per_10k", "docfreq")


def count_terms(corpus: Corpus, *, include_duplicates: bool = False) -> tuple[Counter, Counter, int, int]:
    """(term counts, document frequencies, total tokens, documents) over tokenised documents."""
    where = "tokens IS NOT NULL" + ("" if include_duplicates else f" AND {COUNTED}")
    counts: Counter = Counter()
    docfreq: Counter = Counter()
    total = documents = 0
    for (joined,) in corpus.db.execute(f"SELECT tokens FROM documents WHERE {where} ORDER BY seq"):
        tokens = joined.split()
        counts.update(tokens)
        docfreq.update(set(tokens))
        total += len(tokens)
        documents += 1
    return counts, docfreq, total, documents


def term_frequencies(
    corpus: Corpus,
    *,
    top: int | None = 20,
    min_count: int = 1,
    terms: list[str] | None = None,
    include_duplicates: bool = False,
) -> Table:
    """The most frequent terms (or the given ``terms``), ranked by count then term."""
    if corpus.db.execute("SELECT count(*) FROM documents WHERE tokens IS NOT NULL").fetchone()[0] == 0:
        raise UsageError("no tokenised documents: run `policylex tokenise` first")
    counts, docfreq, total, documents = count_terms(corpus, include_duplicates=include_duplicates)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    rank_of = {term: i for i, (term, _) in enumerate(ranked, start=1)}
    if terms:
        chosen = [(t, counts.get(t, 0)) for t in terms]
    else:
        chosen = [(t, c) for t, c in ranked if c >= min_count]
        if top:
            chosen = chosen[:top]
    rows = [
        (rank_of.get(term), term, count, round(count / total * 10_000, 2) if total else 0.0, docfreq.get(term, 0))
        for term, count in chosen
    ]
    notes = [f"{documents} documents, {total} tokens"]
    return Table(FREQ_COLUMNS, rows, title="Term frequencies", notes=notes)
