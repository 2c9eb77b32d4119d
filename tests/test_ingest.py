"""The ingest pipeline against a real corpus file."""

import shutil

import pytest

from conftest import FIXTURES, SEEDS, ingest_texts
from policylex import dedup
from policylex.errors import UsageError
from policylex.overview import document_table


def names(corpus, where="1"):
    return [r[0] for r in corpus.db.execute(f"SELECT name FROM documents_with_tokens WHERE {where} ORDER BY seq")]


def test_reingesting_the_same_files_adds_nothing(corpus):
    first = corpus.ingest([str(SEEDS)])
    assert (first.added, first.unchanged) == (5, 0)
    before = corpus.db.execute("SELECT id, updated_at FROM documents_with_tokens ORDER BY seq").fetchall()
    again = corpus.ingest([str(SEEDS)])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert corpus.db.execute("SELECT id, updated_at FROM documents_with_tokens ORDER BY seq").fetchall() == before


def test_a_changed_file_updates_its_document(corpus, tmp_path):
    path = tmp_path / "article.txt"
    path.write_text("青岛市检察院召开会议\n发布时间：2023-08-08\n会议强调，要依法能动履职。", encoding="utf-8")
    corpus.ingest([str(path)])
    (doc_id,) = [r[0] for r in corpus.db.execute("SELECT id FROM documents_with_tokens")]
    path.write_text("青岛市检察院召开会议\n发布时间：2023-08-09\n会议强调，要依法能动履职，做优四大检察。", encoding="utf-8")
    report = corpus.ingest([str(path)])
    assert (report.added, report.updated) == (0, 1)
    row = corpus.db.execute("SELECT id, date, norm_text FROM documents_with_tokens").fetchone()
    assert row["id"] == doc_id and row["date"] == "2023-08-09" and "四大检察" in row["norm_text"]
    assert corpus.count() == 1


def test_exact_duplicates_are_one_document_with_several_sources(corpus):
    report = corpus.ingest([str(FIXTURES / "dedup")])
    # exact_copy (CRLF) and repost (header and footer that normalisation removes) match original
    assert report.duplicates == 2
    assert corpus.db.execute("SELECT count(*) FROM sources").fetchone()[0] == 5
    assert corpus.count() == 3
    paths = [r[0].rsplit("/", 1)[-1] for r in corpus.db.execute(
        "SELECT path FROM sources WHERE doc_id = (SELECT doc_id FROM sources WHERE path LIKE '%original.txt')")]
    assert sorted(paths) == ["exact_copy.txt", "original.txt", "repost.txt"]


def test_near_duplicate_is_flagged_and_left_out(corpus):
    corpus.ingest([str(FIXTURES / "dedup")])
    flagged = corpus.db.execute(
        "SELECT d.name, o.name AS of, d.near_duplicate_score FROM documents_with_tokens d JOIN documents o "
        "ON o.id = d.near_duplicate_of").fetchall()
    assert [(r["name"], r["of"]) for r in flagged] == [("repost_with_note", "exact_copy")]
    assert flagged[0]["near_duplicate_score"] >= 0.85
    assert names(corpus, "duplicate_of IS NULL AND near_duplicate_of IS NULL") == ["different", "exact_copy"]
    assert corpus.count(include_duplicates=False) == 2


def test_near_duplicate_found_whichever_comes_first(corpus):
    corpus.ingest([str(FIXTURES / "dedup" / "repost_with_note.txt")])
    corpus.ingest([str(FIXTURES / "dedup" / "original.txt"), str(FIXTURES / "dedup" / "different.txt")])
    flagged = corpus.db.execute("SELECT name FROM documents_with_tokens WHERE near_duplicate_of IS NOT NULL").fetchall()
    assert [r[0] for r in flagged] == ["original"]  # the later of the two


def test_removing_a_twin_by_changing_it_clears_the_flag(corpus, tmp_path):
    for name in ("original.txt", "repost_with_note.txt"):
        shutil.copy(FIXTURES / "dedup" / name, tmp_path / name)
    corpus.ingest([str(tmp_path)])
    assert corpus.count(include_duplicates=False) == 1
    (tmp_path / "repost_with_note.txt").write_text("丹东市检察院召开会议\n会议强调，完全不同的一篇文章。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    assert corpus.count(include_duplicates=False) == 2


def test_metadata_from_every_fixture_format(corpus):
    report = corpus.ingest([str(FIXTURES / d) for d in ("encodings", "html", "tables", "pinyin")])
    rows = {r["name"]: r for r in corpus.db.execute("SELECT * FROM documents_with_tokens")}
    expect = {
        "utf8": ("2021-06-15", "浙江省", "杭州市", "杭州市人民检察院"),
        "utf8_bom_crlf": ("2022-03-01", "四川省", "成都市", "成都市人民检察院"),
        "utf16": ("2020-11-20", "湖北省", "武汉市", "武汉市人民检察院"),
        "gb18030": ("2019-12-03", "江苏省", "南京市", "南京市人民检察院"),
        "gbk_traditional": ("2023-04-07", "广东省", "广州市", "广州市人民检察院"),
        "big5": ("2020-09-09", "福建省", "福州市", "福州市人民检察院"),
        "article": ("2022-07-18", "辽宁省", "沈阳市", "沈阳市人民检察院"),
        "gbk_page": ("2021-05-20", "福建省", "厦门市", "厦门市人民检察院"),
        "converter_artefacts": ("2023-09-12", "辽宁省", "大连市", "大连市人民检察院"),
        "export.csv#1": ("2021-02-25", "河南省", "郑州市", "郑州市人民检察院"),
        "export.csv#2": ("2021-03-05", "湖南省", "长沙市", "长沙市人民检察院"),
        "export.csv#3": ("2021-04-01", "云南省", "昆明市", "昆明市人民检察院"),
        "export.csv#4": ("2021-05-06", "河北省", "石家庄市", "石家庄市人民检察院"),
        "records.json#1": ("2022-06-02", "黑龙江省", "哈尔滨市", None),
        "ragged.csv#3": ("2021-03-03", "贵州省", "贵阳市", None),
    }
    for name, values in expect.items():
        row = rows[name]
        assert (row["date"], row["province"], row["city"], row["source"]) == values, name
    assert rows["converter_artefacts"]["title"] == "大连市检察院召开党组(扩大)会议传达学习全国检察长座谈会精神"
    assert rows["export.tsv#1"]["city"] == "南昌市" and rows["export.jsonl#4"]["city"] == "西宁市"
    skipped = sorted((s.path.rsplit("/", 1)[-1], s.line) for s in report.skipped)
    assert skipped == [("export.jsonl", 3), ("meta.csv", None), ("missing_text_column.csv", None),
                       ("no_body.html", None), ("not_records.json", None), ("ragged.csv", 5)]


def test_sidecar_overrides_win_and_empty_cells_do_not_blank(corpus):
    corpus.ingest([str(FIXTURES / "encodings" / "utf8.txt")], meta=FIXTURES / "tables" / "meta.csv")
    row = corpus.db.execute("SELECT * FROM documents_with_tokens").fetchone()
    assert (row["date"], row["year"], row["source"]) == ("2021-06-16", 2021, "浙江检察")
    assert (row["province"], row["city"]) == ("浙江省", "杭州市")
    assert row["title"] == "杭州市检察院召开全市检察机关公益诉讼工作推进会"
    import json
    origin = json.loads(row["meta_origin"])
    assert origin["date"] == "sidecar" and origin["province"] == "text"


def test_sidecar_region_and_changed_sidecar_reapplies(corpus, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("检察机关召开会议\n会议强调，要依法能动履职。", encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,province\na.txt,遼寧\n", encoding="utf-8")
    corpus.ingest([str(article)], meta=meta)
    assert corpus.db.execute("SELECT province FROM documents_with_tokens").fetchone()[0] == "辽宁省"
    meta.write_text("file,city\na.txt,丹东市\n", encoding="utf-8")
    report = corpus.ingest([str(article)], meta=meta)
    assert report.updated == 1
    assert tuple(corpus.db.execute("SELECT province, city, city_code FROM documents_with_tokens").fetchone()) == (
        "辽宁省", "丹东市", "210600")


def test_bad_files_leave_the_corpus_unchanged_and_are_logged(corpus):
    corpus.ingest([str(SEEDS)])
    before = corpus.db.execute("SELECT id, norm_hash FROM documents_with_tokens ORDER BY seq").fetchall()
    report = corpus.ingest([str(FIXTURES / "bad")])
    # truncated_utf8.txt and cut_character.txt are readable, and so are two rows of ragged_row.csv and two
    # records of mixed_records.json
    assert (report.added, report.near_duplicates) == (6, 0)
    assert [r.path.rsplit("/", 1)[-1] for r in report.repaired] == ["cut_character.txt"]
    assert len(report.skipped) == 8
    assert corpus.db.execute("SELECT id, norm_hash FROM documents_with_tokens ORDER BY seq LIMIT 5").fetchall() == before
    logged = corpus.db.execute("SELECT path, message FROM log WHERE level = 'skipped' ORDER BY path").fetchall()
    assert [(r[0].rsplit("/", 1)[-1]) for r in logged] == ["binary.txt", "empty.txt", "image.txt"] + [
        "mixed_records.json"] * 3 + ["ragged_row.csv", "undecodable.txt"]


def test_interrupted_ingest_keeps_finished_batches_only(corpus, monkeypatch):
    import policylex.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "BATCH_FILES", 2)

    def interrupt(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        corpus.ingest([str(SEEDS)], progress=interrupt)
    assert corpus.count() == 2  # the first batch of two; the third file's batch rolled back
    assert corpus.db.execute("SELECT count(*) FROM sources").fetchone()[0] == 2
    report = corpus.ingest([str(SEEDS)])
    assert (report.added, report.unchanged) == (3, 2)
    assert corpus.count() == 5


def test_no_input_files_is_a_usage_error(corpus, tmp_path):
    with pytest.raises(UsageError):
        corpus.ingest([str(tmp_path)])


def test_renormalise_with_another_variant_and_back(corpus):
    corpus.ingest([str(SEEDS)])
    corpus.tokenise(workers=1)
    report = corpus.normalise(variant="none")
    assert report.changed == 3  # the three traditional-script seeds
    assert "檢察" in corpus.db.execute("SELECT norm_text FROM documents_with_tokens WHERE name LIKE '000%'").fetchone()[0]
    assert corpus.get_meta("normalise.variant") == "none"
    pending = corpus.db.execute("SELECT count(*) FROM documents_with_tokens WHERE tokens_norm_hash IS NOT norm_hash").fetchone()[0]
    assert pending == 3
    corpus.normalise(variant="t2s")
    # back to the text the tokens were made from: nothing to tokenise again
    assert corpus.tokenise(workers=1).tokenised == 0


def test_documents_table(corpus):
    corpus.ingest([str(SEEDS)])
    table = document_table(corpus)
    rows = list(table.records())
    assert [r["name"][:3] for r in rows] == ["000", "001", "002", "003", "004"]
    assert rows[0]["path"].endswith("seeds/000_3043bcc22da62dc9.txt")


def _script_twins(corpus, tmp_path, names=("a", "b")):
    """Files that differ only in script: distinct documents under --variant none, one text under t2s."""
    corpus.normalise(variant="none")
    texts = ["青島市檢察院召開會議\n會議強調，要做優四大檢察。", "青岛市检察院召开会议\n会议强调，要做优四大检察。",
             "青島市检察院召开會議\n会议强调，要做優四大检察。"]
    for name, text in zip(names, texts):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    corpus.normalise(variant="t2s")
    return {r[0]: r[1] for r in corpus.db.execute("SELECT name, duplicate_of FROM documents_with_tokens")}


def test_changing_the_original_of_exact_duplicates_frees_them(corpus, tmp_path):
    from policylex.check import check_corpus, passed

    flags = _script_twins(corpus, tmp_path, ("a", "b", "c"))
    assert flags["a"] is None and flags["b"] and flags["b"] == flags["c"]
    (tmp_path / "a.txt").write_text("青島市檢察院召開會議\n會議強調，要落實少捕慎訴慎押。", encoding="utf-8")
    report = corpus.ingest([str(tmp_path)])
    assert report.updated == 1
    flags = {r[0]: r[1] for r in corpus.db.execute("SELECT name, duplicate_of FROM documents_with_tokens")}
    b_id = corpus.db.execute("SELECT id FROM documents_with_tokens WHERE name = 'b'").fetchone()[0]
    # b was a duplicate of a's old text: it is counted now, and c is a duplicate of b
    assert flags == {"a": None, "b": None, "c": b_id}
    assert corpus.count(include_duplicates=False) == 2
    assert passed(check_corpus(corpus))


def test_a_duplicate_whose_text_changes_is_no_longer_a_duplicate(corpus, tmp_path):
    from policylex.check import check_corpus, passed

    flags = _script_twins(corpus, tmp_path)
    assert flags["b"] is not None
    (tmp_path / "b.txt").write_text("湛江市检察院召开会议\n会议强调，要落实少捕慎诉慎押。", encoding="utf-8")
    corpus.ingest([str(tmp_path)])
    assert corpus.db.execute("SELECT duplicate_of FROM documents_with_tokens WHERE name = 'b'").fetchone()[0] is None
    assert corpus.count(include_duplicates=False) == 2
    assert passed(check_corpus(corpus))


def test_new_metadata_for_one_of_two_identical_files_keeps_one_document(corpus, tmp_path):
    from policylex.check import check_corpus, passed

    for name in ("x", "y"):
        (tmp_path / f"{name}.txt").write_text("湛江市检察院召开会议\n会议强调，要做优四大检察。", encoding="utf-8")
    meta = tmp_path / "meta.csv"
    meta.write_text("file,source\nx.txt,湛江检察\n", encoding="utf-8")
    corpus.ingest([str(tmp_path / "x.txt"), str(tmp_path / "y.txt")], meta=meta)
    assert corpus.count() == 1
    meta.write_text("file,source\nx.txt,湛江市人民检察院\n", encoding="utf-8")
    report = corpus.ingest([str(tmp_path / "x.txt"), str(tmp_path / "y.txt")], meta=meta)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert corpus.count() == 1  # one text, one document: it was counted twice
    assert corpus.db.execute("SELECT source FROM documents_with_tokens").fetchone()[0] == "湛江市人民检察院"
    assert passed(check_corpus(corpus))


def test_interrupted_normalise_leaves_the_corpus_as_it_was(corpus):
    corpus.ingest([str(SEEDS)])
    corpus.tokenise(workers=1)
    before = corpus.db.execute("SELECT id, norm_text, norm_settings, duplicate_of FROM documents_with_tokens ORDER BY seq").fetchall()

    def interrupt(done, total):
        if done >= 4:  # two batches of two done
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        corpus.normalise(variant="none", batch_size=2, progress=interrupt)
    after = corpus.db.execute("SELECT id, norm_text, norm_settings, duplicate_of FROM documents_with_tokens ORDER BY seq").fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]  # not two documents in one script, three in another
    assert corpus.get_meta("normalise.variant") == "t2s"
    assert corpus.normalise(variant="none").changed == 3


# Two short notices that differ only in the formulation they announce, and a repost of one with a header and
# a footer (hand-written, in the form of short releases).
NOTICE = "本院召开党组会议，专题学习“{}”的重要意义，要求全院干警深刻领会，坚决把学习成果转化为实际行动。"
SHORT_NOTICES = {
    "queli.txt": NOTICE.format("两个确立"),
    "weihu.txt": NOTICE.format("两个维护"),
    "repost.txt": "转自丹东市人民检察院网站\n" + NOTICE.format("两个确立") + "\n来源：丹东检察",
}


def test_short_notices_differing_in_their_formulation_are_not_near_duplicates():
    a, b = (dedup.shingles(SHORT_NOTICES[name]) for name in ("queli.txt", "weihu.txt"))
    containment, jaccard = dedup.shingle_similarity(a, b)
    # Over the thresholds for longer texts: only the floor for short ones keeps them apart.
    assert a.size < dedup.SHORT_SHINGLES and containment >= dedup.MIN_CONTAINMENT and jaccard >= dedup.MIN_JACCARD
    assert dedup.is_near_duplicate_shingles(a, b) == (False, containment)


def test_a_short_repost_is_still_a_near_duplicate_and_short_notices_are_kept(corpus, tmp_path):
    ingest_texts(corpus, tmp_path / "notices", SHORT_NOTICES)
    flagged = corpus.db.execute("SELECT d.name, o.name FROM documents d JOIN documents o ON o.id = d.near_duplicate_of"
                                ).fetchall()
    assert [tuple(r) for r in flagged] == [("repost", "queli")]
    assert names(corpus, "duplicate_of IS NULL AND near_duplicate_of IS NULL") == ["queli", "weihu"]


def _stored(corpus) -> tuple[list, list]:
    """Everything ingest stores, but the times it stores it at."""
    documents = [tuple(row) for row in corpus.db.execute(
        "SELECT id, seq, name, title, date, year, province, city, source, meta_origin, norm_text, norm_hash, "
        "duplicate_of, near_duplicate_of, near_duplicate_score, minhash FROM documents JOIN signatures USING (seq) "
        "ORDER BY seq")]
    sources = [tuple(row) for row in corpus.db.execute(
        "SELECT path, record, doc_id, reader, encoding, raw_sha256, fields_hash FROM sources ORDER BY path, record")]
    return documents, sources


def test_any_number_of_workers_stores_the_same_corpus(tmp_path):
    """Enough files for worker processes (at least SERIAL_BELOW), with reposts, copies and GB18030 among them."""
    from policylex.ingest import SERIAL_BELOW
    from policylex.store import Corpus

    folder = tmp_path / "docs"
    folder.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(SERIAL_BELOW + 8):
        text = seeds[i % len(seeds)].read_text(encoding="utf-8")
        paragraphs = text.split("\n")
        if i >= len(seeds):  # the rest: each seed again with one paragraph left out, or a note added
            text = "\n".join(p for k, p in enumerate(paragraphs) if k != i % len(paragraphs)) if i % 3 else \
                text + f"\n（编辑：第{i}号）"
        encoding = "gb18030" if i % 4 == 0 else "utf-8"
        (folder / f"{i:03d}.txt").write_bytes(text.encode(encoding, errors="replace"))
    for name in ("original.txt", "repost_with_note.txt", "exact_copy.txt"):
        shutil.copy(FIXTURES / "dedup" / name, folder / name)
    stored = []
    for workers in (1, 2, 3):
        with Corpus.open(tmp_path / f"w{workers}.db", create=True) as corpus:
            corpus.ingest([str(folder)], workers=workers)
            stored.append(_stored(corpus))
    documents, sources = stored[0]
    doc_ids = [row[2] for row in sources]
    assert any(row[13] for row in documents) and len(set(doc_ids)) < len(doc_ids)  # near and exact duplicates
    assert stored[1] == stored[0] and stored[2] == stored[0]
