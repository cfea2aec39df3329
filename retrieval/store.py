"""Versioned index directories on disk: write to a temporary folder, swap atomically.

Layout under ``root``::

    root/current            symlink → versions/<id>   (the one readers load)
    root/versions/<id>/     one complete index: manifest.json + data files
    root/.build.lock        held while a build runs

A reader resolves ``current`` once and reads only inside that folder, so a swap
in the middle of a load never mixes two versions. A build killed at any point
leaves at most an unreferenced ``versions/tmp-*`` folder, removed by the next build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_KEEP_VERSIONS = 2


class IndexStoreError(Exception):
    """Base for index problems; messages are shown to users as they are."""


class IndexMissingError(IndexStoreError):
    pass


class IndexCorruptError(IndexStoreError):
    pass


class IndexModelMismatchError(IndexStoreError):
    pass


class IndexBusyError(IndexStoreError):
    pass


REBUILD_HINT = "请运行 `newsqa index --rebuild` 重新建立索引。"


@dataclass(frozen=True)
class Manifest:
    """What an index folder holds. ``files`` maps corpus file → sha256 of its bytes;
    ``checksums`` maps each data file in the folder → sha256, to detect damage."""

    model: str
    dim: int
    files: dict[str, str]
    articles: int
    chunks: int
    built_at: float = field(default_factory=time.time)
    vector_index: str = "flat"
    format_version: int = FORMAT_VERSION
    checksums: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def current_version(root: Path) -> Path:
    """The folder readers should load; raises IndexMissingError if there is none."""
    link = root / "current"
    if not link.is_symlink() and not link.exists():
        raise IndexMissingError(f"在 {root} 没有找到索引。请先运行 `newsqa index`。")
    target = link.resolve()
    if not target.is_dir():
        raise IndexCorruptError(f"索引目录 {root} 的 current 指向不存在的版本。{REBUILD_HINT}")
    return target


def read_manifest(version_dir: Path) -> Manifest:
    try:
        return Manifest.from_json((version_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"索引 {version_dir} 缺少 manifest.json。{REBUILD_HINT}") from exc
    except (ValueError, TypeError) as exc:
        raise IndexCorruptError(f"索引 {version_dir} 的 manifest.json 已损坏（{exc}）。{REBUILD_HINT}") from exc


def verify_checksums(version_dir: Path, manifest: Manifest) -> None:
    """Raise IndexCorruptError if any data file is missing, truncated or altered."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"索引格式版本为 {manifest.format_version}，当前程序需要 {FORMAT_VERSION}。{REBUILD_HINT}"
        )
    if not manifest.checksums:
        raise IndexCorruptError(f"索引 {version_dir} 的 manifest 没有校验信息。{REBUILD_HINT}")
    for name, expected in manifest.checksums.items():
        path = version_dir / name
        if not path.is_file():
            raise IndexCorruptError(f"索引文件 {name} 缺失。{REBUILD_HINT}")
        if file_sha256(path) != expected:
            raise IndexCorruptError(f"索引文件 {name} 已损坏（校验和不符）。{REBUILD_HINT}")


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Exclusive, non-blocking build lock; released by the OS if the process dies."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusyError("另一个索引任务正在进行，请稍后再试。") from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def new_version_dir(root: Path) -> Path:
    """A fresh temporary folder inside ``root/versions`` (same filesystem as the swap)."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    path = versions / f"tmp-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    path.mkdir()
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_version(root: Path, tmp_dir: Path, manifest: Manifest) -> Path:
    """Checksum the data files, write the manifest last, rename and swap ``current``.

    Each step is atomic on POSIX; a crash between them leaves either the old or
    the new version current, never a half-written one.
    """
    checksums = {
        p.relative_to(tmp_dir).as_posix(): file_sha256(p)
        for p in sorted(tmp_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    final_manifest = Manifest(**{**asdict(manifest), "checksums": checksums})
    manifest_tmp = tmp_dir / (MANIFEST + ".tmp")
    with manifest_tmp.open("w", encoding="utf-8") as fh:
        fh.write(final_manifest.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(manifest_tmp, tmp_dir / MANIFEST)
    for p in tmp_dir.rglob("*"):
        if p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())
    final_dir = tmp_dir.with_name("v-" + tmp_dir.name.removeprefix("tmp-"))
    os.rename(tmp_dir, final_dir)
    link_tmp = root / f".current.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    link_tmp.symlink_to(Path("versions") / final_dir.name)
    os.replace(link_tmp, root / "current")
    _fsync_dir(root)
    return final_dir


def collect_garbage(root: Path) -> None:
    """Remove leftovers of killed builds and all but the newest finished versions."""
    versions = root / "versions"
    if not versions.is_dir():
        return
    try:
        current = current_version(root)
    except IndexStoreError:
        current = None
    for tmp in versions.glob("tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    finished = sorted((p for p in versions.glob("v-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    keep = set(finished[-_KEEP_VERSIONS:])
    if current is not None:
        keep.add(current)
    for old in finished:
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob(".current.tmp-*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
