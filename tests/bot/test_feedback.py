"""The feedback store (bot/feedback.py): schema, records, votes, the usage report, user hashing,
and that a SIGKILLed writer leaves a consistent file with every committed row."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, normalise_question
from bot.settings import Settings
from tests.paths import REPO

NOW = 1_750_000_000.0
DAY = 86400


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    s = FeedbackStore(tmp_path / "fb" / "feedback.sqlite3")
    yield s
    s.close()


def test_schema_is_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "feedback.sqlite3"
    s = FeedbackStore(path)
    assert not path.exists()  # constructing opens nothing
    s.record("舟山镇被比作什么", found=True, kind="factoid", user_id=7, chat_type="private")
    s.close()
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "answers", "votes"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]) == 64
    conn.close()


def test_record_stores_question_and_hashed_user(store: FeedbackStore) -> None:
    row = store.record("古山镇在哪", found=False, kind="none", user_id=123456789, chat_type="group", at=NOW)
    conn = sqlite3.connect(store.path)
    stored = conn.execute("SELECT asked_at, question, found, kind, user_hash, chat_type FROM answers "
                          "WHERE id = ?", (row,)).fetchone()
    conn.close()
    assert stored[:4] == (int(NOW), "古山镇在哪", 0, "none") and stored[5] == "group"
    assert stored[4] == store.user_hash(123456789)


@pytest.mark.parametrize("user_id", [1, 7, 42, 1001, 123456789, 7_000_000_000])
def test_user_hash_never_equals_or_contains_the_id(tmp_path: Path, user_id: int) -> None:
    salted = FeedbackStore(tmp_path / "a.sqlite3", salt="pepper")
    other = FeedbackStore(tmp_path / "b.sqlite3", salt="other")
    h = salted.user_hash(user_id)
    assert str(user_id) not in h and h != str(user_id) and len(h) == 32
    assert h == salted.user_hash(user_id) != other.user_hash(user_id)  # stable, and salt-dependent
    assert h != salted.user_hash(user_id + 1)
    salted.close(), other.close()


def test_generated_salt_is_kept_across_reopening(tmp_path: Path) -> None:
    first = FeedbackStore(tmp_path / "f.sqlite3")
    h = first.user_hash(99)
    first.close()
    again = FeedbackStore(tmp_path / "f.sqlite3")
    assert again.user_hash(99) == h
    again.close()


def test_last_vote_wins_per_user(store: FeedbackStore) -> None:
    row = store.record("问题", found=True, kind="factoid", user_id=1, chat_type="supergroup", at=NOW)
    assert store.vote(row, 1, 1) and store.vote(row, 1, -1)  # user 1 changes their mind
    assert store.vote(row, 2, 1)
    assert not store.vote(row + 100, 1, 1)  # no such answer
    with pytest.raises(ValueError):
        store.vote(row, 1, 0)
    report = store.report(now=NOW + 60)
    assert (report.up, report.down) == (1, 1)


def test_report_figures_and_window(store: FeedbackStore) -> None:
    store.record("很久以前的问题", found=False, kind="none", user_id=1, chat_type="private", at=NOW - 30 * DAY)
    found = store.record("朱志杰去过哪些镇", found=True, kind="list", user_id=1, chat_type="private", at=NOW - DAY)
    store.record("😀", found=False, kind="invalid", user_id=2, chat_type="private", at=NOW - DAY)
    for n in range(3):
        store.record("火星上有报社吗", found=False, kind="none", user_id=3 + n, chat_type="private", at=NOW - n)
    store.vote(found, 1, 1)
    report = store.report(days=7, now=NOW)
    assert (report.questions, report.invalid, report.answered) == (5, 1, 1)
    assert report.answer_rate == pytest.approx(0.25)
    assert (report.up, report.down) == (1, 0)
    assert report.top_unanswered == [("火星上有报社吗", 3)]  # invalid input and old questions left out
    data = report.to_json()
    assert json.loads(json.dumps(data, ensure_ascii=False))["top_unanswered"] == [
        {"question": "火星上有报社吗", "count": 3}]
    assert data["answer_rate"] == 0.25 and data["days"] == 7
    lines = report.lines()
    assert "回答率 25%" in lines[0] and "👍 1" in lines[1] and "1. 火星上有报社吗（3 次）" in lines


def test_empty_report(store: FeedbackStore) -> None:
    report = store.report(now=NOW)
    assert (report.questions, report.answer_rate, report.top_unanswered) == (0, None, [])
    assert "回答率 —" in report.lines()[0]


def test_top_unanswered_normalised_and_limited(store: FeedbackStore) -> None:
    for wording in ["舟山镇有多少人？", "舟山镇有多少人", " 舟山镇 有多少人 ?", "舟山镇有多少人！！"]:
        store.record(wording, found=False, kind="none", user_id=1, chat_type="private", at=NOW)
    for n in range(12):
        for _ in range(n % 3 + 1):
            store.record(f"问题{n}号", found=False, kind="none", user_id=1, chat_type="private", at=NOW)
    top = store.report(now=NOW).top_unanswered
    assert len(top) == 10
    assert top[0] == ("舟山镇有多少人！！", 4)  # grouped; shown as last worded
    counts = [n for _, n in top]
    assert counts == sorted(counts, reverse=True)


def test_normalise_question() -> None:
    assert normalise_question(" 舟山镇，被比作什么？ ") == normalise_question("舟山镇被比作什么") == "舟山镇被比作什么"
    assert normalise_question("ＡＢＣ ２０２４") == "abc2024"
    assert normalise_question("？！…") == ""


def test_disabled_settings_create_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.telegram.state import BotState

    monkeypatch.delenv("FEEDBACK_DB")  # (set by tests/bot/conftest.py)
    settings = Settings(_env_file=None, data_dir=tmp_path, feedback_enabled=False)  # type: ignore[call-arg]
    assert settings.resolved_feedback_db == tmp_path / "feedback.sqlite3"
    state = BotState()
    state.attach(settings, service=None)  # type: ignore[arg-type]
    assert state.feedback is None and not any(tmp_path.iterdir())


_WRITER = """
import sys
from pathlib import Path
from bot.feedback import FeedbackStore
store = FeedbackStore(Path(sys.argv[1]), salt="s")
n = 0
while True:
    n += 1
    row = store.record(f"问题 {n} " + "很长的问题" * 50, found=n % 2 == 0, kind="factoid", user_id=n,
                       chat_type="private")
    if n % 3 == 0:
        store.vote(row, n, 1)
    print(row, flush=True)
"""


def test_store_survives_sigkill(tmp_path: Path) -> None:
    """A writer killed mid-way leaves an intact file holding every row it reported committed."""
    path = tmp_path / "killed.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None
    reported: list[int] = []
    deadline = time.monotonic() + 60
    while len(reported) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reported += [int(x) for x in proc.stdout.read().split()]  # printed (so committed) before the kill
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL and len(reported) >= 300
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = {r[0] for r in conn.execute("SELECT id FROM answers")}
    assert set(reported) <= stored and len(stored) - len(reported) <= 1  # at most the in-flight row
    votes = {r[0] for r in conn.execute("SELECT answer_id FROM votes")}
    assert votes <= stored
    conn.close()
