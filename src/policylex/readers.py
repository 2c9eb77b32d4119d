"""Readers: files in, article texts with their provenance out.

One reader per input format.  Each yields :class:`SourceText` for every article
it can read and :class:`Skipped` for every file or row it cannot, so that one
bad file (or row) never stops a batch.
"""

from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Iterable, Iterator, NamedTuple

from policylex.errors import InputError
from policylex.normalise import lone_surrogates, normalise_newlines, replace_lone_surrogates

READERS = {
    ".txt": "text",
    ".md": "text",
    ".html": "html",
    ".htm": "html",
    ".shtml": "html",
    ".xhtml": "html",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "json",
}

# Column names scraper exports use for each field, in order of preference.
COLUMN_NAMES = {
    "text": ("text", "content", "body", "article", "fulltext", "full_text", "正文", "内容", "全文", "文本", "text_content"),
    "title": ("title", "headline", "标题", "题目", "title_text"),
    "date": ("date", "pub_date", "publish_date", "published", "pubdate", "publish_time", "pub_time", "time",
             "datetime", "publication_date", "issue_date", "release_date", "发布日期", "发布时间", "成文日期", "发文日期",
             "日期", "时间"),
    "url": ("url", "link", "href", "source_url", "source_page_url", "page_url", "网址", "链接"),
    "source": ("source", "site", "site_name", "media", "publisher", "department", "agency", "issuer", "author_org",
               "issuing_authority", "authority", "issuing_body",
               "来源", "网站", "媒体", "发文机关", "发布机构", "发文单位", "发布单位", "机关", "部门"),
    "province": ("province", "省份", "省"),
    "city": ("city", "城市", "市"),
    "region": ("region", "地区", "地域"),
}
MAX_FILE_BYTES = 200 * 1024 * 1024
# One document's text: ~100 times the longest official report; past this a "document"
# is a dump (a whole site on one line, a database export) that would take minutes
# and gigabytes to normalise and segment, and would swamp every count it entered.
MAX_TEXT_CHARS = 2_000_000

_MAGIC = {
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive (docx/xlsx?)",
    b"\x1f\x8b": "gzip archive",
    b"\xd0\xcf\x11\xe0": "MS Office document",
    b"SQLite format 3": "SQLite database",
}
_CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "big5", "cp950", "big5hkscs", "utf_16", "utf_16_le", "utf_16_be"]


@dataclass
class SourceText:
    """One article as a reader found it."""

    path: str
    record: str  # "" for a whole file; "row 3" / "line 3" for a row of a table
    reader: str
    encoding: str
    raw_sha256: str
    raw_text: str  # decoded exactly as found (for HTML, the page source)
    text: str  # the article text the reader extracted, LF line endings
    fields: dict[str, str] = field(default_factory=dict)  # metadata the source states
    page_text: str | None = None  # HTML: the whole visible page, for page-date and source lines
    replaced: int = 0  # undecodable byte sequences in the file, each read as U+FFFD (see decode_bytes)
    surrogates: int = 0  # lone UTF-16 surrogates in this record's JSON strings, each read as U+FFFD

    @property
    def name(self) -> str:
        """The file's stem, or its name and the record's number (export.csv#3)."""
        path = PurePath(self.path)
        return f"{path.name}#{self.record.split()[-1]}" if self.record else path.stem


@dataclass
class Skipped:
    path: str
    reason: str
    line: int | None = None
    passed_over: bool = False  # a file a folder held that no reader reads (by type, or hidden)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line is not None else f"{self.path}: {self.reason}"


@dataclass
class ReadOptions:
    text_column: str | None = None
    title_column: str | None = None
    date_column: str | None = None
    region_column: str | None = None
    url_column: str | None = None
    source_column: str | None = None

    def column_for(self, key: str) -> str | None:
        return getattr(self, f"{key}_column", None)


# --- paths ----------------------------------------------------------------------


def path_text(path: str | os.PathLike) -> str:
    """A path as text that SQLite and a terminal can hold, one text per path.

    Python keeps the undecodable bytes of a file name (GBK bytes from a Windows
    zip) as lone surrogates, which UTF-8 cannot encode; they are written as
    ``\\xNN`` escapes instead, so two different names never become one.
    """
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


def _stdin_paths(stream) -> Iterator[str]:
    """Lines of stdin as paths; bytes that are not UTF-8 (GBK file names) survive as they are."""
    raw = getattr(stream, "buffer", None)
    lines = (os.fsdecode(line) for line in raw) if raw is not None else stream
    for line in lines:
        if line.strip():
            yield line.strip()


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a file, or None when it is a regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "symbolic link loop"
        if path.is_symlink():
            return "broken symbolic link"
        if error.errno == errno.ENOENT:
            return "no such file or folder"
        return error.strerror or str(error)
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)"
    return None


def expand_paths(inputs: Iterable[str], stdin: io.TextIOBase | None = None) -> Iterator[Path | Skipped]:
    """Files named, files under folders named (recursively, sorted), and paths read from stdin for ``-``."""
    for item in inputs:
        if item == "-":
            yield from expand_paths(_stdin_paths(stdin if stdin is not None else sys.stdin), None)
            continue
        path = Path(item)
        if path.is_dir():
            yield from _walk(path)
            continue
        problem = _not_a_file(path)
        yield Skipped(path_text(path), problem) if problem else path


def _walk(folder: Path) -> Iterator[Path | Skipped]:
    seen_dirs: set[tuple[int, int]] = set()
    unreadable: list[OSError] = []
    for root, dirs, files in os.walk(folder, followlinks=True, onerror=unreadable.append):
        yield from _unreadable_folders(unreadable)
        try:
            st = os.stat(root)
        except OSError as error:  # gone since it was listed
            yield Skipped(path_text(root), f"cannot read folder: {error.strerror}")
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop
            dirs[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            # Passed over, but never in silence: the user learns what was not read.
            passed_over = "hidden file" if name.startswith(".") else unsupported(path)
            problem = passed_over or _not_a_file(path)
            yield Skipped(path_text(path), problem, passed_over=bool(passed_over)) if problem else path
    yield from _unreadable_folders(unreadable)


def unsupported(path: Path) -> str | None:
    """Why no reader reads ``path`` (by its file name), or None."""
    return None if path.suffix.lower() in READERS else f"not a supported type ({path.suffix or 'no extension'})"


def _unreadable_folders(errors: list[OSError]) -> Iterator[Skipped]:
    """A folder os.walk could not list: reported, never passed over in silence."""
    while errors:
        error = errors.pop(0)
        yield Skipped(path_text(error.filename or "?"), f"cannot read folder: {error.strerror or error}")


# --- decoding -------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


def _control_ratio(text: str) -> float:
    """Share of control characters and replacement marks: high in binary data read as text."""
    sample = text[:20000]
    return len(_CONTROL.findall(sample)) / len(sample) if sample else 0.0


def _strict_utf8(data: bytes) -> str | None:
    """UTF-8 if the bytes are UTF-8, forgiving only a character cut off at the very end."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.start >= len(data) - 3 and error.start > 0:
            return data[: error.start].decode("utf-8", errors="strict")
        return None


class Decoded(NamedTuple):
    text: str
    encoding: str
    replaced: int = 0  # undecodable byte sequences read as U+FFFD


# A UTF-8 file may have this share of bytes in broken sequences (a scraper that cut
# a character in two) and still be read, each broken sequence as U+FFFD: skipping
# the whole article for one bad byte would lose it. Binary data breaks far more.
MAX_REPLACED_SHARE = 0.01


def decode_bytes(data: bytes, path: str, declared: str | None = None) -> Decoded:
    """Decode a file's bytes, returning (text, encoding, replaced); InputError when it is not text.

    UTF-8 (with or without BOM) and UTF-16 with BOM are recognised exactly; else a
    charset declared by the file (HTML ``<meta charset>``) is tried; else
    charset-normalizer chooses among GB18030, Big5 and UTF-16 by language model;
    else UTF-8 with a few broken sequences is read with each one as U+FFFD, and
    ``replaced`` says how many; else a strict GB18030 or Big5-HKSCS decoding.
    """
    if not data:
        raise InputError(path, "empty file")
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise InputError(path, f"binary file ({kind}), not text")
    if data.startswith(codecs.BOM_UTF8):
        text = _strict_utf8(data[3:])
        if text is not None:
            return Decoded(text, "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as error:
            # The BOM says UTF-16; its NUL bytes are no sign of a binary file.
            raise InputError(path, f"undecodable UTF-16 ({error.reason} at byte {error.start})") from None
    text = _strict_utf8(data)
    if text is not None and _control_ratio(text) < 0.01:
        return Decoded(text, "utf-8")
    if declared:
        try:
            codec = codecs.lookup(declared).name
            if codec in ("gb2312", "gbk"):
                codec = "gb18030"
            text = data.decode(codec)
            if _control_ratio(text) < 0.01:
                return Decoded(text, codec)
        except (LookupError, UnicodeDecodeError):
            pass
    if data.count(b"\x00") > len(data) // 50 and not _looks_utf16(data):
        raise InputError(path, "binary file (NUL bytes), not text")
    import charset_normalizer  # deferred: only files that are not UTF-8 need it

    best = charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATE_ENCODINGS).best()
    if best is not None:
        encoding = {"gb2312": "gb18030", "gbk": "gb18030"}.get(best.encoding, best.encoding)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            text = None
        if text and _control_ratio(text) < 0.01:
            return Decoded(text, encoding.replace("_", "-"))
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    text = body.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - body.count("\ufffd".encode("utf-8"))
    if replaced <= max(1, len(body) * MAX_REPLACED_SHARE) and _control_ratio(text.replace("\ufffd", "")) < 0.01:
        return Decoded(text, "utf-8", replaced)
    # charset-normalizer gives up on some GB18030 and Big5 files (a traditional-script
    # article with converter pinyin in it, 7 in 100,000 of the benchmark's): a file that
    # decodes strictly, without control characters, is taken as what it decodes as.
    for encoding in ("gb18030", "big5hkscs"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _control_ratio(text) < 0.01:
            return Decoded(text, encoding)
    raise InputError(path, "undecodable bytes: not UTF-8, UTF-16, GB18030 or Big5 text")


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a BOM: ASCII-heavy text has a NUL in every other byte."""
    sample = data[:4000]
    evens, odds = sample[0::2].count(0), sample[1::2].count(0)
    return max(evens, odds) > len(sample) // 4 and min(evens, odds) < len(sample) // 50


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(path_text(path), f"file too large ({size // 2**20} MB > {MAX_FILE_BYTES // 2**20} MB)")
        return path.read_bytes()
    except PermissionError:
        raise InputError(path_text(path), "permission denied") from None
    except IsADirectoryError:
        raise InputError(path_text(path), "is a folder") from None
    except OSError as error:
        raise InputError(path_text(path), error.strerror or str(error)) from None


# --- readers --------------------------------------------------------------------


def read_path(path: Path, options: ReadOptions | None = None,
              data: bytes | InputError | None = None) -> Iterator[SourceText | Skipped]:
    """Every article in one file, or the reasons it cannot be read.

    ``data``: the file's bytes, read elsewhere (or why they could not be), instead of opening ``path``.
    """
    options = options or ReadOptions()
    kind = READERS.get(path.suffix.lower())
    try:
        if kind is None:
            raise InputError(path_text(path), unsupported(path))
        if isinstance(data, InputError):
            raise data
        data = read_bytes(path) if data is None else data
        if kind == "text":
            yield _read_text(path, data)
        elif kind == "html":
            yield _read_html(path, data)
        elif kind in ("csv", "tsv"):
            yield from _read_table(path, data, kind, options)
        elif kind == "jsonl":
            yield from _read_jsonl(path, data, options)
        else:
            yield from _read_json(path, data, options)
    except InputError as error:
        yield Skipped(error.path, error.reason, error.line)


def _read_text(path: Path, data: bytes) -> SourceText:
    raw, encoding, replaced = decode_bytes(data, path_text(path))
    text = normalise_newlines(raw)
    if not text.strip():
        raise InputError(path_text(path), "no text (only white space)")
    _check_length(path, text)
    return SourceText(path_text(path), "", "text", encoding, sha256_hex(data), raw, text, replaced=replaced)


def _check_length(path: Path, text: str, line: int | None = None) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(path_text(path), f"text too long for one document ({len(text):,} characters, at most "
                         f"{MAX_TEXT_CHARS:,}): split it into articles", line)


_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_DATE_META = ("pubdate", "publishdate", "publish_date", "article:published_time", "og:published_time",
              "dc.date.issued", "dc.date", "dcterms.created", "date", "firstpublishedtime", "published")
_SOURCE_META = ("contentsource", "source", "og:site_name", "sitename", "site_name", "application-name")


def _read_html(path: Path, data: bytes) -> SourceText:
    declared = _META_CHARSET.search(data[:4096])
    raw, encoding, replaced = decode_bytes(data, path_text(path),
                                           declared.group(1).decode("ascii", "ignore") if declared else None)
    import lxml.html  # deferred with trafilatura: only HTML needs them
    import trafilatura

    # Control characters (a stray \x07 in a scraped page) are no text, and lxml refuses
    # them wherever trafilatura moves them: it raised ValueError and sank the batch.
    markup = _XML_INCOMPATIBLE.sub("", raw)
    try:
        tree = lxml.html.fromstring(markup.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
        fields = _html_fields(tree)
        text = trafilatura.extract(markup, include_comments=False, include_tables=True, deduplicate=False) or ""
    except (ValueError, lxml.etree.LxmlError) as error:
        raise InputError(path_text(path), f"not parseable HTML ({error})") from None
    if not _has_prose(text):
        raise InputError(path_text(path), "no article text in HTML page")
    _check_length(path, text)
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    page_text = "\n".join(s.strip() for s in tree.xpath("//body//text()") if s.strip())
    site = fields.pop("site", None)
    if site:  # whose site it is: read for its region (site_regions.csv), never as the article's text
        page_text += f"\n站点：{site}"
    title = fields.get("title")
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n{text}"  # as in a plain-text article, the title is part of the text
    return SourceText(path_text(path), "", "html", encoding, sha256_hex(data), raw, normalise_newlines(text),
                      fields, page_text, replaced)


_PROSE_LINE = re.compile(r"[。！？!?]|[^\s|]{30,}")


def _has_prose(text: str) -> bool:
    """Whether extracted page text holds at least one sentence, not only menu words.

    trafilatura falls back to navigation labels on a page with no article.
    """
    return any(_PROSE_LINE.search(line) and "今天是" not in line for line in text.split("\n"))


# A page's heading that names the site or a column, not the article (佛山市人民政府门户网站, 工作动态).
_SITE_HEADING = re.compile(r"(?:门户网站|政府网站?|人民政府网|网站|官网)$")
_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|(?<!—)—(?!—)|(?<![-－])[-－](?![-－])|\s{2,}|\xa0+)\s*")
_TAGS = re.compile(r"<[^>]+>")
COLUMN_HEADING_CHARS = 6  # 工作动态, 通知公告, 图片新闻: a heading this short is a column's, not an article's


def _is_site_name(text: str, site: str | None) -> bool:
    return bool(_SITE_HEADING.search(text) or (site and (text == site or site in text and len(text) <= len(site) + 8)))


def _is_site_heading(text: str, site: str | None) -> bool:
    return len(text) <= COLUMN_HEADING_CHARS or _is_site_name(text, site)


def _page_title(title: str | None, site: str | None) -> str | None:
    """The article's part of a page's <title>: the site's name cut off, whatever the separator.

    A 「——」 is the article's own dash (“书法进军营”——顺义区开展…), never a separator.
    """
    if not title:
        return None
    parts = [part for part in _TITLE_SEPARATORS.split(title.strip()) if part]
    kept = [part for part in parts if not _is_site_name(part, site)] or parts
    return kept[0] if kept else None  # sites put the article first and their name after it


def _html_fields(tree) -> dict[str, str]:
    """What a page states of itself: its title, date, address, source and site (meta tags, <h1>, <title>).

    ``ArticleTitle`` (the field Chinese government sites' CMSs fill, with ``SiteName``,
    ``PubDate`` and ``ContentSource``) is the title where present; an <h1> that is the
    site's logo or a column's name is not.
    """
    metas: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        if key and key not in metas:
            metas[key] = meta.get("content").strip()
    fields: dict[str, str] = {}
    site = metas.get("sitename") or metas.get("site_name") or metas.get("og:site_name") or None
    article_title = _TAGS.sub("", metas.get("articletitle", "")).strip() or None
    h1 = next((h.text_content().strip() for h in tree.xpath("//h1")
               if h.text_content().strip() and not _is_site_heading(h.text_content().strip(), site)), None)
    page_title = next((t.text_content().strip() for t in tree.xpath("//title")), None)
    title = article_title or h1 or _page_title(page_title, site) or metas.get("og:title")
    if title:
        title = re.sub(r"\s+", " ", _TAGS.sub(" ", title)).strip()
    if title and sum(ch.isalpha() for ch in title) >= 2:  # a video player's 00:30:01 is no title
        fields["title"] = title
    date = next((metas[k] for k in _DATE_META if metas.get(k)), None)
    if date:
        fields["date"] = date
    url = (next((link.get("href") for link in tree.xpath("//link[@rel='canonical'][@href]")), None)
           or metas.get("og:url") or metas.get("url"))
    if url:
        fields["url"] = url
    source = next((metas[k] for k in _SOURCE_META if metas.get(k)), None)
    if source:
        fields["source"] = source
    if site or metas.get("sitedomain"):
        fields["site"] = " ".join(filter(None, (site, metas.get("sitedomain"))))
    return fields


def _column_map(columns: list[str], options: ReadOptions, path: str, *, nested: dict | None = None) -> dict[str, str]:
    """Which column holds which field, by option or by the common names.

    ``nested``: a JSON record, whose nested fields can be named (``data.content``) and
    whose text, where no field has a usual name, is the field holding the most text.
    """
    lowered = {c.strip().lower(): c for c in columns if c}
    last = {}
    for column in columns:
        last.setdefault(column.rsplit(".", 1)[-1].strip().lower(), column)
    mapping: dict[str, str] = {}
    for key, names in COLUMN_NAMES.items():
        wanted = options.column_for(key)
        if wanted:
            if wanted not in columns and wanted.lower() not in lowered:
                raise InputError(path, f"no column {wanted!r} (columns: {', '.join(columns)})")
            mapping[key] = wanted if wanted in columns else lowered[wanted.lower()]
            continue
        for name in names:
            if name in lowered:
                mapping[key] = lowered[name]
                break
        else:
            for name in names:
                if nested is not None and name in last:
                    mapping[key] = last[name]
                    break
    if nested is not None:
        from policylex.normalise import convert_script

        for column in columns:  # 中文法規名稱, 最新異動日期: a title or date by what the name ends with
            name = convert_script(column.rsplit(".", 1)[-1])
            if "title" not in mapping and name.endswith(("标题", "名称")) and isinstance(nested.get(column), str):
                mapping["title"] = column
            if ("date" not in mapping and name.endswith(("日期", "发布时间", "公布时间"))
                    and not re.search(r"爬取|抓取|采集|crawl", name) and isinstance(nested.get(column), (str, int))):
                mapping["date"] = column
        if "text" not in mapping:
            found = largest_text_field(nested)
            if found is not None:
                mapping["text"] = found
    if "text" not in mapping and nested is not None:
        raise InputError(path, f"no text field among {', '.join(columns[:12])} (looked for "
                         f"{', '.join(COLUMN_NAMES['text'][:6])}, …, and for a field holding text; "
                         "name it with --text-column, e.g. data.content)")
    if "text" not in mapping:
        raise InputError(
            path,
            f"no text column among {', '.join(columns)} (looked for {', '.join(COLUMN_NAMES['text'][:6])}, …; "
            "name it with --text-column)",
        )
    return mapping


def record_line(record: str) -> int | None:
    """The line number a record names (``line 3``, a JSONL line), or None (``row 2``, ``record 4``, a whole file)."""
    return int(record.split()[-1]) if record.startswith("line") else None


def _value(row: dict, key: str):
    """``row[key]``, where ``key`` may name a nested field: data.content."""
    if key in row:
        return row[key]
    value = row
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _flat_keys(row: dict, prefix: str = "") -> list[str]:
    """Every field of a record, nested objects' as dotted names (data.content)."""
    keys = []
    for key, value in row.items():
        if not isinstance(key, str):
            continue
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys.extend(_flat_keys(value, prefix + key + "."))
    return keys


def _as_text(value) -> str:
    """A field as text: a string, or a list of strings or records (a law's articles) joined by lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                parts.append(" ".join(str(v) for v in item.values() if isinstance(v, (str, int, float))))
            elif isinstance(item, (str, int, float)):
                parts.append(str(item))
        return "\n".join(p for p in parts if p.strip())
    return ""


def largest_text_field(row: dict) -> str | None:
    """The field holding the most text, where no field has a usual text name (法規內容, articles …)."""
    best, size = None, 0
    for key in _flat_keys(row):
        value = _value(row, key)
        text = _as_text(value)
        letters = sum(ch.isalpha() for ch in text[:50000])
        if letters > size:
            best, size = key, letters
    return best if size >= 20 else None


_MARKUP = re.compile(r"<(?:p|div|span|br|td|tr|table|tbody|html|body|h[1-6]|li|font|strong|a)\b[^>]*>", re.I)
_BLOCKS = {"p", "div", "br", "tr", "table", "tbody", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "section",
           "article", "header", "footer", "title", "dd", "dt", "blockquote", "pre"}


def looks_like_html(text: str) -> bool:
    return len(_MARKUP.findall(text[:5000])) >= 2


def html_text(markup: str) -> str:
    """The visible text of an HTML page or fragment, a line per block (a cell of a scraper's export)."""
    import lxml.html

    try:
        tree = lxml.html.fromstring(_XML_INCOMPATIBLE.sub("", markup))
    except (ValueError, lxml.etree.LxmlError):
        return markup
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCKS:
            element.tail = "\n" + (element.tail or "")
            if element.tag.lower() == "td":
                element.tail = " " + (element.tail or "")
    lines = (re.sub(r"[ \t\xa0\u3000]+", " ", line).strip() for line in tree.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


MAX_CONTEXT_CHARS = 4000


def _context(row: dict, used: set[str]) -> str:
    """A record's other fields as ``key：value`` lines (a page's HTML as its text), for metadata only."""
    lines = []
    for key in _flat_keys(row):
        if key in used or any(key.startswith(u + ".") for u in used):
            continue
        value = _value(row, key)
        if isinstance(value, (dict, list)) or value in (None, "", "NULL"):
            if isinstance(value, list):
                text = _as_text(value)
                if text:
                    lines.append(f"{key}：{text[:MAX_CONTEXT_CHARS]}")
            continue
        value = str(value)
        if looks_like_html(value):
            lines.append(html_text(value)[: MAX_CONTEXT_CHARS * 4])
        else:
            lines.append(f"{key}：{value[:MAX_CONTEXT_CHARS]}")
    return "\n".join(lines)


def _record(path: Path, record: str, reader: str, encoding: str, row: dict, mapping: dict[str, str]) -> SourceText | Skipped:
    text = _value(row, mapping["text"])
    if isinstance(text, list):
        text = _as_text(text)
    line = record_line(record)
    title = _value(row, mapping["title"]) if "title" in mapping else None
    if text in (None, "") and isinstance(title, str) and sum(ch.isalpha() for ch in title) >= 5:
        text = title  # a notice published as its headline alone: the headline is its text
    if not isinstance(text, str) or not text.strip():
        what = "empty text" if text in (None, "") or isinstance(text, str) else f"text is a JSON {type(text).__name__}"
        return Skipped(path_text(path), f"{what} (column {mapping['text']!r})", line)
    raw = text
    if looks_like_html(text):
        text = html_text(text)
    try:
        _check_length(path, text, line)
    except InputError as error:
        return Skipped(error.path, error.reason, line)
    fields = {key: str(value) for key, col in mapping.items()
              if key != "text" and (value := _value(row, col)) not in (None, "", "NULL")
              and not isinstance(value, (dict, list))}
    canonical = json.dumps({k: row[k] for k in sorted(row) if isinstance(k, str)}, ensure_ascii=False, default=str)
    # JSON's \ud800 escapes give lone surrogates, which UTF-8 (and so SQLite) cannot hold.
    surrogates = sum(lone_surrogates(value) for value in [raw, *fields.values()])
    if surrogates:
        raw, text = replace_lone_surrogates(raw), replace_lone_surrogates(text)
        fields = {key: replace_lone_surrogates(value) for key, value in fields.items()}
    context = _context(row, set(mapping.values())) or None
    if context:
        context = replace_lone_surrogates(context)
    return SourceText(path_text(path), record, reader, encoding,
                      sha256_hex(canonical.encode("utf-8", "surrogatepass")), raw, normalise_newlines(text), fields,
                      context, surrogates=surrogates)


def _read_table(path: Path, data: bytes, kind: str, options: ReadOptions) -> Iterator[SourceText | Skipped]:
    text, encoding, replaced = decode_bytes(data, path_text(path))
    delimiter = "\t" if kind == "tsv" else ","
    # csv's default field limit (128 KiB) is one long article: past it the reader
    # raised and the rest of the file was lost. Long texts are _check_length's business.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(path_text(path), "empty table") from None
    except csv.Error as error:
        raise InputError(path_text(path), f"malformed header: {error}", 1) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    mapping = _column_map(header, options, path_text(path))
    row_number = 0
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Skipped(path_text(path), f"malformed {kind.upper()} ({error}); rest of file not read", line)
            return
        if not any(v.strip() for v in values):
            continue
        row_number += 1
        if len(values) != len(header):
            yield Skipped(path_text(path), f"row has {len(values)} fields, header has {len(header)}", line)
            continue
        result = _record(path, f"row {row_number}", kind, encoding, dict(zip(header, values)), mapping)
        if isinstance(result, Skipped):
            result.line = line
        else:
            result.replaced = replaced
        yield result


# Python's JSON parser recurses once per level of nesting; a record is an object of strings.
TOO_DEEP = "JSON nested too deeply to be a list of records"


def json_lines(text: str) -> Iterator[tuple[int, object]]:
    """(line number, parsed value, or the error: a JSONDecodeError, or TOO_DEEP) for each non-blank line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                yield number, error
            except RecursionError:
                yield number, RecursionError(TOO_DEEP)


def _read_jsonl(path: Path, data: bytes, options: ReadOptions) -> Iterator[SourceText | Skipped]:
    text, encoding, replaced = decode_bytes(data, path_text(path))
    mapping = None
    for number, row in json_lines(text):
        if isinstance(row, json.JSONDecodeError):
            yield Skipped(path_text(path), f"malformed JSON ({row.msg} at column {row.colno})", number)
            continue
        if isinstance(row, RecursionError):
            yield Skipped(path_text(path), TOO_DEEP, number)
            continue
        if not isinstance(row, dict):
            yield Skipped(path_text(path), f"a JSON {type(row).__name__}, not an object", number)
            continue
        try:
            mapping = mapping or _column_map(_flat_keys(row), options, path_text(path), nested=row)
        except InputError as error:
            yield Skipped(error.path, error.reason, number)
            continue
        result = _record(path, f"line {number}", "jsonl", encoding, row, mapping)
        if isinstance(result, Skipped):
            result.line = number
        else:
            result.replaced = replaced
        yield result


def _read_json(path: Path, data: bytes, options: ReadOptions) -> Iterator[SourceText | Skipped]:
    text, encoding, replaced = decode_bytes(data, path_text(path))
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path_text(path), f"malformed JSON ({error.msg})", error.lineno) from None
    except RecursionError:
        raise InputError(path_text(path), TOO_DEEP) from None
    if records == []:
        raise InputError(path_text(path), "JSON list is empty")
    if isinstance(records, dict):
        # One object per file, as scrapers write a page: one document.  An object whose
        # one list holds the records ({"data": [...]}) is a list of records.
        lists = [v for v in records.values() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        holder = lists[0] if len(lists) == 1 and not _has_text_name(records) and _has_text_name(lists[0][0]) else None
        if holder is None:
            mapping = _column_map(_flat_keys(records), options, path_text(path), nested=records)
            result = _record(path, "", "json", encoding, records, mapping)
            if isinstance(result, SourceText):
                result.replaced = replaced
            yield result
            return
        records = holder
    if not isinstance(records, list) or not any(isinstance(r, dict) for r in records):
        raise InputError(path_text(path), "JSON is neither a record (object) nor a list of records")
    first = next(r for r in records if isinstance(r, dict))
    mapping = _column_map(_flat_keys(first), options, path_text(path), nested=first)
    for number, row in enumerate(records, start=1):
        if not isinstance(row, dict):  # one odd entry does not sink the others
            yield Skipped(path_text(path), f"record {number} is a JSON {type(row).__name__}, not an object")
            continue
        result = _record(path, f"record {number}", "json", encoding, row, mapping)
        if isinstance(result, Skipped):
            result.reason = f"record {number}: {result.reason}"
        else:
            result.replaced = replaced
        yield result


def _has_text_name(row: dict) -> bool:
    names = {k.strip().lower() for k in _flat_keys(row)} | {k.rsplit(".", 1)[-1].lower() for k in _flat_keys(row)}
    return any(name in names for name in COLUMN_NAMES["text"])
