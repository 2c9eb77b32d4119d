"""What users run without policylex, timed on the same texts: the ratios' denominators.

Run as a script by ``benchmarks/run.py``, each in its own process, so that its
wall time includes start-up as ours does:

``python baselines.py jieba CORPUS OUT [--no-hmm]``
    plain single-process ``jieba.lcut`` (with the same words as ours: the domain
    dictionary and the lexicon's protected formulations, added with
    ``add_word`` as a user would) over every document's normalised text;
    prints the seconds spent in jieba and writes one line per document to OUT:
    the tokens after policylex's stopword and punctuation filter, for the
    identity check.
``python baselines.py counter CORPUS OUT``
    a naive ``collections.Counter`` over the stored tokens of the counted
    documents; writes the top 20 as ``term<TAB>count`` lines.
``python baselines.py script FOLDER OUT``
    the script a researcher writes by hand instead of policylex: read the files
    (UTF-8, else GB18030), OpenCC t2s, ``jieba.lcut`` in a pool of 2 processes,
    ``collections.Counter`` and scikit-learn's ``TfidfVectorizer``; writes the top
    20 terms; its whole run is the time (the end-to-end row's denominator).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections import Counter


def read_texts(corpus: str, column: str, where: str = ""):
    """The column of every document, in order, streamed (100k texts do not all sit in memory)."""
    db = sqlite3.connect(corpus)
    try:
        for row in db.execute(f"SELECT {column} FROM documents_with_tokens {where} ORDER BY seq"):
            yield row[0]
    finally:
        db.close()


def jieba_baseline(corpus: str, out: str, hmm: bool) -> None:
    """Prints the seconds spent in jieba (import, dictionary, lcut): reading the texts from the
    corpus and filtering and writing the tokens for the identity check are not counted."""
    started = time.perf_counter()
    import jieba

    jieba.setLogLevel(60)
    seconds = time.perf_counter() - started
    from policylex.tokenise import dictionary_entries, keep_token

    entries = dictionary_entries()  # reading our word lists is not jieba's time
    started = time.perf_counter()
    for entry in entries:
        jieba.add_word(entry.word, entry.freq, entry.tag)
    seconds += time.perf_counter() - started

    with open(out, "w", encoding="utf-8") as handle:
        for text in read_texts(corpus, "norm_text"):
            started = time.perf_counter()
            words = jieba.lcut(text, HMM=hmm)
            seconds += time.perf_counter() - started
            handle.write(" ".join(w for w in words if keep_token(w)) + "\n")
    print(f"{seconds:.3f}")


def counter_baseline(corpus: str, out: str) -> None:
    counts: Counter = Counter()
    for tokens in read_texts(corpus, "tokens",
                             "WHERE tokens IS NOT NULL AND duplicate_of IS NULL AND near_duplicate_of IS NULL"):
        counts.update(tokens.split())
    with open(out, "w", encoding="utf-8") as handle:
        for term, count in counts.most_common(20):
            handle.write(f"{term}\t{count}\n")


def _cut(text: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return jieba.lcut(text)


def _same(tokens: list[str]) -> list[str]:
    return tokens


def script_baseline(folder: str, out: str) -> None:
    """Read, convert, segment in 2 processes, count, TF-IDF: as a researcher would write it."""
    from multiprocessing import Pool
    from pathlib import Path

    from opencc import OpenCC
    from sklearn.feature_extraction.text import TfidfVectorizer

    convert = OpenCC("t2s").convert
    texts = []
    for path in sorted(Path(folder).rglob("*.txt")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("gb18030", "replace")
        texts.append(convert(text))
    with Pool(2) as pool:
        tokens = pool.map(_cut, texts, chunksize=64)
    counts = Counter(token for document in tokens for token in document if token.strip())
    TfidfVectorizer(analyzer=_same).fit_transform(tokens)
    with open(out, "w", encoding="utf-8") as handle:
        for term, count in counts.most_common(20):
            handle.write(f"{term}\t{count}\n")


if __name__ == "__main__":
    kind, corpus, out = sys.argv[1:4]
    if kind == "jieba":
        jieba_baseline(corpus, out, hmm="--no-hmm" not in sys.argv)
    elif kind == "script":
        script_baseline(corpus, out)
    else:
        counter_baseline(corpus, out)
