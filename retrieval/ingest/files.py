"""Load a corpus from disk: page text files and article-level JSONL archives.

This is the I/O edge of ingestion. Bad files never stop a load: they are
skipped and reported as :class:`IngestProblem` s (messages in Chinese, since
the CLI shows them to operators), and everything else still loads.

Supported files:

* ``*.txt`` — one extracted newspaper page (UTF-8, UTF-8 with BOM, UTF-16 with
  BOM, else GB18030, which also covers GBK/GB2312), split into articles by
  :func:`retrieval.ingest.segment.segment_page`;
* ``*.jsonl`` / ``*.jsonl.gz`` — one article per line,
  ``{"title", "date", "text"}`` with an optional ``"id"`` (``retrieval.ingest.archives``).

Limits (see docs/reliability.md): a page file larger than :data:`MAX_PAGE_BYTES` is not a
newspaper page (a real one is 5–20 KB) and is skipped unread, with a warning; archives are
streamed line by line, and a line longer than :data:`MAX_RECORD_BYTES` is skipped (with its
line number) without ever being held in memory. Memory therefore stays bounded by the size
of the articles actually loaded, whatever lands in the corpus folder.

Every file is hashed from the very bytes that were parsed (:attr:`IngestReport.hashes`), so an
index records exactly what it contains even if a file changes or disappears while it is read.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.ingest.archives import READ_BLOCK, megabytes, read_archive
from retrieval.ingest.segment import segment_page
from retrieval.models import Article, IngestProblem

PAGE_SUFFIXES = (".txt",)
ARCHIVE_SUFFIXES = (".jsonl", ".jsonl.gz")
MAX_PAGE_BYTES = 2 * 1024 * 1024  # a page is ~10 KB; 2 MiB segments in ~2 s


@dataclass
class IngestReport:
    """What a load produced: the articles, the problems, and the files that were read.

    ``hashes`` maps every file that could be read to the sha256 of the bytes read (also files
    skipped for their content: empty, binary, too large), so a later build can tell whether it
    changed; files that could not be read at all (vanished, no permission) have no entry.
    """

    articles: list[Article] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)


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
    again, so symlink loops terminate. See :func:`scan_corpus` for the reasons
    files were left out.
    """
    return scan_corpus(path)[0]


def scan_corpus(path: Path) -> tuple[list[Path], list[IngestProblem]]:
    """:func:`iter_corpus_files` plus a problem for each corpus-looking name that cannot be
    loaded: a symlink loop or dangling symlink, a folder symlink that leads back to a folder
    already walked, a folder that cannot be listed, a name that is not a regular file (FIFO,
    device). Problem paths are relative to ``path``."""
    if path.is_file():
        return ([path] if is_corpus_file(path) else []), []
    if not path.is_dir():
        return [], []
    found: list[Path] = []
    problems: list[IngestProblem] = []

    def rel(p: Path | str) -> str:
        try:
            return Path(p).relative_to(path).as_posix()
        except ValueError:
            return str(p)

    def walk_error(exc: OSError) -> None:
        problems.append(IngestProblem(rel(exc.filename or path), f"无法读取目录：{exc.strerror or exc}，已跳过"))

    seen: set[str] = set()
    for folder, dirnames, filenames in os.walk(path, followlinks=True, onerror=walk_error):
        real = os.path.realpath(folder)
        if real in seen:
            dirnames[:] = []
            problems.append(IngestProblem(rel(folder), "目录符号链接指向已读取过的目录（重复或循环），已跳过"))
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            candidate = Path(folder) / name
            if name.startswith(".") or not is_corpus_file(candidate):
                continue
            reason = _not_loadable(candidate)
            if reason is None:
                found.append(candidate)
            else:
                problems.append(IngestProblem(rel(candidate), reason))
    found.sort(key=lambda p: p.relative_to(path).as_posix())
    problems.sort(key=lambda p: p.path)
    return found, problems


def _not_loadable(candidate: Path) -> str | None:
    """Why ``candidate`` (a corpus-looking name) cannot be read, or None if it is a regular file."""
    try:
        mode = candidate.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "符号链接形成循环，已跳过"
        if candidate.is_symlink():
            return "符号链接指向的文件不存在，已跳过"
        return f"无法读取文件：{exc.strerror or exc}"
    if not stat.S_ISREG(mode):
        return "不是普通文件（管道或设备），已跳过"
    return None


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


def load_corpus(path: Path, on_file: Callable[[Path], None] | None = None) -> IngestReport:
    """Load every page and archive under ``path`` (a file or a folder).

    ``on_file`` is called with each file just before it is opened (progress, tests).
    """
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
    files, problems = scan_corpus(path)
    report.problems.extend(problems)
    for file in files:
        source = file.relative_to(root).as_posix()
        if on_file is not None:
            on_file(file)
        try:
            if file.name.lower().endswith(ARCHIVE_SUFFIXES):
                articles, problems, report.hashes[source] = read_archive(file, source)
                report.problems.extend(problems)
                if articles:
                    report.files.append(source)
                    report.articles.extend(articles)
            else:
                _load_page(file, source, report)
        except OSError as exc:  # vanished, no permission, I/O error: skip it, keep the rest
            report.problems.append(IngestProblem(source, f"无法读取文件：{exc.strerror or exc}，已跳过"))
    return report


def _read_bounded(file: Path, limit: int) -> tuple[bytes | None, str, int]:
    """(content, sha256, size) of a regular file; content is None if larger than ``limit``
    (then the file is only hashed, block by block, never held in memory)."""
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size <= limit:
            data = fh.read(limit + 1)
            if len(data) <= limit:  # it may have grown since fstat
                digest.update(data)
                return data, digest.hexdigest(), len(data)
            digest.update(data)
            size = len(data)
        while block := fh.read(READ_BLOCK):
            digest.update(block)
            size += len(block)
        return None, digest.hexdigest(), size


def _load_page(file: Path, source: str, report: IngestReport) -> None:
    data, sha, size = _read_bounded(file, MAX_PAGE_BYTES)
    report.hashes[source] = sha
    if data is None:
        report.problems.append(IngestProblem(
            source, f"文件过大（{megabytes(size)}，版面文件上限 {megabytes(MAX_PAGE_BYTES)}），"
                    "不像是一个版面，已跳过；大批文章请用 .jsonl 存档"))
        return
    try:
        text = decode_page(data)
    except PageDecodeError as exc:
        report.problems.append(IngestProblem(source, f"{exc}，已跳过"))
        return
    if not text.strip():
        report.problems.append(IngestProblem(source, "空文件，已跳过"))
        return
    report.files.append(source)
    report.articles.extend(segment_page(text, source))


