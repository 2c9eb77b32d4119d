"""A few thousand small articles, made fast from the seeds' sentences, for kill and concurrency tests.

Each article is a title naming a real procuratorate (so it gets a region), a date
line and four to eight sentences drawn from the seeds as they are (three of them in
traditional script with converter pinyin, so normalise has work); one in twenty is an exact
copy of an earlier article under another name, one in twenty a repost of one with
a line added (a near-duplicate).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from policylex.normalise import normalise_newlines

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CITIES = ("青岛市", "湛江市", "丹东市", "济南市", "沈阳市", "杭州市", "成都市", "武汉市", "南京市", "福州市")


def sentences() -> list[str]:
    found = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = normalise_newlines(path.read_text(encoding="utf-8"))
        found += [s.strip() + "。" for s in re.split("[。！？]", text.replace("\n", "")) if 12 <= len(s.strip()) <= 120]
    return found


def write_corpus(folder: Path, n: int, seed: int = 7, per_folder: int = 250) -> list[Path]:
    """``n`` article files under ``folder`` (in sub-folders of ``per_folder``); returns their paths."""
    rnd = random.Random(seed)
    pool = sentences()
    paths: list[Path] = []
    texts: list[str] = []
    for i in range(n):
        if texts and i % 20 == 7:
            text = rnd.choice(texts)  # an exact copy under another name
        elif texts and i % 20 == 13:
            text = rnd.choice(texts) + "\n（转载自检察日报，有删节）"  # a repost
        else:
            city = rnd.choice(CITIES)
            body = "".join(rnd.sample(pool, rnd.randint(4, 8)))
            text = (f"{city}检察院召开第{i}次检察工作会议\n发布时间：20{rnd.randint(15, 24)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}"
                    f"\n{body}")
        texts.append(text)
        path = folder / f"part{i // per_folder:03d}" / f"article_{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def corpora_by_workers(folder: Path, n: int = 300, workers: tuple[int, ...] = (1, 2)):
    """(workers, corpus) for each worker count: the same ``n`` synthetic articles ingested into a corpus each."""
    from policylex.store import Corpus

    write_corpus(folder / "docs", n)
    for count in workers:
        with Corpus.open(folder / f"w{count}.db", create=True) as corpus:
            corpus.ingest([str(folder / "docs")])
            yield count, corpus
