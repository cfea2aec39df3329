"""Filesystem primitives for crash-safe writes: locks, staged folders, atomic files, fsync, hashes.

Everything that must never be seen half-written (index versions, checkpoint shards, the
converted model, exported ONNX graphs) is written under a temporary name and renamed into
place; a kill at any moment leaves either the old state or the new one, plus a leftover
temporary that the next writer removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def locked(lock_path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path`` (created if missing) for the block.

    The kernel releases it when the holder dies, so no stale lock ever needs removing by hand.
    With ``wait=False`` a lock held elsewhere raises BlockingIOError at once.
    """
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def staging_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder ``parent/<prefix>XXXX`` (same filesystem as its final place), removed
    on exit; rename what it holds into place before the block ends."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_stale(parent: Path, pattern: str) -> None:
    """Delete leftovers of killed writers matching ``pattern`` in ``parent`` (call with the lock held)."""
    for stale in parent.glob(pattern):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(fh)`` into ``path.tmp``, fsync it, then rename it into
    place: readers see the old file or the complete new one, never a partial write."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def fsync_dir(path: Path) -> None:
    """Make the names in folder ``path`` durable (a rename is not, until its folder is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then every folder bottom-up (names are durable too)."""
    folders = [folder]
    for p in sorted(folder.rglob("*")):
        if p.is_dir():
            folders.append(p)
        elif p.is_file():
            with p.open("rb") as fh:
                os.fsync(fh.fileno())
    for d in reversed(folders):
        fsync_dir(d)


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in ``chunk_size`` blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()
