"""Versioned index folders on disk (retrieval.index.store): atomic swap, garbage collection,
the build lock, and detection of damaged or unreadable versions. No model needed."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.index.store import (
    FORMAT_VERSION,
    MANIFEST,
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    Manifest,
    build_lock,
    collect_garbage,
    commit_version,
    current_version,
    file_sha256,
    new_version_dir,
    read_manifest,
    verify_checksums,
)

REBUILD = "newsqa index --rebuild"
# collect_garbage keeps the newest versions by folder mtime. Versions committed within one test
# can share an mtime (coarse file system clocks), so _commit stamps each with the next second of
# this clock: "newest" is then the commit order, whatever the file system or the machine's load.
_MTIMES = itertools.count(1_700_000_000)


def _manifest(chunks: int = 2) -> Manifest:
    return Manifest(model="test-model", dim=3, files={"a.txt": "0" * 64}, articles=1, chunks=chunks)


def _commit(root: Path, payload: str = "data", chunks: int = 2) -> Path:
    """One finished version holding two data files (one in a subfolder)."""
    tmp = new_version_dir(root)
    (tmp / "vectors.bin").write_bytes(payload.encode() * 100)
    (tmp / "sub").mkdir()
    (tmp / "sub" / "rows.jsonl").write_text(json.dumps({"payload": payload}) + "\n", encoding="utf-8")
    final = commit_version(root, tmp, _manifest(chunks))
    stamp = next(_MTIMES)
    os.utime(final, (stamp, stamp))
    return final


def _versions(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "versions").iterdir())


# -- commit and swap ---------------------------------------------------------------------------


def test_commit_version_swaps_current_to_new_version(tmp_path: Path) -> None:
    root = tmp_path / "index"
    first = _commit(root, "one")
    assert first.name.startswith("v-")
    assert (root / "current").is_symlink()
    assert current_version(root) == first.resolve()
    # a relative link, so the whole index folder can be moved or copied
    assert not os.readlink(root / "current").startswith("/")

    second = _commit(root, "two")
    assert current_version(root) == second.resolve()
    assert first.is_dir(), "commit alone never deletes a previous version"
    assert not list((root / "versions").glob("tmp-*"))
    assert not list(root.glob(".current.tmp-*"))


def test_commit_writes_manifest_with_checksums_of_every_data_file(tmp_path: Path) -> None:
    root = tmp_path / "index"
    final = _commit(root, "x", chunks=7)
    manifest = read_manifest(final)
    assert manifest.chunks == 7 and manifest.model == "test-model"
    assert manifest.format_version == FORMAT_VERSION
    assert set(manifest.checksums) == {"vectors.bin", "sub/rows.jsonl"}
    for name, digest in manifest.checksums.items():
        assert file_sha256(final / name) == digest
    assert not (final / (MANIFEST + ".tmp")).exists()
    verify_checksums(final, manifest)  # a fresh version verifies


def test_manifest_json_round_trip_ignores_unknown_keys() -> None:
    manifest = _manifest().model_copy(update={"checksums": {"f": "1" * 64}, "build_seconds": 1.5})
    assert Manifest.from_json(manifest.to_json()) == manifest
    data = json.loads(manifest.to_json())
    data["added_by_a_newer_version"] = [1, 2, 3]
    assert Manifest.from_json(json.dumps(data)) == manifest


# -- garbage collection ------------------------------------------------------------------------


def test_collect_garbage_keeps_the_two_newest_versions(tmp_path: Path) -> None:
    root = tmp_path / "index"
    made = [_commit(root, str(n)) for n in range(4)]
    collect_garbage(root)
    assert _versions(root) == sorted(p.name for p in made[-2:])
    assert current_version(root) == made[-1].resolve()


def test_collect_garbage_never_removes_the_current_version(tmp_path: Path) -> None:
    root = tmp_path / "index"
    made = [_commit(root, str(n)) for n in range(3)]
    # roll back: point current at the oldest version
    link = root / "current"
    link.unlink()
    link.symlink_to(Path("versions") / made[0].name)
    collect_garbage(root)
    assert _versions(root) == sorted(p.name for p in made)
    assert current_version(root) == made[0].resolve()
    # once current moves on, the old one goes
    newest = _commit(root, "new")
    collect_garbage(root)
    assert _versions(root) == sorted([made[2].name, newest.name])


def test_collect_garbage_removes_leftovers_of_a_killed_build(tmp_path: Path) -> None:
    root = tmp_path / "index"
    good = _commit(root, "good")
    # what a build killed before commit leaves behind: a half-written tmp folder and link
    leftover = new_version_dir(root)
    (leftover / "vectors.bin").write_bytes(b"\x00" * 10)
    (leftover / "nested").mkdir()
    (leftover / "nested" / "part").write_text("half", encoding="utf-8")
    (root / ".current.tmp-99999").symlink_to(Path("versions") / leftover.name)
    assert current_version(root) == good.resolve(), "an uncommitted build never becomes current"

    collect_garbage(root)
    assert not leftover.exists()
    assert not list(root.glob(".current.tmp-*"))
    assert _versions(root) == [good.name]
    assert current_version(root) == good.resolve()


def test_collect_garbage_on_empty_or_missing_root(tmp_path: Path) -> None:
    collect_garbage(tmp_path / "does-not-exist")
    (tmp_path / "only-versions" / "versions").mkdir(parents=True)
    collect_garbage(tmp_path / "only-versions")


# -- the build lock ----------------------------------------------------------------------------


def test_build_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    root = tmp_path / "index"
    with build_lock(root), pytest.raises(IndexBusyError, match="另一个索引任务"), build_lock(root):
        pass
    with build_lock(root):  # released on exit
        pass


def test_build_lock_released_when_holder_raises(tmp_path: Path) -> None:
    root = tmp_path / "index"
    with pytest.raises(RuntimeError), build_lock(root):
        raise RuntimeError("build failed")
    with build_lock(root):
        pass


def test_build_lock_held_by_another_process_and_freed_when_it_dies(tmp_path: Path) -> None:
    root = tmp_path / "index"
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from retrieval.index.store import build_lock\n"
        "with build_lock(Path(sys.argv[1])):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusyError), build_lock(root):
            pass
    finally:
        proc.kill()  # a killed builder: the OS drops its lock
        proc.wait(timeout=10)
    with build_lock(root):
        pass


# -- damage detection --------------------------------------------------------------------------


def _damage_truncate(folder: Path, manifest: Manifest) -> Manifest:
    path = folder / "vectors.bin"
    path.write_bytes(path.read_bytes()[:-7])
    return manifest


def _damage_alter_byte(folder: Path, manifest: Manifest) -> Manifest:
    path = folder / "sub" / "rows.jsonl"
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    return manifest


def _damage_missing(folder: Path, manifest: Manifest) -> Manifest:
    (folder / "sub" / "rows.jsonl").unlink()
    return manifest


def _damage_format(folder: Path, manifest: Manifest) -> Manifest:
    return manifest.model_copy(update={"format_version": FORMAT_VERSION + 1})


def _damage_no_checksums(folder: Path, manifest: Manifest) -> Manifest:
    return manifest.model_copy(update={"checksums": {}})


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (_damage_truncate, "vectors.bin"),
        (_damage_alter_byte, "sub/rows.jsonl"),
        (_damage_missing, "sub/rows.jsonl"),
        (_damage_format, str(FORMAT_VERSION + 1)),
        (_damage_no_checksums, "校验"),
    ],
    ids=["truncated", "altered-byte", "missing-file", "format-version", "no-checksums"],
)
def test_verify_checksums_detects_damage(tmp_path: Path, damage, expected: str) -> None:
    final = _commit(tmp_path / "index")
    manifest = read_manifest(final)
    verify_checksums(final, manifest)
    damaged = damage(final, manifest)
    with pytest.raises(IndexCorruptError) as info:
        verify_checksums(final, damaged)
    message = str(info.value)
    assert expected in message
    assert REBUILD in message


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[]", b"null", b"42", b'"text"', b'{"model": "m"}', b"\xff\xfe\x00garbage"],
    ids=["broken", "empty", "list", "null", "number", "string", "missing-fields", "not-utf8"],
)
def test_read_manifest_on_garbage_raises_corrupt_with_rebuild_hint(tmp_path: Path, content: bytes) -> None:
    final = _commit(tmp_path / "index")
    (final / MANIFEST).write_bytes(content)
    with pytest.raises(IndexCorruptError) as info:
        read_manifest(final)
    assert REBUILD in str(info.value)
    assert "manifest.json" in str(info.value)


def test_read_manifest_missing_file(tmp_path: Path) -> None:
    final = _commit(tmp_path / "index")
    (final / MANIFEST).unlink()
    with pytest.raises(IndexCorruptError, match=r"manifest\.json") as info:
        read_manifest(final)
    assert REBUILD in str(info.value)


def test_current_version_missing_and_dangling(tmp_path: Path) -> None:
    root = tmp_path / "index"
    with pytest.raises(IndexMissingError) as info:
        current_version(root)
    assert "newsqa index" in str(info.value)

    final = _commit(root)
    shutil.rmtree(final)
    with pytest.raises(IndexCorruptError) as info2:
        current_version(root)
    assert REBUILD in str(info2.value)
