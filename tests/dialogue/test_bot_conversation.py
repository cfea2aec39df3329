"""Follow-ups in the real bot (PTB over HTTP) against FakeBotApi, answering from the hashing
encoder's seed index: list questions answer as with the real model (tests/fakes.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.settings import Settings
from bot.telegram.app import build_application, post_init
from retrieval.service import NewsQA
from tests.botapi import BOT_USERNAME, TEST_TOKEN, FakeBotApi, processed, running_application
from tests.paths import CORPUS_DIR

WAIT = 30.0
FIRST = "朱志杰去过哪些镇"  # → 古山镇, 舟山镇
FOLLOW = "他参加了哪些活动"  # → 朱志杰参加了哪些活动: 古山镇开展“三服务”活动 …
OTHER = "章旭升参加了哪些活动"  # → 永商会客厅活动
WHO = "您问的是哪位？"


@pytest.fixture
def api() -> Any:
    with FakeBotApi() as server:
        yield server


@asynccontextmanager
async def running_bot(api: FakeBotApi, service: NewsQA, **overrides: Any) -> AsyncIterator[Any]:
    values: dict[str, Any] = {"telegram_bot_token": TEST_TOKEN, "bot_api_base_url": api.base_url,
                              "rate_limit_per_minute": 60, "corpus_dir": CORPUS_DIR, "webhook_url": None,
                              "webhook_secret": None, **overrides}
    app = build_application(Settings(_env_file=None, **values), service)  # type: ignore[call-arg]
    async with running_application(app):
        await post_init(app)
        yield app


async def say(api: FakeBotApi, app: Any, text: str, **kw: Any) -> list[str]:
    """Send a message, wait until it is handled, and return the bot's new messages in the chat."""
    chat = kw.get("chat_id") or kw.get("user_id", 1001)
    before = len(api.sent("sendMessage", chat_id=chat))
    update = api.push_message(text, **kw)
    await processed(app, update, timeout=WAIT)
    return [c.params["text"] for c in api.sent("sendMessage", chat_id=chat)[before:]]


def bot_ids(api: FakeBotApi, chat_id: int) -> list[int]:
    with api._lock:
        return sorted(mid for (cid, mid) in api._history if cid == chat_id)


async def test_private_follow_up_resolves_he_and_new_clears(api: FakeBotApi, fake_service: NewsQA) -> None:
    async with running_bot(api, fake_service) as app:
        (cold,) = await say(api, app, FOLLOW, user_id=31)
        assert cold == WHO  # a first message: nobody to refer to, and no random sentence
        assert "古山镇" in (await say(api, app, FIRST, user_id=31))[0]
        (follow,) = await say(api, app, FOLLOW, user_id=31)
        assert "三服务" in follow and "001_4397dc98031408d7.txt" in follow
        assert "new" in [c["command"] for c in next(iter(api.commands.values()))]
        (new,) = await say(api, app, "/new", user_id=31)
        assert "新的对话" in new
        assert await say(api, app, FOLLOW, user_id=31) == [WHO]
        assert await say(api, app, FOLLOW, user_id=32) == [WHO]  # another private chat: its own state
    assert api.errors == []


async def test_expired_state_asks_back(api: FakeBotApi, fake_service: NewsQA) -> None:
    now = [1000.0]
    async with running_bot(api, fake_service, conversation_ttl=600) as app:
        app.bot_data.conversations.clock = lambda: now[0]
        await say(api, app, FIRST, user_id=33)
        now[0] += 599
        assert "三服务" in (await say(api, app, FOLLOW, user_id=33))[0]
        now[0] += 601
        assert await say(api, app, FOLLOW, user_id=33) == [WHO]
    assert api.errors == []


async def test_group_reply_threads_keep_their_own_state(api: FakeBotApi, fake_service: NewsQA) -> None:
    group = -100555
    kw: dict[str, Any] = {"chat_id": group, "chat_type": "supergroup"}
    async with running_bot(api, fake_service) as app:
        await say(api, app, f"@{BOT_USERNAME} {FIRST}", user_id=41, **kw)
        first_answer = bot_ids(api, group)[-1]
        await say(api, app, f"@{BOT_USERNAME} {OTHER}", user_id=42, **kw)
        other_answer = bot_ids(api, group)[-1]
        (a,) = await say(api, app, FOLLOW, user_id=43, reply_to_bot_message_id=first_answer, **kw)
        (b,) = await say(api, app, FOLLOW, user_id=43, reply_to_bot_message_id=other_answer, **kw)
        (fresh,) = await say(api, app, f"@{BOT_USERNAME} {FOLLOW}", user_id=43, **kw)  # a new thread
        # The thread goes on from the follow-up's own answer too: 朱志杰 is still the person.
        (again,) = await say(api, app, "那章旭升呢", user_id=44, reply_to_bot_message_id=bot_ids(api, group)[-3],
                             **kw)
        (cleared,) = await say(api, app, "/new", user_id=43, reply_to_bot_message_id=other_answer, **kw)
        (gone,) = await say(api, app, FOLLOW, user_id=43, reply_to_bot_message_id=other_answer, **kw)
    assert "三服务" in a and "永商会客厅" not in a
    assert "永商会客厅" in b and "三服务" not in b
    assert fresh == WHO
    assert "永商会客厅" in again
    assert "新的对话" in cleared and gone == WHO
    assert api.errors == []


@pytest.mark.slow
async def test_more_after_a_sentence_answer_continues_its_passage(api: FakeBotApi, seed_service: NewsQA) -> None:
    # a factoid answer needs the real model (the hashing encoder declines factoids)
    async with running_bot(api, seed_service) as app:
        (answer,) = await say(api, app, "金台铁路永康段哪天开工的", user_id=35)
        assert "2016年7月1日" in answer
        more = await say(api, app, "还有呢", user_id=35)
        assert more[0].startswith("（续）《") and "金台铁路" in more[0]  # the passage goes on, with its source
        assert answer.startswith("<b>答：</b>") and answer.count("答：") == 1
        assert "2016年7月1日开工建设" not in more[0]  # not the quoted sentence again
    assert api.errors == []


async def test_group_follow_up_answer_has_working_buttons_and_counts_in_stats(api: FakeBotApi,
                                                                              fake_service: NewsQA) -> None:
    """The whole path of a group follow-up over HTTP: a reply to the bot's answer resolves
    against that answer's question; the follow-up's 📄 原文 sends its article, 👍 is
    acknowledged, and an admin's /stats counts both questions and the vote."""
    from bot.telegram.callbacks import VOTE_THANKS

    group, admin = -100777, 4242
    kw: dict[str, Any] = {"chat_id": group, "chat_type": "supergroup"}
    async with running_bot(api, fake_service, admin_ids=frozenset({admin})) as app:
        await say(api, app, f"/ask {FIRST}", user_id=51, **kw)
        (follow,) = await say(api, app, FOLLOW, user_id=52, reply_to_bot_message_id=bot_ids(api, group)[-1], **kw)
        assert "三服务" in follow  # 他 → 朱志杰, the person of the answer replied to
        markup = api.sent("sendMessage", chat_id=group)[-1].params["reply_markup"]["inline_keyboard"]
        articles, votes = markup[0], markup[-1]
        answer_id = bot_ids(api, group)[-1]
        tapped = api.push_callback_query(articles[0]["callback_data"], chat_id=group, message_id=answer_id,
                                         user_id=53)
        await processed(app, tapped, timeout=WAIT)
        article = api.sent("sendMessage", chat_id=group)[-1].params
        assert article["reply_parameters"]["message_id"] == answer_id and ".txt" in article["text"]
        assert article["text"] != follow  # the article itself, not the answer again
        voted = api.push_callback_query(votes[0]["callback_data"], chat_id=group, message_id=answer_id, user_id=53)
        await processed(app, voted, timeout=WAIT)
        assert api.callback_answers[voted["callback_query"]["id"]]["text"] == VOTE_THANKS
        (stats,) = await say(api, app, "/stats", user_id=admin)
    assert "<b>使用情况</b>" in stats and "提问 2 次" in stats and "👍 1" in stats
    assert api.errors == []
