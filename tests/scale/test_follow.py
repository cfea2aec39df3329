"""The follower's watching logic (retrieval/index/follow.py) and the read-only replica's refusals,
in one process with the hashing encoder: new versions are taken, damaged ones refused once and
the old one kept, an ambiguous failure is retried, and nothing swaps half-way."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import bot.runtime
from bot.cli import cli
from bot.follower import READ_ONLY_CLI, WEBHOOK_SECRET_NEEDED
from bot.settings import Settings
from bot.telegram.app import run_bot
from retrieval.index.build import update_index
from retrieval.index.follow import IndexFollower, published_version
from retrieval.index.store import IndexCorruptError, current_version
from retrieval.service import NewsQA
from tests.fakes import HashingEncoder, fake_make_service, fake_service
from tests.paths import CORPUS_DIR

FESTIVAL = {"title": "永康举办首届星空音乐节", "date": "2024-05-01",
            "text": "本报讯 5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。"}
NEW_QUESTION = "林海峰参加了哪些活动"


def _point_current_at(root: Path, version: Path) -> None:
    link = root / ".current.tmp-test"
    link.symlink_to(Path("versions") / version.name)
    os.replace(link, root / "current")


def _damaged_copy(root: Path, name_suffix: str = "-damaged") -> Path:
    good = current_version(root)
    bad = good.with_name(good.name + name_suffix)
    shutil.copytree(good, bad)
    (bad / "articles.jsonl").write_bytes((bad / "articles.jsonl").read_bytes()[:-40])  # truncated
    return bad


@pytest.fixture
def published(tmp_path: Path, copy_fake_index) -> tuple[Path, Path]:
    """A corpus copy and a private copy of the session's index of it (copied, not rebuilt)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    return corpus, copy_fake_index()


def _follower(service: NewsQA) -> IndexFollower:
    service.load()
    assert service.index.path is not None
    return IndexFollower(service.index_root, service.refresh, poll_seconds=0.05, serving=service.index.path.name)


def test_a_new_version_is_loaded_and_swapped_in(published: tuple[Path, Path]) -> None:
    corpus, root = published
    service = fake_service(root)
    follower = _follower(service)
    assert follower.check() is None  # nothing new
    assert not service.ask(NEW_QUESTION).found
    (corpus / "festival.jsonl").write_text(json.dumps(FESTIVAL, ensure_ascii=False) + "\n", encoding="utf-8")
    version = update_index(corpus, root, HashingEncoder()).version
    assert published_version(root) == version
    event = follower.check()
    assert event is not None and event.kind == "loaded" and event.version == version
    assert follower.serving == version and service.index.path is not None and service.index.path.name == version
    assert "星空音乐节" in service.ask(NEW_QUESTION).text
    assert follower.check() is None


def test_a_damaged_version_is_refused_once_and_the_next_good_one_taken(
        published: tuple[Path, Path], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    corpus, root = published
    service = fake_service(root)
    follower = _follower(service)
    old = service.index
    bad = _damaged_copy(root)
    _point_current_at(root, bad)
    event = follower.check()
    assert event is not None and event.kind == "refused" and event.version == bad.name
    assert "校验和不符" in event.error or "缺失" in event.error
    assert service.index is old and follower.serving == old.path.name  # type: ignore[union-attr]
    assert service.ask("朱志杰去过哪些镇").found
    for _ in range(5):  # polled again and again: no retry, no new log line
        assert follower.check() is None
    refusals = [r for r in caplog.records if "refused index version" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelno == logging.ERROR
    # the builder publishes again (rebuilding, since the current version is damaged)
    (corpus / "festival.jsonl").write_text(json.dumps(FESTIVAL, ensure_ascii=False) + "\n", encoding="utf-8")
    good = update_index(corpus, root, HashingEncoder()).version
    event = follower.check()
    assert event is not None and event.kind == "loaded" and follower.serving == good
    assert service.ask(NEW_QUESTION).found


def test_a_partial_version_without_manifest_is_refused(published: tuple[Path, Path]) -> None:
    _, root = published
    service = fake_service(root)
    follower = _follower(service)
    partial = current_version(root).with_name("v-partial")
    partial.mkdir()
    (partial / "chunks.jsonl").write_text("{}\n", encoding="utf-8")
    _point_current_at(root, partial)
    event = follower.check()
    assert event is not None and event.kind == "refused" and "manifest" in event.error
    assert follower.refused.keys() == {"v-partial"}


def test_a_failure_while_current_moves_on_is_retried_not_held_against_a_version(published: tuple[Path, Path]) -> None:
    _, root = published
    service = fake_service(root)
    service.load()
    good = current_version(root)
    bad = _damaged_copy(root)
    _point_current_at(root, bad)

    def load_then_move() -> Path | None:
        try:
            return service.refresh()
        finally:
            _point_current_at(root, good)  # the builder swapped again while we were loading

    follower = IndexFollower(root, load_then_move, serving="v-older")
    assert follower.check() is None and not follower.refused  # ambiguous: look again
    event = follower.check()
    assert event is not None and event.kind == "loaded" and event.version == good.name


def test_the_thread_follows_until_stopped(published: tuple[Path, Path]) -> None:
    corpus, root = published
    service = fake_service(root)
    follower = _follower(service).start()
    try:
        assert follower.running
        (corpus / "festival.jsonl").write_text(json.dumps(FESTIVAL, ensure_ascii=False) + "\n", encoding="utf-8")
        version = update_index(corpus, root, HashingEncoder()).version
        for _ in range(200):
            if follower.serving == version:
                break
            time.sleep(0.05)
        assert follower.serving == version
    finally:
        follower.stop()
    assert not follower.running


def test_newsqa_index_refuses_on_a_follower(published: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, root = published
    monkeypatch.setattr(bot.runtime, "make_service", fake_make_service)
    monkeypatch.setenv("INDEX_ROLE", "follow")
    before = published_version(root)
    result = CliRunner().invoke(cli, ["--corpus", str(corpus), "--index-dir", str(root), "index", "--rebuild"])
    assert result.exit_code == 1
    assert READ_ONLY_CLI in result.output and "构建节点" in result.output
    assert published_version(root) == before
    monkeypatch.setenv("INDEX_ROLE", "build")  # and the default role still builds
    result = CliRunner().invoke(cli, ["--corpus", str(corpus), "--index-dir", str(root), "index"])
    assert result.exit_code == 0, result.output


def test_settings_default_to_a_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INDEX_ROLE", "INDEX_POLL_SECONDS", "EMBEDDING_DEVICE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.index_role, settings.index_poll_seconds, settings.embedding_device) == ("build", 2.0, "auto")
    with pytest.raises(ValueError):
        Settings(_env_file=None, index_role="replica")  # type: ignore[call-arg]


def test_a_webhook_follower_needs_the_shared_secret(published: tuple[Path, Path]) -> None:
    _, root = published
    settings = Settings(_env_file=None, telegram_bot_token="123456:TEST", index_dir=root,  # type: ignore[call-arg]
                        index_role="follow", webhook_url="https://bot.example.org/hook", webhook_secret=None)
    with pytest.raises(ValueError) as excinfo:
        run_bot(settings, fake_make_service(settings))
    assert str(excinfo.value) == WEBHOOK_SECRET_NEEDED


def test_refresh_keeps_the_old_index_when_the_new_one_fails(published: tuple[Path, Path]) -> None:
    _, root = published
    service = fake_service(root)
    service.load()
    old = service.index
    _point_current_at(root, _damaged_copy(root))
    with pytest.raises(IndexCorruptError):
        service.refresh()
    assert service.index is old
