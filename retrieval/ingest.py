"""Load a corpus from disk: page text files and article-level JSONL archives.

This is the I/O edge of ingestion. Bad files never stop a load: they are
skipped and reported as :class:`IngestProblem` s (messages in Chinese, since
the CLI shows them to operators), and everything else still loads.

Supported files:

* ``*.txt`` — one extracted newspaper page (UTF-8, UTF-8 with BOM, UTF-16 with
  BOM, else GB18030, which also covers GBK/GB2312), split into articles by
  :func:`retrieval.segment.segment_page`;
* ``*.jsonl`` / ``*.jsonl.gz`` — one article per line,
  ``{"title", "date", "text"}`` with an optional ``"id"``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import json
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.models import Article
from retrieval.segment import segment_page

PAGE_SUFFIXES = (".txt",)
ARCHIVE_SUFFIXES = (".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class IngestProblem:
    """Something wrong with one file (or one line of it), shown to the operator."""

    path: str
    message: str
    line: int | None = None


@dataclass
class IngestReport:
    """What a load produced: the articles, the problems, and the files that were read."""

    articles: list[Article] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class PageDecodeError(ValueError):
    """A page file that is binary or in no encoding we accept."""


def is_corpus_file(path: Path) -> bool:
    """True if ``path``'s name has a suffix we can load."""
    name = path.name.lower()
    return name.endswith(PAGE_SUFFIXES + ARCHIVE_SUFFIXES)


def iter_corpus_files(path: Path) -> list[Path]:
    """The loadable files under ``path`` (or ``[path]`` for a file), sorted.

    Hidden files and folders (".name") are skipped. Symlinked folders are
    followed once: a folder already visited (by its real path) is not entered
    again, so symlink loops terminate.
    """
    if path.is_file():
        return [path] if is_corpus_file(path) else []
    if not path.is_dir():
        return []
    found: list[Path] = []
    seen: set[str] = set()
    for folder, dirnames, filenames in os.walk(path, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            candidate = Path(folder) / name
            if not name.startswith(".") and is_corpus_file(candidate) and candidate.is_file():
                found.append(candidate)
    return sorted(found, key=lambda p: p.relative_to(path).as_posix())


def read_page(path: Path) -> str:
    """Decode a page file; raise :class:`PageDecodeError` for binary or undecodable data."""
    return decode_page(path.read_bytes())


def decode_page(data: bytes) -> str:
    """Decode page bytes: BOM-marked UTF-8/UTF-16, then UTF-8, then GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16")
    if b"\x00" in data:
        raise PageDecodeError("二进制文件（含 NUL 字节）")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode(data, "gb18030")
    if _looks_binary(text):
        raise PageDecodeError("二进制文件（含控制字符）")
    return text


def _decode(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PageDecodeError(f"无法识别的文本编码（{encoding} 解码失败）") from exc
    if "\x00" in text:
        raise PageDecodeError("二进制文件（含 NUL 字节）")
    return text


def _looks_binary(text: str) -> bool:
    """Many control characters mean the bytes were not text, even if they happened to decode."""
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\f\v")
    return controls > max(2, len(text) // 200)


def load_corpus(path: Path) -> IngestReport:
    """Load every page and archive under ``path`` (a file or a folder)."""
    report = IngestReport()
    if not path.exists():
        report.problems.append(IngestProblem(str(path), "路径不存在"))
        return report
    if path.is_file() and not is_corpus_file(path):
        report.problems.append(
            IngestProblem(str(path), "不支持的文件类型，已跳过（支持 .txt、.jsonl、.jsonl.gz）")
        )
        return report
    root = path.parent if path.is_file() else path
    for file in iter_corpus_files(path):
        source = file.relative_to(root).as_posix()
        if file.name.lower().endswith(ARCHIVE_SUFFIXES):
            _load_archive(file, source, report)
        else:
            _load_page(file, source, report)
    return report


def _load_page(file: Path, source: str, report: IngestReport) -> None:
    try:
        text = read_page(file)
    except PageDecodeError as exc:
        report.problems.append(IngestProblem(source, f"{exc}，已跳过"))
        return
    except OSError as exc:
        report.problems.append(IngestProblem(source, f"无法读取文件：{exc.strerror or exc}"))
        return
    if not text.strip():
        report.problems.append(IngestProblem(source, "空文件，已跳过"))
        return
    report.files.append(source)
    report.articles.extend(segment_page(text, source))


def archive_stem(name: str) -> str:
    """File name without ``.jsonl`` / ``.jsonl.gz``: "xwlb_articles.jsonl.gz" → "xwlb_articles"."""
    lowered = name.lower()
    for suffix in (".jsonl.gz", ".jsonl"):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def _load_archive(file: Path, source: str, report: IngestReport) -> None:
    stem = archive_stem(file.name)
    articles: list[Article] = []
    problems: list[IngestProblem] = []
    try:
        opener = gzip.open if file.name.lower().endswith(".gz") else open
        with opener(file, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if number == 1:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                if not raw.strip():
                    continue
                article = _parse_record(raw, number, stem, source, problems)
                if article is not None:
                    articles.append(article)
    except (OSError, EOFError, zlib.error) as exc:
        # A truncated or corrupt archive: keep what was read before the damage.
        problems.append(IngestProblem(source, f"文件损坏或无法读取：{exc}"))
    if not articles and not problems:
        problems.append(IngestProblem(source, "空文件，已跳过"))
    report.problems.extend(problems)
    if articles:
        report.files.append(source)
        report.articles.extend(articles)


def _parse_record(
    raw: bytes, number: int, stem: str, source: str, problems: list[IngestProblem]
) -> Article | None:
    """One JSONL line → Article, or None with a problem naming the line."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        problems.append(IngestProblem(source, "不是 UTF-8 编码，已跳过该行", number))
        return None
    except json.JSONDecodeError as exc:
        problems.append(IngestProblem(source, f"JSON 格式错误（{exc.msg}），已跳过该行", number))
        return None
    if not isinstance(record, dict):
        problems.append(IngestProblem(source, "不是 JSON 对象，已跳过该行", number))
        return None
    text, title = record.get("text"), record.get("title", "")
    if not isinstance(text, str) or not text.strip():
        problems.append(IngestProblem(source, "缺少正文（text），已跳过该行", number))
        return None
    if not isinstance(title, str):
        problems.append(IngestProblem(source, "标题（title）不是字符串，已跳过该行", number))
        return None
    raw_date = record.get("date")
    printed = (
        str(raw_date).strip() if isinstance(raw_date, str | int) and not isinstance(raw_date, bool) else ""
    )
    iso = iso_date(printed)
    raw_id = record.get("id")
    article_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id).strip() else f"{stem}#{number}"
    paragraphs = tuple(p.strip() for p in text.splitlines() if p.strip())
    return Article(
        id=article_id,
        source=source,
        title=title.strip(),
        dateline=iso or printed,
        date=iso,
        kind="news",
        paragraphs=paragraphs,
    )


def iso_date(value: str) -> str:
    """ISO date from "20190731" or "2019-07-31" (also 2019/07/31, 2019.07.31); "" if invalid."""
    match = re.fullmatch(r"(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})", value.strip())
    if not match:
        return ""
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return ""
