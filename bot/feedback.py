"""The feedback store: which questions were asked, whether they were answered, and 👍/👎 votes.

A local SQLite file (stdlib ``sqlite3``) in WAL mode, one short transaction per write. It never
keeps a Telegram user id: users are told apart by a salted hash (:meth:`FeedbackStore.user_hash`),
enough to let a user's last vote win and nothing more.

Durability: ``synchronous=NORMAL``. In WAL mode a transaction is in the log (the OS page cache)
when ``COMMIT`` returns, so a killed process (SIGKILL, OOM) loses nothing it committed and the
file stays consistent; only a power cut may lose the last few commits. That is the right trade
for usage figures: FULL would fsync on every question for data nobody would restore.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sqlite3
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    asked_at INTEGER NOT NULL,          -- unix seconds (UTC)
    question TEXT NOT NULL,
    found INTEGER NOT NULL,
    kind TEXT NOT NULL,
    user_hash TEXT NOT NULL,
    chat_type TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_asked_at ON answers (asked_at);
CREATE TABLE IF NOT EXISTS votes (
    answer_id INTEGER NOT NULL REFERENCES answers (id),
    user_hash TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
"""
TOP_UNANSWERED = 10
# Hash digits are written with the letters a–p (as Chrome writes extension ids), so a stored hash
# has no digit at all and can never equal or contain a numeric user id.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def normalise_question(question: str) -> str:
    """The form questions are grouped by: NFKC (full-width → half-width), lower case, and no
    whitespace, punctuation or symbols, so "舟山镇被比作什么？" and "舟山镇 被比作什么" count as one."""
    text = unicodedata.normalize("NFKC", question).lower()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "S", "C")))


@dataclass(frozen=True)
class UsageReport:
    """Usage over the last ``days`` days: questions, answer rate, votes, top unanswered.

    ``questions`` counts every recorded question; ``invalid`` those that were not questions at
    all (empty, emoji only), which the answer rate leaves out. ``top_unanswered`` holds
    (question as last asked, times asked) for not-found questions, most frequent first."""

    days: int
    since: str
    questions: int
    invalid: int
    answered: int
    up: int
    down: int
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)

    @property
    def answer_rate(self) -> float | None:
        """Answered share of real questions (None when there were none)."""
        asked = self.questions - self.invalid
        return self.answered / asked if asked else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["answer_rate"] = None if self.answer_rate is None else round(self.answer_rate, 4)
        data["top_unanswered"] = [{"question": q, "count": n} for q, n in self.top_unanswered]
        return data

    def lines(self, width: int = 60) -> list[str]:
        """The report as plain Chinese lines (the bot escapes them, the CLI prints them);
        questions longer than ``width`` characters are cut with "…" (ten always fit a message)."""
        rate = "—" if self.answer_rate is None else f"{self.answer_rate:.0%}"
        out = [f"最近 {self.days} 天：提问 {self.questions} 次（无效输入 {self.invalid} 次），"
               f"回答率 {rate}（{self.answered} 次找到答案）",
               f"反馈：👍 {self.up}　👎 {self.down}"]
        if self.top_unanswered:
            out.append("未找到答案最多的问题：")
            out += [f"{n}. {q if len(q) <= width else q[: width - 1] + '…'}（{count} 次）"
                    for n, (q, count) in enumerate(self.top_unanswered, 1)]
        else:
            out.append("没有未找到答案的问题。")
        return out


class FeedbackStore:
    """Records answers and votes in a SQLite file; safe to call from several threads.

    The file and its schema are created on first use, not on construction, so a bot whose
    feedback folder is unwritable still starts and answers (each failed write is logged by the
    caller). ``salt`` (FEEDBACK_SALT) keys the user hash; without one a random salt is made once
    and kept in the ``meta`` table, so hashes stay stable across restarts."""

    def __init__(self, path: Path, salt: str | None = None) -> None:
        self.path = path
        self._salt = salt.encode() if salt else None
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._store_id = ""

    # ------------------------------------------------------------------------------ connection
    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: each write below is one explicit BEGIN IMMEDIATE … COMMIT.
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
                conn.execute("PRAGMA foreign_keys=ON")
                conn.executescript(SCHEMA)
                if self._salt is None:
                    with _transaction(conn):  # two processes may race to create the salt: first wins
                        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)",
                                     (secrets.token_hex(32),))
                    self._salt = conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0].encode()
                # Which database recorded an answer: vote buttons carry it, so a vote that reaches
                # another replica (each has its own file) is never counted on an unrelated row.
                with _transaction(conn):
                    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store', ?)",
                                 (secrets.token_hex(4),))
                self._store_id = conn.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()[0]
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def store_id(self) -> str:
        """8 hex digits naming this database (kept in ``meta``, stable across restarts)."""
        with self._lock:
            self._connect()
        return self._store_id

    def user_hash(self, user_id: int) -> str:
        """HMAC-SHA256 of the user id under the salt, 32 letters (a–p), never the id itself."""
        with self._lock:
            self._connect()
            assert self._salt is not None
            digest = hmac.new(self._salt, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]
        return digest.translate(_LETTERS)

    # ------------------------------------------------------------------------------ writes
    def record(self, question: str, *, found: bool, kind: str, user_id: int, chat_type: str,
               at: float | None = None) -> int:
        """Store one answered question; returns its row id (for the vote buttons)."""
        user = self.user_hash(user_id)
        with self._lock:
            conn = self._connect()
            with _transaction(conn):
                cursor = conn.execute(
                    "INSERT INTO answers (asked_at, question, found, kind, user_hash, chat_type) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (int(time.time() if at is None else at), question, int(found), kind, user, chat_type))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def vote(self, answer_id: int, user_id: int, vote: int, at: float | None = None) -> bool:
        """Set this user's vote (+1/-1) on an answer, replacing an earlier one. False if there is
        no such answer (a button from another database, or a row deleted since)."""
        if vote not in (-1, 1):
            raise ValueError(f"vote must be +1 or -1, got {vote!r}")
        user = self.user_hash(user_id)
        with self._lock:
            conn = self._connect()
            with _transaction(conn):
                if conn.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                    return False
                conn.execute(
                    "INSERT INTO votes (answer_id, user_hash, vote, voted_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (answer_id, user_hash) DO UPDATE SET vote = excluded.vote, "
                    "voted_at = excluded.voted_at",
                    (answer_id, user, vote, int(time.time() if at is None else at)))
            return True

    # ------------------------------------------------------------------------------ report
    def report(self, days: int = 7, now: float | None = None, top: int = TOP_UNANSWERED) -> UsageReport:
        """Figures for questions asked in the last ``days`` days (votes counted on those answers)."""
        now = time.time() if now is None else now
        since = int(now - days * 86400)
        with self._lock:
            conn = self._connect()
            questions, invalid, answered = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(kind = 'invalid'), 0), COALESCE(SUM(found), 0) "
                "FROM answers WHERE asked_at >= ?", (since,)).fetchone()
            up, down = conn.execute(
                "SELECT COALESCE(SUM(v.vote = 1), 0), COALESCE(SUM(v.vote = -1), 0) FROM votes v "
                "JOIN answers a ON a.id = v.answer_id WHERE a.asked_at >= ?", (since,)).fetchone()
            unanswered = conn.execute(
                "SELECT question FROM answers WHERE asked_at >= ? AND found = 0 AND kind != 'invalid' "
                "ORDER BY id", (since,)).fetchall()
        counts: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for (question,) in unanswered:
            key = normalise_question(question)
            if key:
                counts[key] += 1
                shown[key] = " ".join(question.split())  # the latest wording, on one line
        # Ties: the question asked first comes first (Counter keeps insertion order).
        top_list = [(shown[key], n) for key, n in counts.most_common(top)]
        return UsageReport(days=days, since=datetime.fromtimestamp(since, UTC).isoformat(),
                           questions=questions, invalid=invalid, answered=answered, up=up, down=down,
                           top_unanswered=top_list)


class _transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection:
    one write, one transaction, the write lock taken up front so it never deadlocks on upgrade."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
