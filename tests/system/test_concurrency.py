"""Load while the index changes: 50 users ask at once while an admin's /reindex runs.

The real bot (PTB over HTTP) against tests/botapi.FakeBotApi. Every question is answered, none
fails, and answers switch to the new index only at the swap: a question that only the newly
added file answers is "not found" when answered before the swap and found after it.

Run twice: with the hashing encoder (tests/fakes.py), asking list questions, which it answers
from the keyword index like the real model; and (``slow``) with the real model, asking factoid
questions, so its ONNX session also serves 50 concurrent questions while the build embeds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from bot.telegram.app import build_application, post_init
from retrieval.index.embedding import EMBED_BATCH_ENV
from retrieval.service import NewsQA
from tests.botapi import FakeBotApi, running_application
from tests.fakes import hold_index_builds
from tests.paths import CORPUS_DIR

CORPUS = CORPUS_DIR
ADMIN = 4242
USERS = 50
WAIT = 45.0
FESTIVAL = {"title": "永康举办首届星空音乐节", "date": "2024-05-01",
            "text": "本报讯 5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。三天里，星空音乐节共吸引"
                    "游客约3.6万人次。音乐节由市文化和广电旅游体育局主办。"}


@dataclass(frozen=True)
class Questions:
    """What the users ask: ``new`` only the festival file answers (its reply then holds
    ``new_fact``); each of ``seed`` (question → expected fragment) is answered from the start."""

    new: str
    new_fact: str
    seed: dict[str, str]


# Real model: factoids, whose answers depend on the vectors.
FACTOIDS = Questions("星空音乐节吸引了多少游客", "3.6万",
                     {"舟山镇是永康的什么": "大水缸", "朱志杰去过哪些镇": "古山镇", "古山镇1-7月规上工业总产值增长了多少": "13.25%"})
# Hashing encoder: list questions (the festival file is the only one naming 林海峰).
LISTS = Questions("林海峰参加了哪些活动", "星空音乐节",
                  {"朱志杰去过哪些镇": "古山镇", "章旭升参加了哪些活动": "永商会客厅", "朱志傑去過哪些鎮": "舟山镇"})
VILLAGES = ["青岭", "白溪", "龙潭", "桃坞", "松岙", "梅垄", "竹坑", "杏坪", "柳湾", "枫岭", "荷塘", "菱湖", "桂溪",
            "樟坞", "栗坪", "芝岙", "兰坑", "蒲塘", "苇湾", "藕塘", "茶坪", "麻垄", "棠溪", "榕岭"]


@dataclass(frozen=True)
class Asked:
    question: str
    started: float
    ended: float
    found: bool
    text: str


class Recorder:
    """Wraps ``service.ask`` and ``service.load`` to record when each question ran and when
    the new index was swapped in (thread-safe: questions run in worker threads)."""

    def __init__(self, service: NewsQA) -> None:
        self.asked: list[Asked] = []
        self.swaps: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        ask, load = service.ask, service.load

        def recorded_ask(question: str) -> Any:
            started = time.monotonic()
            answer = ask(question)
            with self._lock:
                self.asked.append(Asked(question, started, time.monotonic(), answer.found, answer.text))
            return answer

        def recorded_load() -> Any:
            started = time.monotonic()
            index = load()
            with self._lock:
                self.swaps.append((started, time.monotonic()))
            return index

        service.ask = recorded_ask  # type: ignore[method-assign]
        service.load = recorded_load  # type: ignore[method-assign]


@asynccontextmanager
async def running_bot(api: FakeBotApi, service: NewsQA, corpus: Path) -> AsyncIterator[Any]:
    settings = Settings(_env_file=None, telegram_bot_token="123456:TEST",  # type: ignore[call-arg]
                        bot_api_base_url=api.base_url, admin_ids=frozenset({ADMIN}), rate_limit_per_minute=60,
                        corpus_dir=corpus, webhook_url=None, webhook_secret=None)
    app = build_application(settings, service)
    async with running_application(app):
        await post_init(app)
        yield app


@pytest.fixture
def api() -> Any:
    with FakeBotApi() as server:
        yield server


# Both variants are slow (~10 s with the hashing encoder): the full suite (CI) runs them.
@pytest.mark.slow
@pytest.mark.parametrize("real", [False, True], ids=["hashing", "real-model"])
async def test_fifty_users_are_answered_while_reindex_runs(
        api: FakeBotApi, tmp_path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, real: bool) -> None:
    caplog.set_level(logging.INFO)
    asked = FACTOIDS if real else LISTS
    new_question, new_fact = asked.new, asked.new_fact
    started = time.monotonic()
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    rows = [FESTIVAL] + [
        {"title": f"{v}村举办第{n + 1}届杨梅采摘节", "date": f"2024-06-{n % 28 + 1:02d}",
         "text": f"本报讯 {v}村第{n + 1}届杨梅采摘节日前开幕，村民合作社共接待游客{300 + 17 * n}人次，"
                 f"销售杨梅{12 + n}吨，带动全村增收{40 + n}万元。"} for n, v in enumerate(VILLAGES)]
    (corpus / "festival.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    monkeypatch.setenv(EMBED_BATCH_ENV, "5")  # 25 new chunks → 5 embedding steps of ≥ 0.6 s
    users = range(2000, 2000 + USERS)

    def half_answered() -> bool:
        return sum(1 for u in users if api.sent("sendMessage", chat_id=u)) >= USERS // 2

    # The build is held back so that it spans the burst of questions on any machine (answers
    # use the service's encoder, unheld): its first batch waits until half the users have their
    # reply, which can only happen if questions are served while the build is in progress, and
    # every batch takes 0.6 s more.
    copy_index = request.getfixturevalue("copy_index" if real else "copy_fake_index")
    service = request.getfixturevalue("service_over" if real else "fake_service_over")(copy_index())
    service.load()
    holds = hold_index_builds(monkeypatch, half_answered, timeout=WAIT, delay=0.6)  # (fixtures built)
    assert not service.ask(new_question).found
    recorder = Recorder(service)
    questions = {u: new_question if u % 2 == 0 else list(asked.seed)[u % 3] for u in users}

    async with running_bot(api, service, corpus) as app:
        app.bot_data.reindex.interval = 0.5
        api.push_message("/reindex", user_id=ADMIN)
        await api.wait_for_call("sendMessage", chat_id=ADMIN, timeout=WAIT)  # "⏳ 开始更新索引…"
        assert app.bot_data.reindex.running
        for user in users:  # all at once
            api.push_message(questions[user], user_id=user, username=f"user{user}")
        await asyncio.gather(*(api.wait_for_call("sendMessage", chat_id=u, timeout=WAIT) for u in users))
        (summary,) = await api.wait_for_call("editMessageText", chat_id=ADMIN, text=lambda t: "✅" in t,
                                             timeout=WAIT)
        late = range(3000, 3010)
        for user in late:
            api.push_message(new_question, user_id=user)
        await asyncio.gather(*(api.wait_for_call("sendMessage", chat_id=u, timeout=WAIT) for u in late))

    # every question answered, exactly once, nothing failed
    assert api.errors == [], api.errors
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for user in users:
        (reply,) = api.messages_in(user)
        if questions[user] == new_question:
            assert new_fact in reply or "没有找到相关报道" in reply, reply[:200]
        else:
            assert asked.seed[questions[user]] in reply, (questions[user], reply[:200])
    # the build really overlapped the questions
    assert [h.gate_opened for h in holds] == [True], "questions were not answered while the build was running"
    summary_at = api.calls.index(summary)
    answered_during = [u for u in users if api.calls.index(api.sent("sendMessage", chat_id=u)[0]) < summary_at]
    assert len(answered_during) >= USERS // 2, f"only {len(answered_during)} answered before the build ended"
    # the switch happens at the swap, not before, and not after
    [(swap_start, swap_end)] = recorder.swaps
    festival = [a for a in recorder.asked if a.question == new_question]
    before = [a for a in festival if a.ended < swap_start]
    after = [a for a in festival if a.started > swap_end]
    assert before, "no question about the new file was answered before the swap"
    assert all(not a.found for a in before), [a.text for a in before if a.found]
    assert after and all(a.found and new_fact in a.text for a in after)
    for user in late:
        assert new_fact in api.messages_in(user)[0] and "festival.jsonl" in api.messages_in(user)[0]
    assert "新增 1" in api.messages_in(ADMIN)[0] and "festival.jsonl" in api.messages_in(ADMIN)[0]
    assert time.monotonic() - started < 60
