"""Laws, as hypothesis property tests: what holds for every input, not only the fixtures.

- normalise is idempotent and never raises, on any Unicode string (lone surrogates,
  control characters, every script) and in every script variant;
- tokenise never raises, and its tokens, in order, are a subsequence of the normalised text;
- date and region extraction never raise, and give a real calendar date or a place of
  the official division list, or nothing;
- the counts of freq sum to the token total of info, overall and per group;
- storage helpers: a path is stored as one UTF-8 text per path; MinHash in blocks
  equals MinHash at once.
"""

from __future__ import annotations

import calendar
import os
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import SEEDS
from policylex import Corpus, dedup
from policylex.dates import MAX_YEAR, MIN_YEAR, parse_date
from policylex.metadata import Metadata, extract
from policylex.normalise import VARIANTS, normalise
from policylex.places import NATIONAL_PLACE, gazetteer, resolve_name, resolve_region
from policylex.readers import path_text
from policylex.tokenise import Tokeniser, TokeniserSettings

# Every code point, lone surrogates and unassigned ones included: Python strings can hold them
# (a file name's undecodable bytes come back as surrogates).
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=200)

# Text that looks like the corpus: Chinese, both scripts, converter pinyin, page furniture, dates, places.
PIECES = ["檢察", "检察", "會(huì)議", "来源：", "发布时间：", "今天是", "分享到", "(一)", "（二）", "年", "月", "日",
          "二〇二一", "十", "三十一", "2023", "-", "/", ".", "08", "2", "29", "30", "青岛市", "遼寧", "省人民检察院",
          "最高检", "朝阳区", "\n", " ", "　", "，", "。", "Ａ", "１", "標題標題", "少捕慎诉慎押", "公益诉讼"]
chinese_like = st.lists(st.one_of(st.sampled_from(PIECES), st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)),
                        max_size=60).map("".join)
texts = st.one_of(any_text, chinese_like)

_TOKENISERS: dict[TokeniserSettings, Tokeniser] = {}


def tokeniser(options: TokeniserSettings) -> Tokeniser:
    """One per setting for the module: jieba's dictionary takes a second to load."""
    if options not in _TOKENISERS:
        _TOKENISERS[options] = Tokeniser(options)
    return _TOKENISERS[options]


# --- normalise -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(VARIANTS))
def test_normalise_never_raises_and_is_idempotent(text, variant):
    once = normalise(text, variant)
    assert isinstance(once, str)
    assert normalise(once, variant) == once


# --- tokenise --------------------------------------------------------------------------------


def is_subsequence(tokens: list[str], text: str) -> bool:
    position = 0
    for token in tokens:
        found = text.find(token, position)
        if found < 0:
            return False
        position = found + len(token)
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.sampled_from([TokeniserSettings(), TokeniserSettings(keep_stopwords=True, hmm=False),
                               TokeniserSettings(pos=True)]))
def test_tokens_are_a_subsequence_of_the_normalised_text(text, options):
    norm = normalise(text)
    pairs = tokeniser(options).tagged(norm)
    tokens = [token for token, _ in pairs]
    assert all(token and not any(c.isspace() for c in token) for token in tokens)  # storable space-separated
    assert is_subsequence(tokens, norm)
    assert all((tag is not None) == options.pos for _, tag in pairs)
    assert all(tag is None or (tag and " " not in tag) for _, tag in pairs)


# --- dates and regions -----------------------------------------------------------------------


def assert_real_date(date) -> None:
    assert date.month is None or 1 <= date.month <= 12
    if date.year is not None:
        assert MIN_YEAR <= date.year <= MAX_YEAR
    if date.day is not None:
        assert date.month is not None
        assert 1 <= date.day <= calendar.monthrange(date.year or 2000, date.month)[1]
    else:
        assert date.year is not None  # a date is never a bare month
    assert date.iso()


@settings(max_examples=400, deadline=None)
@given(texts)
def test_date_extraction_gives_a_real_date_or_none(text):
    for date in (parse_date(text), extract(text).date):
        if date is not None:
            assert_real_date(date)
    meta = extract(text)
    assert meta.year == (meta.date.year if meta.date else None)


def assert_official_place(place) -> None:
    places = [NATIONAL_PLACE, *gazetteer().by_form.values(), *(p for ps in gazetteer().shared.values() for p in ps)]
    known = {(p.province, p.province_code, p.city, p.city_code) for p in places}
    assert (place.province, place.province_code, place.city, place.city_code) in known
    assert place.province_code and len(place.province_code) == 6 and place.province_code.isdigit()
    assert place.city_code is None or (len(place.city_code) == 6 and place.city_code.isdigit())


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_region_extraction_gives_an_official_place_or_none(title, lead):
    for place in (resolve_region(title, lead), resolve_name(title)):
        if place is not None:
            assert_official_place(place)
    meta = extract(f"{title}\n{lead}")
    if meta.province_code is not None:
        assert_official_place(resolve_name(meta.city or meta.province))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["date", "province", "city", "region", "title", "source", "url", "other"]),
                       st.one_of(st.none(), texts), max_size=5))
def test_stated_metadata_never_raises(values):
    meta = Metadata().override(values, "csv")
    if meta.date is not None:
        assert_real_date(meta.date)


# --- freq against info -----------------------------------------------------------------------

SEED_LINES = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text(encoding="utf-8").splitlines()
              if len(line.strip()) > 8]
articles = st.lists(st.lists(st.one_of(st.sampled_from(SEED_LINES), chinese_like), min_size=1, max_size=6)
                    .map("\n".join), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles, st.booleans())
def test_freq_counts_sum_to_the_token_total_of_info(texts_, keep_stopwords):
    from policylex.measures import frequency
    from policylex.overview import corpus_info

    with tempfile.TemporaryDirectory() as folder:
        for i, text in enumerate(texts_):
            Path(folder, f"{i}.txt").write_text(text, encoding="utf-8")
        with Corpus.open(Path(folder, "c.db"), create=True) as corpus:
            report = corpus.ingest([folder])
            assume(corpus.count() > 0)
            corpus.tokenise(workers=1, keep_stopwords=keep_stopwords)
            info = dict(corpus_info(corpus).rows)
            assume(info["tokens"] > 0)
            total = sum(r["count"] for r in frequency(corpus, top=None).records())
            by_year = sum(r["count"] for r in frequency(corpus, top=None, by="year").records())
            by_doc = sum(r["count"] for r in frequency(corpus, top=None, by="doc").records())
            assert total == by_year == by_doc == info["tokens"]
            assert len(report.skipped) + corpus.db.execute("SELECT count(*) FROM sources").fetchone()[0] == len(texts_)


# --- storage helpers -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\x00" not in b),
       st.binary(min_size=1, max_size=12).filter(lambda b: b"/" not in b and b"\x00" not in b))
def test_a_path_is_one_utf8_text_per_path(a, b):
    name_a, name_b = path_text(os.fsdecode(a)), path_text(os.fsdecode(b))
    name_a.encode("utf-8")  # SQLite stores it
    assert (name_a == name_b) == (a == b)


@settings(max_examples=100, deadline=None)
@given(chinese_like, st.integers(min_value=1, max_value=40))
def test_minhash_in_blocks_equals_minhash_at_once(text, block):
    values = dedup.shingles(text)
    assume(values.size > 0)
    at_once = ((values[None, :] * dedup._A[:, None] + dedup._B[:, None]).min(axis=1) >> np.uint64(32)).astype(np.uint32)
    saved = dedup.SIGNATURE_BLOCK
    dedup.SIGNATURE_BLOCK = block
    try:
        assert np.array_equal(dedup.signature(text), at_once)
    finally:
        dedup.SIGNATURE_BLOCK = saved


# --- readers ---------------------------------------------------------------------------------

FIXTURE_FILES = sorted(p for p in (Path(__file__).parent / "fixtures").rglob("*") if p.is_file() and p.suffix != ".md")


@st.composite
def damaged_files(draw):
    """A fixture with bytes changed, inserted, deleted or cut off, under its own suffix."""
    path = draw(st.sampled_from(FIXTURE_FILES))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(0, 12))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if kind == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "cut":
            del data[at:]
    return path.suffix, bytes(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_files())
def test_readers_never_raise_on_damaged_files(damaged):
    """Whatever the bytes, a reader yields articles or reasons: one bad file never sinks a batch."""
    from policylex.readers import Skipped, SourceText, read_path

    suffix, data = damaged
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "damaged" + suffix)
        path.write_bytes(data)
        for item in read_path(path):
            assert isinstance(item, (SourceText, Skipped))
            if isinstance(item, SourceText):
                item.text.encode("utf-8")  # storable
                assert item.text.strip()


# --- the matrix's sums -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 12), st.integers(1, 9), st.data())
def test_sums_over_any_rows_are_the_rows_counts_added_up(n_docs, n_features, data):
    """Counts.sums takes a minority of rows by themselves and a majority by a product: both add up the same."""
    import scipy.sparse as sp

    from policylex.matrix import Counts

    dense = np.array(data.draw(st.lists(st.lists(st.integers(0, 5), min_size=n_features, max_size=n_features),
                                        min_size=n_docs, max_size=n_docs)), dtype=np.int32)
    selected = np.array(data.draw(st.lists(st.booleans(), min_size=n_docs, max_size=n_docs)))
    counts = Counts(sp.csr_matrix(dense), np.array([f"t{j}" for j in range(n_features)]), {},
                    np.ones(n_docs, dtype=bool))
    totals, docfreq = counts.sums(selected)
    assert totals.tolist() == dense[selected].sum(axis=0).tolist()
    assert docfreq.tolist() == (dense[selected] > 0).sum(axis=0).tolist()


def _brute_similar(signatures: dict[int, np.ndarray], seq: int, sig: np.ndarray) -> list[int]:
    """What the band index must answer, by comparing with every stored signature."""
    bands = sig.reshape(dedup.BANDS, dedup.ROWS)
    return [other for other, theirs in sorted(signatures.items()) if other != seq
            and (theirs.reshape(dedup.BANDS, dedup.ROWS) == bands).all(axis=1).any()
            and (theirs == sig).mean() > dedup.MIN_AGREEMENT]


_signature_values = st.lists(st.integers(0, 2), min_size=dedup.PERMUTATIONS, max_size=dedup.PERMUTATIONS).map(
    lambda values: np.array(values, dtype=np.uint32))  # three values: bands often collide


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5), st.lists(st.tuples(st.sampled_from(["add", "remove", "reload"]), st.integers(1, 12),
                                             _signature_values), max_size=40))
def test_the_band_index_finds_what_comparing_every_signature_finds(stored, operations):
    """Whatever was loaded, added, removed, re-added or folded, in any order."""
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE signatures (seq INTEGER PRIMARY KEY, minhash BLOB NOT NULL)")
    rng = np.random.default_rng(stored)
    signatures = {seq: rng.integers(0, 3, dedup.PERMUTATIONS).astype(np.uint32) for seq in range(1, stored + 1)}
    db.executemany("INSERT INTO signatures VALUES (?, ?)", [(seq, sig.tobytes()) for seq, sig in signatures.items()])
    index = dedup.BandIndex(db)
    index.FOLD_AT = 3  # fold often
    index.sync()
    for operation, seq, sig in operations:
        if operation == "reload":
            index._loaded = False
        elif seq in signatures:
            index.remove(seq)
            del signatures[seq]
        if operation == "add":
            index.add(seq, sig)
            signatures[seq] = sig
        assert index.similar(seq, sig) == _brute_similar(signatures, seq, sig)
    stored_now = {seq: np.frombuffer(blob, dtype=np.uint32) for seq, blob in db.execute("SELECT * FROM signatures")}
    assert stored_now.keys() == signatures.keys()
