"""Text normalisation: one script, no converter artefacts, no page furniture.

Each step is a plain ``str -> str`` function.  Two composites matter:

* :func:`clean` makes text comparable without dropping anything: line endings,
  full-width letters and digits, inline pinyin left by site converters, and the
  script variant.  Metadata extraction reads cleaned text, since the page-date
  and source lines it needs are still there.
* :func:`normalise` is ``clean`` followed by :func:`strip_boilerplate`, repeated
  until nothing changes, so it is idempotent by construction.
"""

from __future__ import annotations

import re
from functools import lru_cache, wraps
from typing import Callable, TypeVar

from policylex.choices import Variant

R = TypeVar("R")

VARIANTS = tuple(v.value for v in Variant)
DEFAULT_VARIANT = "t2s"

# --- script conversion -------------------------------------------------------


@lru_cache(maxsize=None)
def _converter(variant: str):
    from opencc import OpenCC  # deferred: building the dictionaries takes a moment

    return OpenCC(variant)


def convert_script(text: str, variant: str = DEFAULT_VARIANT) -> str:
    """Convert traditional to simplified script with OpenCC (``variant='none'`` keeps it)."""
    return _opencc(text if variant == "none" else replace_lone_surrogates(text), variant)


def _opencc(text: str, variant: str) -> str:
    """:func:`convert_script` for a text without lone surrogates (:func:`clean` replaces them first)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown script variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return text if variant == "none" or not text else _converter(variant).convert(text)


def to_traditional(text: str) -> str:
    """Simplified to traditional script (OpenCC s2t): lexicon forms for corpora kept in their script."""
    return _converter("s2t").convert(replace_lone_surrogates(text)) if text else text


def opencc_backend() -> str:
    """Name and version of the OpenCC implementation in use, recorded with the corpus.

    The official package (C++) and opencc-python-reimplemented both install a
    module named ``opencc``, the one installed last overwriting the other: ask
    the module which it is (the reimplementation's class lives in ``opencc.opencc``).
    """
    from importlib.metadata import PackageNotFoundError, version

    import opencc

    dist = "opencc-python-reimplemented" if opencc.OpenCC.__module__ == "opencc.opencc" else "opencc"
    try:
        return f"{dist} {version(dist)}"
    except PackageNotFoundError:
        return dist


# --- character-level clean-up ---------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A pinyin syllable as converters print it: lower-case letters with at least one tone
# mark (ASCII-only words in brackets are real text: (wto), (a)), or a neutral-tone
# syllable from the short list converters emit.
_SYLLABLE = rf"[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*|de|le|me|men|zi|ne|ma|ba|ge|zhe|guo"
# Led by the bracket, the character before it checked after: a pattern that opens with a
# look-behind is tried at every position of the text (4x slower).
_PINYIN_ARTEFACT = re.compile(rf"[(（](?<=[{_CJK}][(（])(?:{_SYLLABLE})[)）](?:[(（](?:{_SYLLABLE})[)）])*")

_FULLWIDTH_ALNUM = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)}
_SPACES = {0x3000: 0x20, 0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x200B: None, 0xFEFF: None}
_FOLD = _FULLWIDTH_ALNUM | _SPACES
# str.translate with a dict looks up every character in Python; most texts hold none of these.
_FOLDABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")


def remove_pinyin_artefacts(text: str) -> str:
    """Drop pinyin that site converters leave after a character: 會(huì)議 → 會議.

    Real brackets survive: (一), (下称《意见》), (2023), (wto).
    """
    return _PINYIN_ARTEFACT.sub("", text)


def fold_width(text: str) -> str:
    """Full-width ASCII letters and digits to half-width; odd spaces to plain ones.

    Chinese punctuation (，。（）：) is left as it is.
    """
    return text.translate(_FOLD) if _FOLDABLE.search(text) else text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogates(text: str) -> int:
    return len(_LONE_SURROGATE.findall(text))


def replace_lone_surrogates(text: str) -> str:
    """U+FFFD for halves of UTF-16 pairs (a JSON export can hold "\\ud800"): no UTF-8 text, so OpenCC would fail."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def clean(text: str, variant: str = DEFAULT_VARIANT) -> str:
    """Everything that makes text comparable without removing any line."""
    text = replace_lone_surrogates(normalise_newlines(text))  # also for --variant none, which skips OpenCC
    # NUL is no text, and C tools (the sqlite3 shell) end a string at it: the raw text keeps it.
    text = text.replace("\x00", "")
    text = remove_pinyin_artefacts(text)
    text = fold_width(text)
    return _opencc(text, variant)


# --- page furniture --------------------------------------------------------------

CACHED_LINE_CHARS = 1_000


def per_line(judge: Callable[..., R]) -> Callable[..., R]:
    """Remember what ``judge(line, ...)`` says of a line: ingest asks it of the same lines
    several times (normalising, then finding the header, title, lead and dates).

    Only lines of up to 1,000 characters are kept (8 MB at most): a document on one line of two
    million characters must not stay in memory.
    """
    cached = lru_cache(maxsize=4_096)(judge)

    @wraps(judge)
    def judged(line: str, *args) -> R:
        return cached(line, *args) if len(line) <= CACHED_LINE_CHARS else judge(line, *args)

    return judged


# Page furniture is matched in either script, since ``--variant none`` keeps the
# traditional one: each simplified character below also matches its traditional form.
_TRADITIONAL = dict(zip(
    "关闭页责编辑来发布时间号颜欢访问当声闻读浏览击数扫码转载讯记摄图审对体纠错设为顶条网现录复阅点击",
    "關閉頁責編輯來發佈時間號顏歡訪問當聲聞讀瀏覽擊數掃碼轉載訊記攝圖審對體糾錯設為頂條網現錄復閱點擊",
))


def _either_script(pattern: str) -> str:
    return "".join(f"[{c}{_TRADITIONAL[c]}]" if c in _TRADITIONAL else c for c in pattern)


# Labels of metadata fields that page templates print around an article.
META_LABELS = (
    "来源|來源|稿源|来自|转载自|转自|作者|责任编辑|編輯|编辑|发布时间|发布日期|发布于|发稿时间|"
    "更新时间|日期|时间|时間|供稿|通讯员|记者|摄影|图片|点击数|点击量|浏览次数|阅读次数|阅读|浏览|"
    "信息来源|文章来源|审核|校对|字号|字体|颜色"
)
_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
_FIELD = re.compile(rf"(?:{_either_script(META_LABELS)})\s*[:：]\s*[^\s:：]*")
_FONT_SIZE = re.compile(_either_script(r"【?(?:字号|字体)\s*[:：]?\s*(?:[A大中小]\s*)+】?"))
_DATE_RE = re.compile(_DATE)
_WEEKDAY = re.compile(r"星期[一二三四五六日天]|周[一二三四五六日]")
_WIDGET_WORDS = re.compile(_either_script(
    r"分享到|我要爆料|免责声明|打印本页|关闭窗口|关闭本页|纠错|收藏本页|加入收藏|设为首页|返回顶部|"
    r"打印|关闭|相关文章|相关新闻|相关阅读|上一篇|下一篇|扫一扫|微信|微博|QQ空间|二维码|【|】|\[|\]|[:：|丨/·]"
))
_FURNITURE_LINE = re.compile(_either_script(r"今天是|今日是|欢迎访问|欢迎您|当前位置|您的位置|您现在的位置|所在位置"))
_BREADCRUMB = re.compile(r"^[^。，！？]{1,40}(?:\s*[>＞»]\s*[^。，！？>＞»]{1,20}){2,}$")
_SENTENCE_END = re.compile(r"[。！？；]")


@per_line
def _is_metadata_line(line: str) -> bool:
    """A line made only of label:value fields and dates (来源:… 发布时间:2022-05-10)."""
    if _SENTENCE_END.search(line):
        return False
    rest = _FIELD.sub(" ", _FONT_SIZE.sub(" ", line))
    rest = _DATE_RE.sub(" ", rest)
    if rest == line:
        return False
    return not re.sub(r"[\s,，;；|/·]+", "", rest)


def _is_widget_line(line: str) -> bool:
    """Share buttons, 我要爆料 / 免责声明, 相关文章: — nothing but widget words."""
    if len(line) > 40 or not _WIDGET_WORDS.search(line):
        return False
    return not re.sub(r"\s+", "", _WIDGET_WORDS.sub("", line))


def _is_furniture_line(line: str) -> bool:
    """Greetings, today's date, 'you are here' and breadcrumb trails of the page template."""
    if len(line) > 80 or _SENTENCE_END.search(line):
        return False
    if _FURNITURE_LINE.search(line):
        return True
    if _WEEKDAY.search(line) and _DATE_RE.search(line) and len(_DATE_RE.sub("", line)) < 30:
        return True
    return bool(_BREADCRUMB.match(line))


# Page templates' menus, one item a line or a bar of them: 下载 / 打印 / 全屏 / 收藏 /
# 【字号： 加大 还原 减小 】 / 无障碍 / 繁體版.
_MENU_WORDS = re.compile(_either_script(
    r"下载|打印|全屏|收藏|关闭|分享|字号|字体|加大|还原|减小|默认|繁体|简体|繁體|无障碍|长者模式|长辈版|关怀版|"
    r"English|首页|返回|登录|注册|搜索|RSS|扫码|手机版|网站地图|视力保护|朗读|[大中小]|[【】\[\]:：/|\s·•]"
))
# CSS or JavaScript left in a page's text (文字列印body{font-size:12pt;}…).
_CODE = re.compile(r"[{};]\s*$|^\s*(?:function\b|var\s|let\s|const\s|\$\(|document\.|window\.|<!--|-->|@media|"
                   r"[.#]?[A-Za-z-]+\s*\{)|\{[^{}]*:[^{}]*\}")
_COUNTER = re.compile(_either_script(r"(?:访问量|访问次数|浏览量|浏览次数|点击量|点击数|点击率|阅读量|阅读数|阅读次数)"
                                     r"\s*[:：]?\s*\d*"))


# A database's citation code and link (【法宝引证码】 CLI.12.5115678, 原文链接：https://…).
_CITATION = re.compile(r"^【[^】]{1,12}】\s*[A-Za-z0-9.\-_/]+$|^(?:原文链接|原文地址|本文链接|URL|网址|链接)\s*[:：]\s*\S+$")


def _ascii_share(line: str) -> float:
    """The share of ASCII characters, from the UTF-8 length (CJK takes 3 bytes): no loop in Python."""
    return (3 * len(line) - len(line.encode("utf-8", "surrogatepass"))) / 2 / len(line) if line else 0.0


def _is_menu_line(line: str) -> bool:
    """Menu items, font-size bars, visit counters, citation codes and code: the page's, never the article's."""
    if len(line) <= 40:
        if not _MENU_WORDS.sub("", line) or _CITATION.match(line):
            return True
        if ("字号" in line or "字体" in line or "字號" in line or "字體" in line) and len(line) <= 30:
            return True
        if _COUNTER.search(line):
            return True
    elif _CITATION.match(line):
        return True
    return _ascii_share(line) > 1 / 3 and bool(_CODE.search(line))


@per_line
def is_boilerplate_line(line: str) -> bool:
    return _is_metadata_line(line) or _is_widget_line(line) or _is_furniture_line(line) or _is_menu_line(line)


def _is_repeat(line: str, seen: set[str]) -> bool:
    """The same line again, or an earlier line written twice in a row (标题标题).

    A line that is an earlier one repeated k times is u·u·…·u for its shortest
    repeating unit u, and so is the earlier line (u repeated m times, m dividing
    k): set look-ups, not a scan of every earlier line, which made a text of
    100,000 lines take hours.
    """
    if line in seen:
        return True
    period = (line + line).find(line, 1)  # the shortest unit u, as a length dividing len(line)
    times = len(line) // period
    return any((line[:period] * m) in seen for m in range(1, times) if times % m == 0)


def collapse_whitespace(text: str) -> str:
    """One space inside a line at most, no blank lines, no edge spaces."""
    lines = (re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def strip_boilerplate(text: str) -> str:
    """Drop page furniture, widget and metadata lines, and repeated lines (titles)."""
    kept: list[str] = []
    seen: set[str] = set()
    for line in collapse_whitespace(text).split("\n"):
        if is_boilerplate_line(line) or _is_repeat(line, seen):
            continue
        seen.add(line)
        kept.append(line)
    return "\n".join(kept)


def normalise(text: str, variant: str = DEFAULT_VARIANT, *, cleaned: str | None = None) -> str:
    """Clean, then strip boilerplate; repeated until stable, so normalise∘normalise = normalise.

    ``cleaned`` is ``clean(text, variant)`` when the caller has it already (ingest
    cleans once for metadata); the script conversion is the expensive step.
    OpenCC's conversions are not always idempotent (t2s: 薴 → 苧 → 苎), hence the loop.
    """
    result = strip_boilerplate(cleaned if cleaned is not None else clean(text, variant))
    for _ in range(8):
        # strip_boilerplate keeps a text it returned as it is (its lines are collapsed, none
        # is furniture, none repeats one before it): where cleaning changes nothing, it is stable.
        again = clean(result, variant)
        if again == result:
            return result
        result = strip_boilerplate(again)
    return result
