"""Generated answers end to end: the real bot (PTB over HTTP against FakeBotApi, hashing-encoder
index) with LLM_* pointing at a real local OpenAI-compatible server (tests/fake_llm.py).

A faithful reply is streamed by editing one message at most once a second and ends as the
generated text with the answer's sources; a reply with a fabricated fact ends as the extractive
answer; an HTTP 500 and a timeout end as the extractive answer with a short note."""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.telegram.generation import EDIT_INTERVAL, GENERATED_NOTE, UNAVAILABLE_NOTE
from bot.telegram.render import render_answer
from retrieval.service import NewsQA
from tests.bot.test_bot import TOWNS_QUESTION, WAIT, no_errors_logged, running_bot
from tests.botapi import FakeBotApi
from tests.fake_llm import FakeLLM, Reply
from tests.paths import REPO

FAITHFUL = "据报道，朱志杰去过古山镇[1]和舟山镇[2]两个镇，分别在21日上午和7月31日[1][2]。"
REPLIES = {
    "faithful": Reply(FAITHFUL, pieces=8, gap=0.3),  # ~2.1 s of streaming: two or three edits
    "number": Reply("据报道，朱志杰去过古山镇[1]和舟山镇[2]等5个镇。", pieces=3, gap=0.1),
    "person": Reply("据报道，朱志杰和王建国去过古山镇[1]和舟山镇[2]。", pieces=3, gap=0.1),
    "error": Reply(status=500),
    "timeout": Reply(FAITHFUL, delay=3.0),
}
TIMEOUT = 0.5  # for the failures; a stream may last 3x LLM_TIMEOUT in all, so the faithful one gets more


class TimedBotApi(FakeBotApi):
    """FakeBotApi noting when each message was sent or edited (for the edit-rate check)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, float]] = []
        super().__init__()

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        self.writes.append(("sendMessage", time.monotonic()))
        return super()._m_sendMessage(p)

    def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        self.writes.append(("editMessageText", time.monotonic()))
        return super()._m_editMessageText(p)


@pytest.fixture
def api() -> Iterator[TimedBotApi]:
    with TimedBotApi() as server:
        yield server


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        for model, reply in REPLIES.items():
            server.script(model, reply)
        yield server


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


async def ask(api: TimedBotApi, service: NewsQA, llm: FakeLLM, model: str, user_id: int,
              timeout: float = TIMEOUT) -> list[str]:
    """Ask TOWNS_QUESTION with LLM_MODEL=model; the bot's final message texts in the chat."""
    async with running_bot(api, service, llm_base_url=llm.base_url, llm_model=model, llm_timeout=timeout,
                           llm_api_key="sk-never-logged"):
        api.push_message(TOWNS_QUESTION, user_id=user_id)
        await api.wait_for(lambda c: str(c.params.get("chat_id")) == str(user_id) and "出处" in c.params.get(
            "text", "") and "reply_markup" in c.params, timeout=WAIT, what="the final answer")
    return api.messages_in(user_id)


async def test_faithful_reply_streams_and_ends_generated(api: TimedBotApi, fake_service: NewsQA, llm: FakeLLM,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    (final,) = await ask(api, fake_service, llm, "faithful", user_id=51, timeout=2.0)
    assert GENERATED_NOTE in final and "<b>答：</b>据报道，朱志杰去过古山镇[1]和舟山镇[2]" in final
    assert "<b>出处</b>" in final and "001_4397dc98031408d7.txt" in final
    versions = api.messages_in(51, history=True)
    assert len(versions) >= 3 and versions[0].endswith("▍")  # a first piece, edits, the final text
    assert [m for m, _ in api.writes] == ["sendMessage"] + ["editMessageText"] * (len(versions) - 1)
    times = [t for _, t in api.writes]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= EDIT_INTERVAL - 0.05, gaps  # at most one edit a second
    assert "sk-never-logged" not in caplog.text
    assert llm.requests[-1]["stream"] is True and llm.requests[-1]["messages"][0]["role"] == "system"
    no_errors_logged(caplog)


@pytest.mark.parametrize(("model", "item"), [("number", "number:5"), ("person", "person:王建国")])
async def test_fabricated_reply_ends_as_the_extractive_answer(api: TimedBotApi, fake_service: NewsQA, llm: FakeLLM,
                                                              caplog: pytest.LogCaptureFixture, model: str,
                                                              item: str) -> None:
    (final,) = await ask(api, fake_service, llm, model, user_id=52)
    assert [final] == render_answer(fake_service.ask(TOWNS_QUESTION))
    assert "王建国" not in final and GENERATED_NOTE not in final
    assert any("fact guard" in r.getMessage() and item in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("model", ["error", "timeout"])
async def test_endpoint_failure_ends_as_the_extractive_answer_with_a_note(
        api: TimedBotApi, fake_service: NewsQA, llm: FakeLLM, caplog: pytest.LogCaptureFixture, model: str) -> None:
    started = time.monotonic()
    (final,) = await ask(api, fake_service, llm, model, user_id=53)
    assert time.monotonic() - started < 5
    assert final.startswith(f"<i>（{UNAVAILABLE_NOTE}）</i>")
    extractive = render_answer(fake_service.ask(TOWNS_QUESTION))[0]
    assert final.endswith(extractive)
    assert [m for m, _ in api.writes] == ["sendMessage"]  # nothing was streamed: one message
    assert "sk-never-logged" not in caplog.text
    no_errors_logged(caplog)


async def test_generation_off_is_the_plain_extractive_reply(api: TimedBotApi, fake_service: NewsQA,
                                                            llm: FakeLLM) -> None:
    before = len(llm.requests)
    async with running_bot(api, fake_service):
        api.push_message(TOWNS_QUESTION, user_id=54)
        await api.wait_for_call("sendMessage", chat_id=54, timeout=WAIT)
    assert api.messages_in(54) == render_answer(fake_service.ask(TOWNS_QUESTION))
    assert len(llm.requests) == before


def test_bot_without_llm_settings_never_imports_openai() -> None:
    code = "import sys, bot.telegram.handlers, bot.telegram.app, bot.cli; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
