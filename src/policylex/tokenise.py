"""Word segmentation with jieba's model, a domain dictionary, stopwords and punctuation removal.

The bundled ``data/domain_dict.txt`` keeps procuratorial, legal and political terms
whole (公益诉讼, 少捕慎诉慎押, 认罪认罚从宽); ``--userdict`` adds the user's own.
Every engine gets its words through :func:`dictionary_entries` (see
:mod:`policylex.segment`: rjieba gives jieba's tokens several times faster; jieba
is the reference).  Tokens are stored space-separated, and with them each
document's term counts (ids into the ``terms`` table), so the document-term matrix
is built by concatenation.  The settings are fingerprinted, so a document is
re-tokenised only when its normalised text or the settings change.  Output is the
same whatever the number of worker processes.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import unicodedata
import uuid
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from policylex.parallel import chunks, default_workers, map_batches
from policylex.segment import Entry, engine_name, make_engine, parse_dictionary
from policylex.store import TOKEN_COLUMNS, Corpus, json_dumps, pages

Progress = Callable[[int, int], None]
BATCH_DOCUMENTS = 512
SERIAL_BELOW = 64  # fewer documents than this are not worth starting processes for
VOCABULARIES_KEPT = 1024  # workers' vocabularies whose translation a run keeps (more than any pool's workers)
KEEP_CACHE_SIZE = 1_000_000  # distinct tokens whose keep-or-drop verdict a tokeniser remembers
# One document's tokens, as (seq, *TOKEN_COLUMNS); a document another process deleted meanwhile gets none.
UPSERT_TOKENS = (
    f"INSERT INTO document_tokens(seq, {', '.join(TOKEN_COLUMNS)}) "
    f"SELECT ?1, {', '.join(f'?{k}' for k in range(2, len(TOKEN_COLUMNS) + 2))} "
    "WHERE EXISTS (SELECT 1 FROM documents WHERE seq = ?1) "
    f"ON CONFLICT (seq) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in TOKEN_COLUMNS)}")


def _data_path(name: str) -> Path:
    return Path(str(resources.files("policylex").joinpath("data", name)))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = _data_path("stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def dictionary_entries(userdict: str | None = None) -> list[Entry]:
    """Every word the segmenter adds to its model, in the order it adds them.

    The one path by which words reach every engine: the bundled domain
    dictionary, then the lexicon's short formulations (so 少捕慎诉慎押 and
    四个意识 stay one token), then the user's dictionary (last, so that the
    user's frequencies win).
    """
    from policylex.lexicon import PROTECTED_FREQUENCY, protected_words

    entries = parse_dictionary(_data_path("domain_dict.txt"))
    entries += [Entry(word, PROTECTED_FREQUENCY) for word in protected_words()]  # slogan protection
    if userdict:
        entries += parse_dictionary(userdict, "--userdict")
    return entries


@dataclass(frozen=True)
class TokeniserSettings:
    hmm: bool = True
    keep_stopwords: bool = False
    userdict: str | None = None
    pos: bool = False  # tag parts of speech (jieba.posseg, whose segmentation differs slightly)
    engine: str | None = None  # jieba or rjieba; None: the fastest whose tokens are jieba's

    def entries(self) -> list[Entry]:
        return dictionary_entries(self.userdict)

    def engine_name(self) -> str:
        return "jieba" if self.pos else engine_name(self.entries(), self.engine)

    def fingerprint(self) -> str:
        """What the tokens depend on, recorded with every document and in the corpus."""
        from policylex.segment import describe_engine

        entries = self.entries()
        return json_dumps({
            "engine": describe_engine(self.engine_name()) + (" posseg" if self.pos else ""),
            "hmm": self.hmm,
            "stopwords": "kept" if self.keep_stopwords else f"removed ({_file_digest(_data_path('stopwords.txt'))})",
            "domain_dict": _file_digest(_data_path("domain_dict.txt")),
            "userdict": _file_digest(Path(self.userdict)) if self.userdict else None,
            "words": hashlib.sha256(json_dumps([[e.word, e.freq, e.tag] for e in entries]).encode()).hexdigest()[:12],
        })


class Tokeniser:
    """A segmenter with the dictionaries loaded, and the stopword and punctuation filter."""

    def __init__(self, settings: TokeniserSettings = TokeniserSettings()):
        self.settings = settings
        entries = settings.entries()
        self._stop = frozenset() if settings.keep_stopwords else stopwords()
        self._keep: dict[str, bool] = {}
        if settings.pos:
            import jieba  # deferred: loading the dictionary takes most of a second
            from jieba.posseg import POSTokenizer

            from policylex.segment import JiebaEngine

            jieba.setLogLevel(logging.WARNING)
            self._tagger = POSTokenizer(JiebaEngine(entries, settings.hmm).tokenizer)
        else:
            self.engine = make_engine(entries, settings.hmm, name=settings.engine)

    def keep(self, word: str) -> bool:
        """Whether a segment is a token: not white space, punctuation or (unless kept) a stopword."""
        verdict = self._keep.get(word)
        if verdict is None:
            if len(self._keep) >= KEEP_CACHE_SIZE:
                self._keep.clear()
            verdict = self._keep[word] = word not in self._stop and _is_word(word)
        return verdict

    def tagged(self, text: str) -> list[tuple[str, str | None]]:
        """(token, part of speech or None) in order, without white space, punctuation or stopwords."""
        if not self.settings.pos:
            return [(w, None) for w in self.tokens(text)]
        result = []
        for line in text.split("\n"):
            pairs = ((p.word, p.flag) for p in self._tagger.lcut(line, HMM=self.settings.hmm))
            result.extend((w, tag) for w, tag in pairs if self.keep(w))
        return result

    def tokens(self, text: str) -> list[str]:
        """Tokens of one text, in order, without white space, punctuation or stopwords."""
        if self.settings.pos:
            return [token for token, _ in self.tagged(text)]
        known = self._keep.get
        return [word for word in self.engine.cut(text) if known(word) or (known(word) is None and self.keep(word))]


def keep_token(word: str) -> bool:
    """The default filter, for comparing other segmenters' output: no white space, punctuation or stopwords."""
    return word not in stopwords() and _is_word(word)


def _is_word(token: str) -> bool:
    """Anything with at least one letter or digit: punctuation, symbols and spaces are not words."""
    return any(unicodedata.category(c)[0] in "LN" for c in token)


def check_userdict(path: str | None) -> None:
    """Before any work: the user's dictionary reads, line by line."""
    if path is not None:
        parse_dictionary(path, "--userdict")


# --- parallel tokenising --------------------------------------------------------

_worker: Tokeniser | None = None
_vocabulary: "LocalVocabulary | None" = None


@lru_cache(maxsize=4)
def _cached_tokeniser(settings: TokeniserSettings, fingerprint: str) -> Tokeniser:
    return Tokeniser(settings)


def _init_worker(settings: TokeniserSettings) -> None:
    """Build (or reuse, within one process) the tokeniser: a segmenter's dictionary takes a while to load.

    Each call starts a new vocabulary: a run's term numbers are known to that run only.
    """
    global _worker, _vocabulary
    _worker = _cached_tokeniser(settings, settings.fingerprint())
    _vocabulary = LocalVocabulary()


class LocalVocabulary:
    """A worker's own term numbering, so that the main process never looks up a term it has seen.

    A worker numbers terms 0, 1, 2, … as it first meets them and names the new
    ones with the document that has them first; the main process translates a
    worker's numbers into the corpus's term ids with one array lookup per
    document (:class:`TermIds`).  A worker takes its documents in input order and
    the main process writes them in input order, so a number's name always
    arrives before the number is used again.
    """

    def __init__(self):
        self.key = uuid.uuid4().hex  # tells this worker's numbering from another's
        self.ids: dict[str, int] = {}

    def number(self, terms: list[str]) -> tuple[bytes, str]:
        """The terms' numbers (int32, native order) and the terms numbered now, newline-joined."""
        ids = self.ids
        found = list(map(ids.get, terms))
        new = []
        if None in found:
            for k, term in enumerate(terms):
                if found[k] is None:
                    found[k] = ids[term] = len(ids)
                    new.append(term)
        return array("i", found).tobytes(), "\n".join(new)


@dataclass
class Tokenised:
    """One text's tokens as a worker returns them: few, flat fields, so sending them costs little.

    ``terms`` are the distinct tokens as numbers of the worker's vocabulary
    ``vocabulary`` (int32), ``counts`` their counts (int32), ``new_terms`` the
    terms this document numbered first (newline-joined, in number order).
    """

    tokens: str
    tags: str | None
    token_count: int
    vocabulary: str
    terms: bytes
    counts: bytes
    new_terms: str


def _tokenise_one(text: str) -> Tokenised:
    assert _worker is not None and _vocabulary is not None
    if _worker.settings.pos:
        pairs = _worker.tagged(text)
        tokens = [token for token, _ in pairs]
        tags = " ".join(tag for _, tag in pairs)
    else:
        tokens, tags = _worker.tokens(text), None
    counts = Counter(tokens)
    terms, new_terms = _vocabulary.number(list(counts))
    return Tokenised(" ".join(tokens), tags, len(tokens), _vocabulary.key, terms, array("i", counts.values()).tobytes(),
                     new_terms)


def _tokenise_row(row: tuple[int, str, str]) -> Tokenised:
    return _tokenise_one(row[2])


def tokenise_texts(texts: Iterable[str], settings: TokeniserSettings,
                   workers: int = 1) -> Iterable[tuple[str, str | None]]:
    """(space-joined tokens, space-joined tags or None) per text, in input order, with ``workers`` processes."""
    _init_worker(settings)  # before any fork, so that the workers inherit the loaded dictionary
    for _, results in map_batches(_tokenise_one, chunks(texts, BATCH_DOCUMENTS), workers=workers, initializer=_init_worker,
                                  initargs=(settings,)):
        for result in results:
            yield result.tokens, result.tags


def describe_settings(fingerprint: str | None) -> str:
    """A tokeniser fingerprint for people: jieba 0.42.1, HMM on, stopwords removed, …."""
    import json

    if not fingerprint:
        return "not run"
    s = json.loads(fingerprint)
    return (f"{s['engine']}, HMM {'on' if s['hmm'] else 'off'}, stopwords {s['stopwords']}, "
            f"domain dictionary {s['domain_dict']}, user dictionary {s['userdict'] or 'none'}")


@dataclass
class TokeniseReport:
    documents: int = 0
    tokenised: int = 0
    tokens: int = 0
    workers: int = 1
    settings: str = ""

    def summary(self) -> list[tuple[str, object]]:
        return [("documents", self.documents), ("tokenised now", self.tokenised),
                ("already up to date", self.documents - self.tokenised), ("tokens written", self.tokens),
                ("workers", self.workers)]


class TermIds:
    """The corpus's ``terms`` table in memory: term → id, new terms numbered and written as they come."""

    def __init__(self, corpus: Corpus):
        self.db = corpus.db
        self.ids: dict[str, int] = {}
        self.last = 0
        self.translations: dict[str, array] = {}  # a worker's vocabulary -> its numbers' term ids
        self.refresh()

    def refresh(self) -> None:
        """Read the terms another writer added; call inside the write transaction."""
        for term_id, term in self.db.execute("SELECT id, term FROM terms WHERE id > ? ORDER BY id", (self.last,)):
            self.ids[term] = term_id
            self.last = term_id

    def pack(self, result: Tokenised, new: list[tuple[int, str]]) -> bytes:
        """The result's term ids (ascending) then their counts, as little-endian int32; new terms are appended to ``new``."""
        import numpy as np  # deferred: numpy takes a tenth of a second to import

        # Most recently used last; a Dask task's vocabulary serves its few documents only (policylex.cluster).
        translation = self.translations.pop(result.vocabulary, None)
        translation = self.translations[result.vocabulary] = array("i") if translation is None else translation
        if len(self.translations) > VOCABULARIES_KEPT:
            del self.translations[next(iter(self.translations))]
        if result.new_terms:
            for term in result.new_terms.split("\n"):
                term_id = self.ids.get(term)
                if term_id is None:
                    self.last += 1
                    term_id = self.ids[term] = self.last
                    new.append((self.last, term))
                translation.append(term_id)
        ids = np.frombuffer(translation, dtype=np.int32)[np.frombuffer(result.terms, dtype=np.int32)]
        # By term id: the matrix's rows then need no sorting when it is built (0.6 s at 100k documents).
        order = np.argsort(ids)
        packed = np.concatenate((ids[order], np.frombuffer(result.counts, dtype=np.int32)[order]))
        return packed.astype("<i4", copy=False).tobytes()


def tokenise_corpus(
    corpus: Corpus,
    *,
    hmm: bool = True,
    keep_stopwords: bool = False,
    userdict: str | None = None,
    workers: int | None = None,
    force: bool = False,
    pos: bool = False,
    engine: str | None = None,
    progress: Progress | None = None,
    cache_matrix: bool = True,
) -> TokeniseReport:
    """Tokenise every document whose normalised text or tokeniser settings changed.

    Documents are read in batches (memory stays flat however large the corpus),
    segmented by one pool of worker processes while the previous batch is
    written, and each batch is written in one transaction, so an interrupted run
    keeps the batches it finished and the next run does only the rest.  Where
    documents were tokenised, the term matrix the analyses read is built and
    cached too (``cache_matrix``), so the first analysis is as quick as the next.
    """
    check_userdict(userdict)
    settings = TokeniserSettings(hmm=hmm, keep_stopwords=keep_stopwords,
                                 userdict=str(Path(userdict).resolve()) if userdict else None, pos=pos, engine=engine)
    fingerprint = settings.fingerprint()
    # term_counts is NULL for tokens made before schema version 3: they are made again.
    condition = "1" if force else ("(tokens_norm_hash IS NOT norm_hash OR tokens_settings IS NOT :settings "
                                   "OR term_counts IS NULL)")
    params = {"settings": fingerprint}
    try:
        total = corpus.db.execute(f"SELECT count(*) FROM documents_with_tokens WHERE {condition}", params).fetchone()[0]
    except sqlite3.DatabaseError:
        corpus.check_pages()  # says what is damaged, in the words every writing command uses
        raise
    report = TokeniseReport(documents=corpus.count(), settings=fingerprint)
    workers = max(1, workers or default_workers())
    report.workers = 1 if total < SERIAL_BELOW else min(workers, max(1, total // 8))
    if not total:
        return report  # nothing to write, nor to log
    # Before writing tokens, not before finding nothing to do: the check reads every page
    # (0.9 s at 100,000 documents, where a run with nothing to do takes 0.5 s without it).
    corpus.check_pages()
    terms = TermIds(corpus)

    def batches():
        """(seq, norm_hash, norm_text) of pending documents in ``seq`` order, a batch at a time."""
        query = f"SELECT seq, norm_text, norm_hash FROM documents_with_tokens WHERE seq > :last AND {condition}"
        for rows in pages(corpus.db, query, params, BATCH_DOCUMENTS):
            yield [(row["seq"], row["norm_hash"], row["norm_text"]) for row in rows]

    _init_worker(settings)  # before any fork, so that the workers inherit the loaded dictionary
    for batch, results in map_batches(_tokenise_row, batches(), workers=report.workers,
                                      initializer=_init_worker, initargs=(settings,), chunksize=16):
        new_terms: list[tuple[int, str]] = []
        with corpus.transaction():
            terms.refresh()
            updates = []
            for (seq, norm_hash, _), result in zip(batch, results):
                updates.append((seq, result.tokens, result.tags, result.token_count, terms.pack(result, new_terms),
                                norm_hash, fingerprint))
                report.tokens += result.token_count
            corpus.db.executemany("INSERT INTO terms(id, term) VALUES (?, ?)", new_terms)
            corpus.db.executemany(UPSERT_TOKENS, updates)
            corpus.set_meta("tokenise.settings", fingerprint)
        report.tokenised += len(batch)
        if progress:
            progress(report.tokenised, total)
    with corpus.transaction():
        corpus.set_meta("tokenise.settings", fingerprint)
        corpus.log("tokenise", "info", "; ".join(f"{k}: {v}" for k, v in report.summary()))
    if cache_matrix and report.tokenised:
        from policylex.matrix import build_cache  # numpy and scipy: not for a run with nothing to do

        build_cache(corpus)
    return report
