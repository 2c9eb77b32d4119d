"""Deterministic synthetic corpora for the benchmarks, recombined from the seeds.

Document ``i`` is a pure function of ``i`` (its own random generator, seeded with
``i``), so the 1k corpus is the first thousand files of the 10k corpus, and "ten
new documents" for the incremental benchmark are simply documents 100000-100009.

Each document is about 3 KB: a title naming a prefecture-level city's
procuratorate (from the package's own division list), a date line in one of the
formats sites print (traditional labels in traditional documents), then
paragraphs of sentences recombined from the clauses of the seeds' sentences
(split at ，；：), digits re-drawn so that numbers vary, and half of the clauses
with the document's place or a count (12件, 35人) put in.  Recombining clauses
rather than whole sentences keeps two unrelated documents about as alike as real
articles on the same beat: with only the seeds' ~120 sentences to draw from,
documents would share a tenth of their sentences, and the near-duplicate
detector would see hundreds of candidates for every document at 100k.  About 40% of documents draw from the three traditional seeds (with
their converter pinyin), 10% mix both scripts, the rest are simplified; 10% of
files are GB18030 rather than UTF-8.  One document in a hundred is a verbatim
repost of an earlier one, another one in a hundred a repost with a header and
footer added (the near-duplicate detector should flag both).
"""

from __future__ import annotations

import csv
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TRADITIONAL_SEEDS = ("000", "001", "002")  # the seeds in traditional script with converter pinyin
TARGET_CHARS = 1000  # about 3 KB of UTF-8
PER_FOLDER = 1000

TOPICS = (
    "召开全市检察机关服务保障经略海洋战略工作会议",
    "召开全市检察长会议",
    "召开党组(扩大)会议传达学习讲话精神",
    "以高质量的检察履职实绩为党分忧为民解难",
    "人大视察检察机关公益诉讼工作",
    "部署少捕慎诉慎押刑事司法政策落实工作",
    "推进四大检察全面协调充分发展",
    "开展扫黑除恶专项斗争常态化工作",
)
TRADITIONAL_LABELS = {"发布时间": "發布時間", "来源": "來源", "检察院": "檢察院", "人民检察院": "人民檢察院"}


@dataclass(frozen=True)
class Pools:
    traditional: tuple[str, ...]  # clauses
    simplified: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, its short name)


_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]")
_CLAUSE = re.compile(r"[^，,；;：:。！？!?]+")


@lru_cache(maxsize=1)
def pools() -> Pools:
    """Body sentences of the seeds (no headers, no furniture) and the cities to place documents in."""
    traditional, simplified = [], []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            for sentence in _SENTENCE.findall(line):
                if len(sentence.strip()) < 12:  # widget words, labels, stray fragments
                    continue
                clauses = [c.strip() for c in _CLAUSE.findall(sentence) if len(c.strip()) >= 4]
                (traditional if path.name[:3] in TRADITIONAL_SEEDS else simplified).extend(clauses)
    places = resources.files("policylex").joinpath("data", "places.csv")
    with places.open(encoding="utf-8") as handle:
        cities = tuple((row["name"], row["short"]) for row in csv.DictReader(handle)
                       if row["level"] == "city" and row["short"])
    return Pools(tuple(traditional), tuple(simplified), cities)


_NUMBER = re.compile(r"\d+(?=(年|月|日)?)")


def _vary_digits(sentence: str, rng: random.Random) -> str:
    """Numbers re-drawn, dates kept plausible (years 2015-2024, real months and days)."""
    def draw(match: re.Match) -> str:
        unit = match.group(1)
        if unit == "年" and len(match.group()) == 4:
            return str(rng.randrange(2015, 2025))
        if unit in ("月", "日"):
            return str(rng.randrange(1, 13 if unit == "月" else 29))
        return "".join(str(rng.randrange(10)) for _ in match.group())
    return _NUMBER.sub(draw, sentence)


def _clause(clauses: tuple[str, ...], rng: random.Random, place: str) -> str:
    """A clause of the seeds, numbers re-drawn, and half the time the document's place or a count put in."""
    clause = _vary_digits(rng.choice(clauses), rng)
    if rng.random() < 0.5:
        cut = rng.randrange(1, len(clause))
        extra = place if rng.random() < 0.5 else f"{rng.randrange(2, 999)}{rng.choice('件人次项起个')}"
        clause = clause[:cut] + extra + clause[cut:]
    return clause


def _sentence(clauses: tuple[str, ...], rng: random.Random, place: str) -> str:
    return "，".join(_clause(clauses, rng, place) for _ in range(rng.randrange(2, 6))) + "。"


def document_text(i: int) -> str:
    """The text of synthetic document ``i`` (a repost of an earlier one for one in fifty)."""
    rng = random.Random(f"policylex-bench-{i}")
    kind = rng.random()
    if i >= 50 and kind < 0.01:
        return document_text(rng.randrange(i))
    if i >= 50 and kind < 0.02:
        site = rng.choice(pools().cities)[1]
        return f"转载自{site}长安网\n{document_text(rng.randrange(i))}\n(责任编辑:{site}政法委宣传处)"
    p = pools()
    script = rng.random()
    source = p.traditional if script < 0.4 else p.simplified if script >= 0.5 else p.traditional + p.simplified
    traditional = script < 0.4
    city, short = rng.choice(p.cities)
    year, month, day = rng.randrange(2015, 2025), rng.randrange(1, 13), rng.randrange(1, 29)
    label = (lambda s: TRADITIONAL_LABELS.get(s, s)) if traditional else (lambda s: s)
    lines = [f"{short}{label('检察院')}{rng.choice(TOPICS)}"]
    style = rng.randrange(3)
    if style == 0:
        lines.append(f"{label('发布时间')}:{year}-{month:02d}-{day:02d} {label('来源')}:{city}{label('人民检察院')}")
    elif style == 1:
        lines.append(f"{year}-{month:02d}-{day:02d} {rng.randrange(8, 19):02d}:{rng.randrange(60):02d} "
                     f"{label('来源')}:{city}{label('人民检察院')}")
    lead = f"{year}年{month}月{day}日,{city}{label('人民检察院')}{rng.choice(TOPICS)}。" if style == 2 else ""
    body, length = [], 0
    while length < TARGET_CHARS * rng.uniform(0.8, 1.2):
        paragraph = "".join(_sentence(source, rng, short) for _ in range(rng.randrange(2, 6)))
        body.append(paragraph)
        length += len(paragraph)
    body[0] = lead + body[0]
    return "\n".join(lines + body)


def document_path(folder: Path, i: int) -> Path:
    return folder / f"{i // PER_FOLDER:04d}" / f"{i:06d}.txt"


def write_corpus(folder: Path, n: int, start: int = 0) -> int:
    """Write documents ``start`` … ``start + n - 1`` under ``folder``; return the bytes written."""
    total = 0
    for i in range(start, start + n):
        path = document_path(folder, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = document_text(i)
        encoding = "gb18030" if random.Random(f"policylex-encoding-{i}").random() < 0.1 else "utf-8"
        data = text.encode(encoding)
        path.write_bytes(data)
        total += len(data)
    return total
