"""Article-level archives: ``*.jsonl`` / ``*.jsonl.gz`` files, one ``{"title", "date", "text"}``
record per line (``"id"`` optional), streamed line by line with bounded memory."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import zlib
from pathlib import Path

from retrieval.models import Article, IngestProblem

MAX_RECORD_BYTES = 1024 * 1024  # one JSONL article line (~300k Chinese characters)
READ_BLOCK = 1 << 20


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class _HashingReader(io.RawIOBase):
    """A raw binary reader that hashes every byte it reads from ``fh``."""

    def __init__(self, fh: io.BufferedIOBase) -> None:
        super().__init__()
        self._fh = fh
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._fh.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> str:
        """Hash the rest of the file and return the digest of all of it."""
        while block := self._fh.read(READ_BLOCK):
            self.digest.update(block)
        return self.digest.hexdigest()


def _bounded_lines(handle: io.BufferedIOBase, limit: int):  # type: ignore[no-untyped-def]
    """(line number, line or None if longer than ``limit``) — long lines are skipped in pieces."""
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := handle.readline(READ_BLOCK)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, raw


def archive_stem(name: str) -> str:
    """File name without ``.jsonl`` / ``.jsonl.gz``: "xwlb_articles.jsonl.gz" → "xwlb_articles"."""
    lowered = name.lower()
    for suffix in (".jsonl.gz", ".jsonl"):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def read_archive(file: Path, source: str) -> tuple[list[Article], list[IngestProblem], str]:
    """The articles of one ``.jsonl``/``.jsonl.gz`` archive, the problems met (bad lines name
    their line number; a damaged file keeps what was read before the damage) and the sha256
    of all its bytes. Lines are streamed, never held beyond MAX_RECORD_BYTES."""
    stem = archive_stem(file.name)
    articles: list[Article] = []
    problems: list[IngestProblem] = []
    with file.open("rb") as fh:
        raw_reader = _HashingReader(fh)
        buffered = io.BufferedReader(raw_reader, READ_BLOCK)
        try:
            handle = gzip.GzipFile(fileobj=buffered, mode="rb") if file.name.lower().endswith(".gz") else buffered
            for number, raw in _bounded_lines(handle, MAX_RECORD_BYTES):
                if raw is None:
                    problems.append(IngestProblem(
                        source, f"这一行超过 {megabytes(MAX_RECORD_BYTES)}，不像是一篇文章，已跳过该行", number))
                    continue
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
        sha = raw_reader.drain()
    if not articles and not problems:
        problems.append(IngestProblem(source, "空文件，已跳过"))
    return articles, problems, sha


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
