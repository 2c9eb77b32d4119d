"""Candidate formulations the lexicon lacks, found by their shape.

Three kinds of evidence, each a pattern on the normalised text:

``numbered``
    a number and a classifier before a short head (三大工程, 两大品牌, 六个必须,
    四项监督), two numbered halves (三会一课, 五市一体), or a digit formula
    (1+4+5);
``quoted``
    a short span in quotation marks (2–12 characters) that recurs;
``verb+quoted``
    the same quoted span after the same verb more than once (做优“四大检察”);
    verbs are jieba's verb-tagged words and the bundled ``data/policy_verbs.txt``.

Every candidate is then counted wherever it occurs in the selected documents
(quoted or not), and candidates the lexicon already covers are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from policylex.lexicon import Lexicon, literal_pattern, load_lexicon
from policylex.output import Table
from policylex.selection import load_documents
from policylex.store import Corpus

KINDS = ("numbered", "quoted", "verb+quoted")
_NUMBER = "一二两三四五六七八九十"
_CLASSIFIER = "个大项种条类"
# Heads that make a count, not a formulation: 一个月, 两个方面, 三项具体.
_NOT_HEAD_START = set("月年天日周次名位件些多余以来倍批")
_NOT_HEADS = {"方面", "问题", "部门", "单位", "地区", "阶段", "环节", "月份", "小时", "重要", "具体", "主要", "基层",
              "司法", "敢于", "典型", "以上", "左右", "工作"}
_NOT_HALF = set("届年月日号次点时分")  # 十九届五中 is a date-like count, not a formulation
_HAN = r"\u4e00-\u9fff"
_NUMBERED = re.compile(
    rf"(?<![第{_NUMBER}\d])[{_NUMBER}][{_CLASSIFIER}][{_HAN}]{{2}}"
    rf"|(?<![第{_NUMBER}\d])[{_NUMBER}][{_HAN}][{_NUMBER}][{_HAN}]{{1,2}}"
    r"|(?<![\d.])\d{1,2}(?:\+\d{1,2}){1,5}(?![\d.])"
)
_QUOTED = re.compile(rf"(?:^|(?<=[^“]))([{_HAN}]{{0,4}})“([{_HAN}0-9+、]{{2,12}})”")
QUOTED_MIN = 2  # a quoted span must recur to be a candidate


@lru_cache(maxsize=1)
def policy_verbs() -> frozenset[str]:
    text = resources.files("policylex").joinpath("data", "policy_verbs.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _jieba_verbs() -> frozenset[str]:
    """Words jieba's dictionary tags as plain verbs (v; vn are mostly nouns here: 建设, 服务)."""
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return frozenset(w for w, tag in jieba.posseg.dt.word_tag_tab.items() if tag == "v")


def verb_before(prefix: str) -> str | None:
    """The verb that ends ``prefix`` (the characters before an opening quote), if any."""
    for length in (4, 3, 2, 1):
        word = prefix[-length:]
        if len(word) == length and (word in policy_verbs() or (length > 1 and word in _jieba_verbs())):
            return word
    return None


def _is_numbered_candidate(span: str) -> bool:
    if span[0].isdigit():
        return True
    if span[1] in _CLASSIFIER:
        head = span[2:]
        return not ({head[0]} & _NOT_HEAD_START | {head[0]} & set(_NUMBER + _CLASSIFIER)) and head not in _NOT_HEADS
    return not ({span[1], span[3]} & _NOT_HALF) and span[:2] != span[2:4]


@dataclass
class Candidate:
    text: str
    kinds: set[str] = field(default_factory=set)
    quoted: int = 0
    verbs: dict[str, int] = field(default_factory=dict)
    count: int = 0
    documents: int = 0
    example: str = ""


DISCOVER_COLUMNS = ("rank", "candidate", "kinds", "count", "documents", "quoted", "verbs", "example")


def discover(
    corpus: Corpus,
    *,
    lexicon: Lexicon | None = None,
    where: list[str] | None = None,
    include_duplicates: bool = False,
    min_count: int = 1,
    min_docs: int = 1,
    top: int | None = 50,
    context: int = 12,
) -> Table:
    """Candidate formulations not in the lexicon: ``rank candidate kinds count documents quoted verbs example``.

    ``count`` is every occurrence in the selected documents, ``documents`` how many
    hold it, ``quoted`` how often it stands in quotation marks, ``verbs`` the
    verbs seen before it in quotation marks, ``example`` its first occurrence
    with ``context`` characters each side.  Ranked by documents, count, then the
    number of kinds of evidence.
    """
    from policylex.errors import UsageError

    lexicon = lexicon or load_lexicon()
    documents = load_documents(corpus)
    rows = documents.rows(include_duplicates=include_duplicates, where=where)
    if rows.size == 0:
        raise UsageError("no documents match" + (f" where {' '.join(where)}" if where else ""), option="where")
    ids = documents.meta["id"][rows].tolist()
    texts = _texts(corpus, ids)
    candidates: dict[str, Candidate] = {}
    for text in texts.values():
        for match in _NUMBERED.finditer(text):
            span = match.group()
            if _is_numbered_candidate(span):
                candidates.setdefault(span, Candidate(span)).kinds.add("numbered")
        for match in _QUOTED.finditer(text):
            prefix, span = match.group(1), match.group(2)
            candidate = candidates.setdefault(span, Candidate(span))
            candidate.quoted += 1
            numbered = _NUMBERED.match(span)
            if numbered and _is_numbered_candidate(numbered.group()):
                candidate.kinds.add("numbered")  # 五大区域发展战略: the whole quoted name, not its first four characters
            verb = verb_before(prefix)
            if verb:
                candidate.verbs[verb] = candidate.verbs.get(verb, 0) + 1
    for candidate in candidates.values():
        if candidate.quoted >= QUOTED_MIN:
            candidate.kinds.add("quoted")
        if any(n >= 2 for n in candidate.verbs.values()):
            candidate.kinds.add("verb+quoted")
    matcher = lexicon.matcher(corpus.get_meta("normalise.variant") or "t2s")
    kept = {text: c for text, c in candidates.items() if c.kinds and not _covered(matcher, text)}
    if kept:  # counted longest first, so a name's first four characters are not counted again on their own
        names = dict(zip(ids, documents.meta["name"][rows].tolist()))
        _count(kept, names, texts, context)
    chosen = [c for c in kept.values() if c.count >= max(1, min_count) and c.documents >= min_docs]
    chosen.sort(key=lambda c: (-c.documents, -c.count, -len(c.kinds), c.text))
    out = [
        (rank, c.text, ",".join(k for k in KINDS if k in c.kinds), c.count, c.documents, c.quoted,
         ", ".join(f"{v}:{n}" for v, n in sorted(c.verbs.items(), key=lambda kv: (-kv[1], kv[0]))), c.example)
        for rank, c in enumerate(chosen[: top or None], start=1)
    ]
    return Table(DISCOVER_COLUMNS, out, title="Candidate formulations",
                 notes=[f"{len(ids)} documents; {len(chosen)} candidates; lexicon: {lexicon.origin}"])


def _texts(corpus: Corpus, ids: list[str]) -> dict[str, str]:
    wanted = set(ids)
    return {doc_id: text for doc_id, text in corpus.db.execute("SELECT id, norm_text FROM documents ORDER BY seq")
            if doc_id in wanted}


def _covered(matcher, text: str) -> bool:
    """Whether the lexicon matches the whole candidate (then it is not new)."""
    return any(m.start == 0 and m.stop == len(text) for m in matcher.find(text))


def _count(candidates: dict[str, Candidate], names: dict[str, str], texts: dict[str, str], context: int) -> None:
    """Every occurrence of every candidate, quoted or not; the first one as the example."""
    pattern = re.compile(literal_pattern(set(candidates)))
    for doc_id, name in names.items():
        text = texts[doc_id]
        seen = set()
        for match in pattern.finditer(text):
            candidate = candidates[match.group()]
            candidate.count += 1
            seen.add(candidate.text)
            if not candidate.example:
                left = text[max(0, match.start() - context): match.start()].replace("\n", " ")
                right = text[match.end(): match.end() + context].replace("\n", " ")
                candidate.example = f"{name}: {left}[{match.group()}]{right}"
        for found in seen:
            candidates[found].documents += 1
