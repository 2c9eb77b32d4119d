from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policylex import Corpus

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def corpus(tmp_path) -> Corpus:
    with Corpus.open(tmp_path / "corpus.db", create=True) as store:
        yield store


@pytest.fixture(scope="session")
def _seeds_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeds") / "seeds.db"
    with Corpus.open(path, create=True) as store:
        store.ingest([str(SEEDS)])
        store.tokenise(workers=1)
    return path


@pytest.fixture
def seeds_corpus(_seeds_db, tmp_path) -> Corpus:
    """The five seeds, ingested and tokenised once per session; each test gets its own copy."""
    path = tmp_path / "seeds.db"
    with Corpus.open(_seeds_db) as source:
        source.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(_seeds_db, path)
    with Corpus.open(path) as store:
        yield store


@pytest.fixture
def regional(corpus, tmp_path):
    """Four short articles from two provinces and two years, one undated; tokens known exactly (test_trends)."""
    texts = {
        "ln2020.txt": "沈阳市检察院召开会议\n发布时间：2020-05-01\n检察机关、公益诉讼、公益诉讼。",
        "ln2021.txt": "大连市检察院召开会议\n发布时间：2021-05-01\n公益诉讼、扫黑除恶。",
        "gd2021.txt": "广州市检察院召开会议\n发布时间：2021-06-01\n扫黑除恶、扫黑除恶、检察机关。",
        "nodate.txt": "湛江市检察院召开会议\n检察机关。",
    }
    folder = tmp_path / "regional"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    corpus.ingest([str(folder)])
    corpus.tokenise(workers=1)
    return corpus


def seed_doc(corpus: Corpus, number: str):
    return corpus.db.execute("SELECT * FROM documents WHERE name LIKE ?", (f"{number}_%",)).fetchone()


def ingest_texts(corpus: Corpus, folder: Path, texts: dict[str, str]) -> Corpus:
    """Write each text to ``folder/name`` and ingest them all, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    corpus.ingest([str(folder / name) for name in texts])
    return corpus
