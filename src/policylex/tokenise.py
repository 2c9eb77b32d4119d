"""Word segmentation with jieba, a domain dictionary, stopwords and punctuation removal.

The bundled ``data/domain_dict.txt`` keeps procuratorial, legal and political terms
whole (公益诉讼, 少捕慎诉慎押, 认罪认罚从宽); ``--userdict`` adds the user's own.
Tokens are stored space-separated.  The settings are fingerprinted, so a
document is re-tokenised only when its normalised text or the settings change.
Output is the same whatever the number of worker processes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from policylex.errors import UsageError
from policylex.processes import worker_pool
from policylex.store import Corpus, json_dumps

Progress = Callable[[int, int], None]
BATCH_DOCUMENTS = 512
SERIAL_BELOW = 64  # fewer documents than this are not worth starting processes for


def _data_path(name: str) -> Path:
    return Path(str(resources.files("policylex").joinpath("data", name)))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = _data_path("stopwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class TokeniserSettings:
    hmm: bool = True
    keep_stopwords: bool = False
    userdict: str | None = None
    pos: bool = False  # tag parts of speech (jieba.posseg, whose segmentation differs slightly)

    def fingerprint(self) -> str:
        """What the tokens depend on, recorded with every document and in the corpus."""
        from importlib.metadata import version

        return json_dumps({
            "engine": f"jieba {version('jieba')}" + (" posseg" if self.pos else ""),
            "hmm": self.hmm,
            "stopwords": "kept" if self.keep_stopwords else f"removed ({_file_digest(_data_path('stopwords.txt'))})",
            "domain_dict": _file_digest(_data_path("domain_dict.txt")),
            "userdict": _file_digest(Path(self.userdict)) if self.userdict else None,
        })


class Tokeniser:
    """A jieba tokenizer with the domain and user dictionaries loaded."""

    def __init__(self, settings: TokeniserSettings = TokeniserSettings()):
        import jieba  # deferred: loading the dictionary takes most of a second

        jieba.setLogLevel(logging.WARNING)
        self.settings = settings
        self._jieba = jieba.Tokenizer()
        self._jieba.load_userdict(str(_data_path("domain_dict.txt")))
        if settings.userdict:
            self._jieba.load_userdict(settings.userdict)
        self._stop = frozenset() if settings.keep_stopwords else stopwords()
        if settings.pos:
            from jieba.posseg import POSTokenizer

            self._tagger = POSTokenizer(self._jieba)

    def tagged(self, text: str) -> list[tuple[str, str | None]]:
        """(token, part of speech or None) in order, without white space, punctuation or stopwords."""
        result = []
        for line in text.split("\n"):
            if self.settings.pos:
                pairs = ((p.word, p.flag) for p in self._tagger.lcut(line, HMM=self.settings.hmm))
            else:
                pairs = ((w, None) for w in self._jieba.lcut(line, HMM=self.settings.hmm))
            result.extend((w, tag) for w, tag in pairs if w not in self._stop and _is_word(w))
        return result

    def tokens(self, text: str) -> list[str]:
        """Tokens of one text, in order, without white space, punctuation or stopwords."""
        return [token for token, _ in self.tagged(text)]


def _is_word(token: str) -> bool:
    """Anything with at least one letter or digit: punctuation, symbols and spaces are not words."""
    return any(unicodedata.category(c)[0] in "LN" for c in token)


def check_userdict(path: str | None) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--userdict {path}: no such file")
    try:
        p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--userdict {path}: not UTF-8 text") from None


# --- parallel tokenising --------------------------------------------------------

_worker: Tokeniser | None = None


@lru_cache(maxsize=4)
def _cached_tokeniser(settings: TokeniserSettings, fingerprint: str) -> Tokeniser:
    return Tokeniser(settings)


def _init_worker(settings: TokeniserSettings) -> None:
    """Build (or reuse, within one process) the tokenizer: jieba's dictionary takes a second to load."""
    global _worker
    _worker = _cached_tokeniser(settings, settings.fingerprint())


def _tokenise_one(text: str) -> tuple[str, str | None]:
    assert _worker is not None
    pairs = _worker.tagged(text)
    tags = " ".join(tag for _, tag in pairs) if _worker.settings.pos else None
    return " ".join(token for token, _ in pairs), tags


def tokenise_texts(texts: Iterable[str], settings: TokeniserSettings,
                   workers: int = 1) -> Iterable[tuple[str, str | None]]:
    """(space-joined tokens, space-joined tags or None) per text, in input order, with ``workers`` processes."""
    if workers <= 1:
        _init_worker(settings)
        yield from map(_tokenise_one, texts)
        return
    with worker_pool(workers, _init_worker, (settings,)) as pool:
        yield from pool.imap(_tokenise_one, texts, chunksize=8)


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


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def tokenise_corpus(
    corpus: Corpus,
    *,
    hmm: bool = True,
    keep_stopwords: bool = False,
    userdict: str | None = None,
    workers: int | None = None,
    force: bool = False,
    pos: bool = False,
    progress: Progress | None = None,
) -> TokeniseReport:
    """Tokenise every document whose normalised text or tokeniser settings changed.

    Each batch of documents is written in one transaction, so an interrupted run
    keeps the batches it finished and the next run does only the rest.
    """
    check_userdict(userdict)
    settings = TokeniserSettings(hmm=hmm, keep_stopwords=keep_stopwords,
                                 userdict=str(Path(userdict).resolve()) if userdict else None, pos=pos)
    fingerprint = settings.fingerprint()
    where = "" if force else " WHERE tokens_norm_hash IS NOT norm_hash OR tokens_settings IS NOT ?"
    params = () if force else (fingerprint,)
    pending = [row[0] for row in corpus.db.execute(f"SELECT id FROM documents{where} ORDER BY seq", params)]
    report = TokeniseReport(documents=corpus.count(), settings=fingerprint)
    workers = max(1, workers or default_workers())
    report.workers = 1 if len(pending) < SERIAL_BELOW else min(workers, max(1, len(pending) // 8))
    done = 0
    for start in range(0, len(pending), BATCH_DOCUMENTS):
        chunk = pending[start : start + BATCH_DOCUMENTS]
        marks = ",".join("?" * len(chunk))
        rows = corpus.db.execute(f"SELECT id, norm_text, norm_hash FROM documents WHERE id IN ({marks})", chunk).fetchall()
        tokens = list(tokenise_texts((row["norm_text"] for row in rows), settings, report.workers))
        with corpus.transaction():
            for row, (joined, tags) in zip(rows, tokens):
                count = len(joined.split()) if joined else 0
                corpus.db.execute(
                    "UPDATE documents SET tokens = ?, pos = ?, token_count = ?, tokens_norm_hash = ?, "
                    "tokens_settings = ? WHERE id = ?", (joined, tags, count, row["norm_hash"], fingerprint, row["id"]))
                report.tokens += count
            corpus.set_meta("tokenise.settings", fingerprint)
        done += len(chunk)
        report.tokenised = done
        if progress:
            progress(done, len(pending))
    with corpus.transaction():
        corpus.set_meta("tokenise.settings", fingerprint)
        corpus.log("tokenise", "info", "; ".join(f"{k}: {v}" for k, v in report.summary()))
    return report
