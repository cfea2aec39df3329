"""Versioned index directories on disk: write to a temporary folder, swap atomically.

Layout under ``root``::

    root/current            symlink → versions/<id>   (the one readers load)
    root/versions/<id>/     one complete index: manifest.json + data files
    root/.build.lock        held while a build runs

A reader resolves ``current`` once and reads only inside that folder, so a swap
in the middle of a load never mixes two versions. A build killed at any point
leaves at most an unreferenced ``versions/tmp-*`` folder, removed by the next build.

Crash safety, step by step (``scripts/crash_test.py`` kills builds at each of them):
data files and the manifest are fsynced, then their folders, before the folder is renamed
from ``tmp-*`` to ``v-*``; the parent is fsynced, then ``current`` is replaced by a new
symlink with one atomic ``rename`` and the root is fsynced. Old versions are first renamed
to ``tmp-*`` and only then deleted, so a kill in the middle of a deletion never leaves a
half-deleted ``v-*`` folder behind. The build lock is an ``flock``: the kernel releases it
when the holder dies, so no stale lock file ever needs removing by hand.

Set ``NEWSQA_BUILD_TRACE`` to a file name to have each step appended to it as it starts
(used by the crash test to kill a build at a chosen step).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrieval.fs import file_sha256, fsync_dir, fsync_tree, locked, write_atomic

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_KEEP_VERSIONS = 2
TRACE_ENV = "NEWSQA_BUILD_TRACE"


def trace(step: str) -> None:
    """Append ``step`` to the file named by ``$NEWSQA_BUILD_TRACE`` (a no-op when unset)."""
    target = os.environ.get(TRACE_ENV)
    if not target:
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{time.time():.6f} {os.getpid()} {step}\n".encode())
    finally:
        os.close(fd)


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


class Manifest(BaseModel):
    """What an index folder holds. ``files`` maps corpus file → sha256 of its bytes;
    ``checksums`` maps each data file in the folder → sha256, to detect damage.

    Strictly typed (a damaged manifest with ``"dim": "384"`` or ``true`` is refused, not
    coerced); keys written by a newer version are ignored.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    model: str
    dim: int = Field(gt=0)
    files: dict[str, str]
    articles: int = Field(ge=0)
    chunks: int = Field(ge=0)
    built_at: float = Field(default_factory=time.time)
    vector_index: str = "flat"
    format_version: int = FORMAT_VERSION
    checksums: dict[str, str] = Field(default_factory=dict)
    build_seconds: float = 0.0
    mining_version: int = 1  # retrieval.lexicon.mining.MINING_VERSION when built (1: before it was recorded)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse and type-check a manifest; ValueError on anything malformed."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            bad = sorted({".".join(str(part) for part in err["loc"]) or "manifest" for err in exc.errors()})
            raise ValueError("字段类型错误：" + "、".join(bad)) from None


def current_version(root: Path) -> Path:
    """The folder readers should load; raises IndexMissingError if there is none."""
    link = root / "current"
    if not link.is_symlink() and not link.exists():
        raise IndexMissingError(f"在 {root} 没有找到索引。请先运行 `newsqa index`。")
    if not link.is_symlink():
        raise IndexCorruptError(f"索引目录 {root} 的 current 不是指向某个版本的符号链接。{REBUILD_HINT}")
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # dangling, or a symlink loop
        raise IndexCorruptError(
            f"索引目录 {root} 的 current 指向不存在的版本（{os.readlink(link)}）。{REBUILD_HINT}"
        ) from exc
    if not target.is_dir():
        raise IndexCorruptError(f"索引目录 {root} 的 current 指向不存在的版本。{REBUILD_HINT}")
    return target


def read_manifest(version_dir: Path) -> Manifest:
    try:
        return Manifest.from_json((version_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"索引 {version_dir} 缺少 manifest.json。{REBUILD_HINT}") from exc
    except OSError as exc:
        raise IndexCorruptError(
            f"索引 {version_dir} 的 manifest.json 无法读取（{exc.strerror or exc}）。{REBUILD_HINT}") from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise IndexCorruptError(f"索引 {version_dir} 的 manifest.json 已损坏（{exc}）。{REBUILD_HINT}") from exc


def verify_checksums(version_dir: Path, manifest: Manifest, required: Iterable[str] = ()) -> None:
    """Raise IndexCorruptError if any data file is missing, truncated, altered or not listed in
    the manifest, or if one of the ``required`` files is not listed at all."""
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(
            f"索引格式版本为 {manifest.format_version}，当前程序需要 {FORMAT_VERSION}。{REBUILD_HINT}"
        )
    if not manifest.checksums:
        raise IndexCorruptError(f"索引 {version_dir} 的 manifest 没有校验信息。{REBUILD_HINT}")
    for name in required:
        if name not in manifest.checksums:
            raise IndexCorruptError(f"索引的 manifest 没有登记文件 {name}。{REBUILD_HINT}")
    for name, expected in manifest.checksums.items():
        path = version_dir / name
        if not path.is_file():
            raise IndexCorruptError(f"索引文件 {name} 缺失。{REBUILD_HINT}")
        try:
            actual = file_sha256(path)
        except OSError as exc:
            raise IndexCorruptError(f"索引文件 {name} 无法读取（{exc.strerror or exc}）。{REBUILD_HINT}") from exc
        if actual != expected:
            raise IndexCorruptError(f"索引文件 {name} 已损坏（校验和不符）。{REBUILD_HINT}")
    unlisted = sorted(
        p.relative_to(version_dir).as_posix() for p in version_dir.rglob("*")
        if p.is_file() and p.name != MANIFEST and p.relative_to(version_dir).as_posix() not in manifest.checksums
    )
    if unlisted:
        raise IndexCorruptError(f"索引文件 {unlisted[0]} 不在 manifest 中（manifest 与数据不符）。{REBUILD_HINT}")


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Exclusive, non-blocking build lock; released by the OS if the process dies."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        with locked(root / ".build.lock", wait=False):
            yield
    except BlockingIOError as exc:
        raise IndexBusyError("另一个索引任务正在进行，请稍后再试。") from exc


def new_version_dir(root: Path) -> Path:
    """A fresh temporary folder inside ``root/versions`` (same filesystem as the swap)."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    path = versions / f"tmp-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    path.mkdir()
    return path


def commit_version(root: Path, tmp_dir: Path, manifest: Manifest) -> Path:
    """Checksum the data files, write the manifest last, rename and swap ``current``.

    Each step is atomic on POSIX and everything is fsynced before the step that depends on
    it; a crash (or SIGKILL, or power loss) between them leaves either the old or the new
    version current, never a half-written one.
    """
    trace("commit:checksums")
    checksums = {
        p.relative_to(tmp_dir).as_posix(): file_sha256(p)
        for p in sorted(tmp_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    final_manifest = manifest.model_copy(update={"checksums": checksums})
    trace("commit:manifest")
    write_atomic(tmp_dir / MANIFEST, lambda fh: fh.write(final_manifest.to_json().encode("utf-8")))
    trace("commit:fsync")
    fsync_tree(tmp_dir)
    trace("commit:rename")
    final_dir = tmp_dir.with_name("v-" + tmp_dir.name.removeprefix("tmp-"))
    os.rename(tmp_dir, final_dir)
    fsync_dir(final_dir.parent)
    trace("commit:swap")
    link_tmp = root / f".current.tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    link_tmp.symlink_to(Path("versions") / final_dir.name)
    os.replace(link_tmp, root / "current")
    fsync_dir(root)
    trace("commit:done")
    return final_dir


def collect_garbage(root: Path) -> None:
    """Remove leftovers of killed builds and all but the newest finished versions.

    Call it with the build lock held. A version to delete is first renamed to ``tmp-*``
    (atomic), so if this is killed half-way the remains are just another leftover.
    """
    versions = root / "versions"
    if not versions.is_dir():
        return
    trace("gc")
    try:
        current = current_version(root)
    except IndexStoreError:
        current = None
    for tmp in versions.glob("tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    finished = sorted((p for p in versions.glob("v-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    # Compare real paths: ``current`` is resolved, ``root`` may be relative or go through a symlink.
    keep = {p.resolve() for p in finished[-_KEEP_VERSIONS:]}
    if current is not None:
        keep.add(current.resolve())
    for old in finished:
        if old.resolve() not in keep:
            doomed = old.with_name("tmp-gc-" + old.name)
            try:
                os.rename(old, doomed)
            except OSError:
                continue
            shutil.rmtree(doomed, ignore_errors=True)
    for stale in root.glob(".current.tmp-*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    with contextlib.suppress(OSError):
        fsync_dir(versions)
