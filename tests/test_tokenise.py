import pytest

from conftest import SEEDS
from policylex.normalise import normalise
from policylex.tokenise import Tokeniser, TokeniserSettings, tokenise_texts


_DEFAULT = []


def default_tokeniser() -> Tokeniser:
    """One tokenizer for the module: building jieba's dictionary takes a second."""
    if not _DEFAULT:
        _DEFAULT.append(Tokeniser())
    return _DEFAULT[0]


@pytest.fixture
def tokeniser():
    return default_tokeniser()


@pytest.mark.parametrize(
    "term", ["公益诉讼", "认罪认罚从宽", "少捕慎诉慎押", "检察建议", "扫黑除恶", "法律监督", "四个意识", "两个维护", "习近平法治思想"]
)
def test_domain_terms_stay_whole(tokeniser, term):
    assert term in tokeniser.tokens(f"会议要求，更好落实{term}，推动工作。")


def test_punctuation_and_stopwords_removed(tokeniser):
    tokens = tokeniser.tokens("检察机关的工作，要“稳”中求进！")
    assert "的" not in tokens and "，" not in tokens and "“" not in tokens
    assert tokens[:2] == ["检察机关", "工作"]


def test_keep_stopwords():
    kept = Tokeniser(TokeniserSettings(keep_stopwords=True)).tokens("检察机关的工作")
    assert kept == ["检察机关", "的", "工作"]


def test_userdict(tmp_path):
    userdict = tmp_path / "mine.txt"
    userdict.write_text("经略海洋战略 100 n\n", encoding="utf-8")
    text = "服务保障经略海洋战略工作会议"
    assert "经略海洋战略" not in default_tokeniser().tokens(text)
    assert "经略海洋战略" in Tokeniser(TokeniserSettings(userdict=str(userdict))).tokens(text)


def test_workers_give_identical_tokens():
    texts = [normalise(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))] * 4
    serial = list(tokenise_texts(texts, TokeniserSettings(), workers=1))
    parallel = list(tokenise_texts(texts, TokeniserSettings(), workers=2))
    assert serial == parallel and len(serial) == 20
    assert all(tags is None for _, tags in serial)


def test_only_changed_documents_are_tokenised_again(corpus, tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(f"青岛市检察院召开第{i}次会议\n会议强调，要做优四大检察。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    assert corpus.tokenise(workers=1).tokenised == 3
    assert corpus.tokenise(workers=1).tokenised == 0
    (tmp_path / "1.txt").write_text("青岛市检察院召开会议\n会议强调，要落实少捕慎诉慎押。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    report = corpus.tokenise(workers=1)
    assert report.tokenised == 1
    tokens = corpus.db.execute("SELECT tokens FROM documents_with_tokens WHERE name = '1'").fetchone()[0].split()
    assert "少捕慎诉慎押" in tokens
    assert corpus.tokenise(workers=1, keep_stopwords=True).tokenised == 3  # settings changed


def test_corpus_tokens_are_stored_with_counts(seeds_corpus):
    for row in seeds_corpus.db.execute("SELECT tokens, token_count, tokens_norm_hash, norm_hash FROM documents_with_tokens"):
        assert len(row["tokens"].split()) == row["token_count"] > 100
        assert row["tokens_norm_hash"] == row["norm_hash"]


def test_pos_tags_are_stored_and_filter_freq(corpus, tmp_path):
    from policylex.errors import UsageError
    from policylex.measures import frequency

    (tmp_path / "a.txt").write_text("湛江市检察院召开会议\n会议要求，更好落实少捕慎诉慎押刑事司法政策。", encoding="utf-8")
    corpus.ingest([str(tmp_path / "a.txt")])
    corpus.tokenise(workers=1)
    with pytest.raises(UsageError, match="tokenise --pos"):
        frequency(corpus, pos=["n"])
    corpus.tokenise(workers=1, pos=True)
    row = corpus.db.execute("SELECT tokens, pos FROM documents_with_tokens").fetchone()
    pairs = dict(zip(row["tokens"].split(), row["pos"].split()))
    assert pairs["湛江市"] == "ns" and pairs["召开"] == "v" and pairs["少捕慎诉慎押"] == "l"
    nouns = {r["term"] for r in frequency(corpus, pos=["n"], top=None).records()}
    assert "湛江市" in nouns and "会议" in nouns and "召开" not in nouns
    verbs = {r["term"] for r in frequency(corpus, pos=["v"], top=None).records()}
    assert verbs == {t for t, tag in pairs.items() if tag.startswith("v")}


@pytest.mark.parametrize("engine", ["jieba", "rjieba"])
def test_short_formulations_of_the_lexicon_stay_whole_in_every_engine(engine):
    from policylex.lexicon import protected_words

    tokeniser = Tokeniser(TokeniserSettings(engine=engine))
    # none of these is in the domain dictionary, and plain jieba splits each
    tokens = tokeniser.tokens("开展两学一做，坚持三严三实，发挥头雁效应，坚持守正创新，锤炼严紧硬作风")
    assert {"两学一做", "三严三实", "头雁效应", "守正创新", "严紧硬"} <= set(tokens)
    # formulations with trap guards are left to the segmenter, so 第三农场 keeps its words
    assert "三农" not in protected_words() and "三农" not in tokeniser.tokens("第三农场的职工")


def test_workers_write_the_same_corpus(tmp_path):
    """Workers number terms by themselves; the corpus must not show it: same term ids, same counts."""
    from synthetic import corpora_by_workers

    stored = {}
    for workers, corpus in corpora_by_workers(tmp_path):
        report = corpus.tokenise(workers=workers)
        assert report.workers == workers
        stored[workers] = (
            corpus.db.execute("SELECT id, term FROM terms ORDER BY id").fetchall(),
            corpus.db.execute("SELECT name, tokens, token_count, term_counts FROM documents_with_tokens ORDER BY name").fetchall(),
        )
    (terms, documents), (terms_2, documents_2) = ([[tuple(row) for row in rows] for rows in stored[w]] for w in (1, 2))
    assert len(terms) > 1000 and len(documents) > 250  # exact copies are one document
    assert terms == terms_2 and documents == documents_2


def test_tokenise_leaves_the_term_matrix_built_for_the_first_analysis(corpus, tmp_path, monkeypatch):
    from policylex import matrix

    corpus.ingest([str(SEEDS)])
    corpus.tokenise(workers=1)
    built = []
    monkeypatch.setattr(matrix, "build_terms", lambda c: built.append(c) or pytest.fail("built again"))
    first = matrix.term_matrix(corpus)  # from the cache tokenise left
    assert built == [] and first.shape[0] == corpus.count(include_duplicates=False)
    monkeypatch.undo()
    # nothing tokenised, nothing built: a run with nothing to do stays quick
    calls = []
    monkeypatch.setattr(matrix, "build_cache", lambda c: calls.append(c))
    assert corpus.tokenise(workers=1).tokenised == 0 and calls == []
    assert corpus.tokenise(workers=1, force=True).tokenised == 5 and len(calls) == 1


def test_stored_term_counts_are_by_term_id_and_add_up_to_the_tokens(seeds_corpus):
    """Each document's term ids ascending (the matrix's rows need no sorting), their counts the tokens'."""
    from collections import Counter

    import numpy as np

    seeds_corpus.tokenise(workers=1)
    terms = dict(seeds_corpus.db.execute("SELECT id, term FROM terms").fetchall())
    rows = seeds_corpus.db.execute("SELECT tokens, term_counts FROM document_tokens").fetchall()
    assert len(rows) == 5
    for tokens, blob in rows:
        packed = np.frombuffer(blob, dtype="<i4")
        ids, counts = packed[: packed.size // 2], packed[packed.size // 2 :]
        assert (np.diff(ids) > 0).all()
        assert {terms[i]: n for i, n in zip(ids.tolist(), counts.tolist())} == Counter(tokens.split())
