"""Two read-only replicas (``INDEX_ROLE=follow``) in webhook mode over one shared index root, each
a real ``newsqa bot`` process (``tests.fake_cli``: the hashing encoder, tests/fakes.py) talking to
tests/botapi.FakeBotApi. The test plays the reverse proxy: it POSTs each update to the replicas in
turn, with the secret token header, as an nginx upstream would.

1. Both replicas registered the same webhook URL and secret, and both answer.
2. A builder (``update_index`` on a changed corpus copy, in this process) publishes a new version
   while questions keep coming: each replica answers from it within 10 s, and every question of
   the whole run gets exactly one proper reply (none fails, none is an apology).
3. A version whose data file is damaged is made ``current``: both replicas refuse it (logged once
   each), keep answering from the version they have, and take the next good version published.
4. ``/reindex`` on a replica refuses (read-only); stopping the replicas never deletes the webhook.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.follower import READ_ONLY
from bot.settings import Settings
from bot.telegram.app import webhook_secret_and_path
from retrieval.index.build import update_index
from retrieval.index.store import current_version
from tests.botapi import TEST_TOKEN, FakeBotApi
from tests.fakes import HashingEncoder
from tests.paths import CORPUS_DIR, REPO

# two bot processes and a builder: ~11 s, run by the full suite (CI), not the quick one
pytestmark = pytest.mark.slow

ADMIN = 4242
SECRET = "replica-shared-secret_42"
WEBHOOK_URL = "https://bot.example.org/newsqa"
PICKUP_LIMIT = 10.0
POLL_SECONDS = 1.0  # the default is 2 s: measured pick-up then was 2.3-2.5 s (docs/scale-out.md)
ASK_EVERY = 0.15
SEED_QUESTION, SEED_FACT = "朱志杰去过哪些镇", "古山镇"
NEW_QUESTION, NEW_FACT = "林海峰参加了哪些活动", "星空音乐节"  # only festival.jsonl names 林海峰
FESTIVAL = {"title": "永康举办首届星空音乐节", "date": "2024-05-01",
            "text": "本报讯 5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。三天里，星空音乐节共吸引"
                    "游客约3.6万人次。音乐节由市文化和广电旅游体育局主办。"}
EXPO = {"title": "五金博览会开幕", "date": "2024-09-26",
        "text": "本报讯 9月26日，第29届中国五金博览会开幕，副市长林海峰出席开幕式并致辞。"}
APOLOGY_MARKERS = ("抱歉，处理您的消息时出了点问题", "出错")


class WebhookBotApi(FakeBotApi):
    """The fake Bot API plus the webhook methods a webhook-mode bot calls."""

    def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        return True


@dataclass
class Replica:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Asked:
    replica: str
    chat_id: int
    question: str
    at: float


@dataclass
class Proxy:
    """Round-robin over the replicas, like an nginx upstream; records every question."""

    replicas: list[Replica]
    path: str
    api: FakeBotApi
    asked: list[Asked] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _turn: int = 0
    _chat: int = 10_000

    async def ask(self, client: httpx.AsyncClient, question: str, *, replica: Replica | None = None,
                  user_id: int | None = None) -> Asked:
        if replica is None:
            replica = self.replicas[self._turn % len(self.replicas)]
            self._turn += 1
        self._chat += 1
        chat_id = user_id or self._chat
        update = self.api.push_message(question, user_id=chat_id, username=f"u{chat_id}")
        asked = Asked(replica.name, chat_id, question, time.monotonic())
        self.asked.append(asked)
        response = await client.post(f"http://127.0.0.1:{replica.port}/{self.path}", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        self.statuses.append(response.status_code)
        return asked

    async def reply(self, asked: Asked, timeout: float = 10.0) -> str:
        await self.api.wait_for_call("sendMessage", chat_id=asked.chat_id, timeout=timeout)
        (text,) = self.api.messages_in(asked.chat_id)
        return text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _publish_damaged(root: Path) -> str:
    """A copy of the current version with one data file altered (its checksum fails), made
    ``current`` with the same atomic symlink swap a build uses. Returns its name."""
    good = current_version(root)
    bad = good.with_name(good.name + "-damaged")
    shutil.copytree(good, bad)
    chunks = bad / "chunks.jsonl"
    chunks.write_bytes(chunks.read_bytes().replace("古山镇".encode(), "古山乡".encode(), 1))
    link = root / ".current.tmp-test"
    link.symlink_to(Path("versions") / bad.name)
    os.replace(link, root / "current")
    return bad.name


def _start_replica(name: str, tmp: Path, api: FakeBotApi, index_root: Path, corpus: Path) -> Replica:
    port = _free_port()
    home = tmp / name
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "INDEX_", "TELEGRAM_", "LLM_"))}
    env.update({
        "PYTHONPATH": str(REPO), "TELEGRAM_BOT_TOKEN": TEST_TOKEN, "BOT_API_BASE_URL": api.base_url,
        "WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_LISTEN": "127.0.0.1", "WEBHOOK_PORT": str(port),
        "WEBHOOK_SECRET": SECRET, "INDEX_ROLE": "follow", "INDEX_DIR": str(index_root),
        "CORPUS_DIR": str(corpus), "DATA_DIR": str(home), "FEEDBACK_DB": str(home / "feedback.sqlite3"),
        "ADMIN_IDS": str(ADMIN), "RATE_LIMIT_PER_MINUTE": "1000", "LOG_LEVEL": "INFO",
        "INDEX_POLL_SECONDS": str(POLL_SECONDS),
    })
    log = home / "stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "tests.fake_cli", "bot"], cwd=home, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    return Replica(name, port, proc, log)


async def _wait_listening(replica: Replica, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.proc.poll() is not None:
            raise AssertionError(f"{replica.name} exited:\n{replica.log_text()[-3000:]}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", replica.port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{replica.name} did not start listening:\n{replica.log_text()[-3000:]}")


def _stop(replica: Replica) -> None:
    if replica.proc.poll() is None:
        replica.proc.send_signal(signal.SIGTERM)
        try:
            replica.proc.wait(10)
        except subprocess.TimeoutExpired:
            replica.proc.kill()
            replica.proc.wait(5)


def _serving_lines(replica: Replica) -> list[str]:
    return re.findall(r"now serving (\S+)", replica.log_text())


async def test_two_followers_serve_new_versions_and_refuse_damaged_ones(tmp_path: Path) -> None:
    started = time.monotonic()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    root = tmp_path / "shared" / "index"
    encoder = HashingEncoder()
    update_index(corpus, root, encoder)  # the builder's first version
    first = current_version(root).name

    with WebhookBotApi() as api:
        replicas = [_start_replica(f"replica{n}", tmp_path, api, root, corpus) for n in (1, 2)]
        try:
            await asyncio.gather(*(_wait_listening(r) for r in replicas))
            ready_at = time.monotonic()
            settings = Settings(_env_file=None, webhook_secret=SECRET)  # type: ignore[call-arg]
            _, path = webhook_secret_and_path(settings)
            proxy = Proxy(replicas, path, api)
            async with httpx.AsyncClient(timeout=10) as client:
                # 1. both registered the same webhook and both answer
                hooks = api.sent("setWebhook")
                assert len(hooks) == 2
                assert {(c.params["url"], c.params["secret_token"]) for c in hooks} == {(f"{WEBHOOK_URL}/{path}", SECRET)}
                for replica in replicas:
                    asked = await proxy.ask(client, SEED_QUESTION, replica=replica)
                    assert SEED_FACT in await proxy.reply(asked)
                    asked = await proxy.ask(client, NEW_QUESTION, replica=replica)
                    assert NEW_FACT not in await proxy.reply(asked)

                # 2. the builder publishes a version with the festival file while questions keep coming
                _write_rows(corpus / "festival.jsonl", [FESTIVAL])
                published: dict[str, float] = {}

                def build() -> None:
                    report = update_index(corpus, root, encoder)
                    published[report.version] = time.monotonic()

                builder = threading.Thread(target=build)
                builder.start()
                pickup: dict[str, float] = {}
                pending: list[Asked] = []
                deadline = time.monotonic() + PICKUP_LIMIT + 5
                while len(pickup) < len(replicas) and time.monotonic() < deadline:
                    pending.append(await proxy.ask(client, NEW_QUESTION))
                    await asyncio.sleep(ASK_EVERY)
                    for asked in [a for a in pending if api.sent("sendMessage", chat_id=a.chat_id)]:
                        pending.remove(asked)
                        if NEW_FACT in await proxy.reply(asked) and published:
                            first_seen = min(published.values())
                            pickup.setdefault(asked.replica, asked.at - first_seen)
                builder.join()
                for asked in pending:
                    await proxy.reply(asked)
                (second,) = published
                assert set(pickup) == {r.name for r in replicas}, f"not picked up by all: {pickup}"
                assert max(pickup.values()) < PICKUP_LIMIT, pickup
                for replica in replicas:
                    assert _serving_lines(replica) == [second], replica.log_text()[-2000:]

                # 3. a damaged version becomes current: refused by both, the old one keeps answering
                damaged = _publish_damaged(root)
                refused = f"refused index version {damaged}"
                deadline = time.monotonic() + PICKUP_LIMIT
                while time.monotonic() < deadline and not all(refused in r.log_text() for r in replicas):
                    asked = await proxy.ask(client, NEW_QUESTION)
                    assert NEW_FACT in await proxy.reply(asked)
                    await asyncio.sleep(ASK_EVERY)
                assert all(refused in r.log_text() for r in replicas)
                for _ in range(4):  # two more polls: still served, and the refusal not logged again
                    asked = await proxy.ask(client, NEW_QUESTION)
                    assert NEW_FACT in await proxy.reply(asked)
                    await asyncio.sleep(POLL_SECONDS / 2)
                for replica in replicas:
                    assert replica.log_text().count(refused) == 1
                    assert "校验和不符" in replica.log_text()

                # ... and the next good version is taken (the builder rebuilds over the damaged one)
                _write_rows(corpus / "expo.jsonl", [EXPO])
                third = update_index(corpus, root, encoder).version
                deadline = time.monotonic() + PICKUP_LIMIT
                while time.monotonic() < deadline and not all(third in _serving_lines(r) for r in replicas):
                    asked = await proxy.ask(client, NEW_QUESTION)
                    assert NEW_FACT in await proxy.reply(asked)
                    await asyncio.sleep(ASK_EVERY)
                assert all(_serving_lines(r) == [second, third] for r in replicas)
                asked = await proxy.ask(client, NEW_QUESTION)
                assert "五金博览会" in await proxy.reply(asked)

                # 4. a replica never builds
                asked = await proxy.ask(client, "/reindex", user_id=ADMIN)
                assert READ_ONLY in await proxy.reply(asked)
        finally:
            for replica in replicas:
                _stop(replica)
        for replica in replicas:
            assert replica.proc.returncode == 0, replica.log_text()[-3000:]

    # every question answered exactly once, by a proper reply; the webhook was never deleted
    assert proxy.statuses and set(proxy.statuses) == {200}
    for asked in proxy.asked:
        (text,) = api.messages_in(asked.chat_id)
        assert not any(marker in text for marker in APOLOGY_MARKERS), text
    assert not api.sent("deleteWebhook")
    assert not api.errors, api.errors
    assert first != second != third
    figures = {"startup_s": round(ready_at - started, 2), "pickup_s": {k: round(v, 2) for k, v in pickup.items()},
               "questions": len(proxy.asked), "total_s": round(time.monotonic() - started, 2)}
    print("replica figures:", json.dumps(figures))
    assert time.monotonic() - started < 60


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INDEX_ROLE", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
