"""The answer's buttons end to end (PTB over HTTP against FakeBotApi, hashing-encoder index):
"📄 原文 n" sends the article, stale and malformed buttons get clear answers, 👍/👎 are stored,
and /stats shows usage figures to admins only."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.feedback import FeedbackStore
from bot.telegram.callbacks import BAD_BUTTON, STALE_ARTICLE, VOTE_ELSEWHERE, VOTE_THANKS
from bot.telegram.render import MAX_MESSAGE, article_messages, utf16_len
from retrieval.models import Article
from retrieval.service import NewsQA
from tests.bot.test_bot import ADMIN, READER, TOWNS_QUESTION, WAIT, no_errors_logged, running_bot
from tests.botapi import FakeBotApi, processed

UNANSWERED = "火星上有报社吗"  # the hashing encoder finds no answer to a factoid question


@pytest.fixture
def api() -> Any:
    with FakeBotApi() as server:
        yield server


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


async def ask(api: FakeBotApi, question: str, user_id: int, count: int = 1) -> dict[str, Any]:
    """Ask in a private chat; returns the bot's answer message (the part with the keyboard)."""
    api.push_message(question, user_id=user_id)
    calls = await api.wait_for_call("sendMessage", count=count, chat_id=user_id, timeout=WAIT)
    return calls[-1].params


def keyboard(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return params.get("reply_markup", {}).get("inline_keyboard", [])


def last_bot_message_id(api: FakeBotApi, chat_id: int) -> int:
    with api._lock:
        return max(mid for (cid, mid) in api._history if cid == chat_id)


async def tap(api: FakeBotApi, app: Any, data: str, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
    """Tap a button with ``data`` under the bot's last message; returns the answerCallbackQuery."""
    update = api.push_callback_query(data, chat_id=chat_id, message_id=last_bot_message_id(api, chat_id),
                                     user_id=user_id or chat_id)
    await processed(app, update, timeout=WAIT)
    return api.callback_answers[update["callback_query"]["id"]]


async def test_answer_buttons_article_and_votes(api: FakeBotApi, fake_service: NewsQA, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "fb.sqlite3"
    async with running_bot(api, fake_service, feedback_db=db) as app:
        answer = await ask(api, TOWNS_QUESTION, user_id=31)
        articles, votes = keyboard(answer)
        assert [b["text"] for b in articles] == ["📄 原文 1", "📄 原文 2"]
        assert [b["text"] for b in votes] == ["👍", "👎"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in articles + votes)
        reply = await tap(api, app, articles[1]["callback_data"], chat_id=31)
        assert "text" not in reply  # a silent answer: the article itself is the reply
        article_text = api.messages_in(31)[-1]
        assert "001_4397dc98031408d7.txt" in article_text and "舟山镇" in article_text
        row = int(votes[0]["callback_data"].split(":")[3])
        assert (await tap(api, app, votes[0]["callback_data"], chat_id=31))["text"] == VOTE_THANKS
        assert (await tap(api, app, votes[1]["callback_data"], chat_id=31))["text"] == VOTE_THANKS
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT question, found, kind, chat_type FROM answers WHERE id = ?", (row,)).fetchone() == (
        TOWNS_QUESTION, 1, "list", "private")
    assert conn.execute("SELECT vote FROM votes WHERE answer_id = ?", (row,)).fetchall() == [(-1,)]  # last wins
    assert "31" not in conn.execute("SELECT user_hash FROM answers").fetchone()[0]
    conn.close()
    assert api.errors == []
    no_errors_logged(caplog)


async def test_stale_and_malformed_buttons(api: FakeBotApi, fake_service: NewsQA,
                                           caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(api, fake_service) as app:
        await ask(api, TOWNS_QUESTION, user_id=32)
        stale = await tap(api, app, "a:0123456789abcdef", chat_id=32)
        assert stale["text"] == STALE_ARTICLE and api.messages_in(32)[-1] == STALE_ARTICLE
        for data in ["a:XYZ", "v:+:abc", "v:*:1", "v:+:0", "nonsense", "a:" + "f" * 17]:
            reply = await tap(api, app, data, chat_id=32)
            assert reply["text"] == BAD_BUTTON and reply.get("show_alert") is True, data
        store = app.bot_data.feedback.store_id
        assert (await tap(api, app, f"v:+:{store}:999999", chat_id=32))["text"] != VOTE_THANKS  # no such answer
        # a vote recorded by another replica's database is refused, never counted on row 1 here
        other = "0" * 8 if store != "0" * 8 else "1" * 8
        assert (await tap(api, app, f"v:+:{other}:1", chat_id=32))["text"] == VOTE_ELSEWHERE
        assert app.bot_data.feedback.report(days=1).up == 0
    assert len(api.messages_in(32)) == 2  # the answer and the stale notice: nothing else sent
    assert sum("malformed" in r.getMessage() or "unknown button" in r.getMessage() for r in caplog.records) == 6
    assert api.errors == []
    no_errors_logged(caplog)


async def test_stats_usage_for_admins_only(api: FakeBotApi, fake_service: NewsQA) -> None:
    async with running_bot(api, fake_service):
        unanswered = await ask(api, UNANSWERED, user_id=READER)
        assert [b["text"] for (b, *_) in keyboard(unanswered)] == ["👍"]  # votes only: nothing cited
        await ask(api, UNANSWERED + "？", user_id=READER, count=2)
        await ask(api, "/stats", user_id=READER, count=3)
        await ask(api, "/stats", user_id=ADMIN)
    reader_stats, admin_stats = api.messages_in(READER)[-1], api.messages_in(ADMIN)[-1]
    assert "文章：" in reader_stats and "使用情况" not in reader_stats
    assert "文章：" in admin_stats and "<b>使用情况</b>" in admin_stats
    assert "提问 2 次" in admin_stats and "回答率 0%" in admin_stats and "👍 0　👎 0" in admin_stats
    assert f"1. {UNANSWERED}？（2 次）" in admin_stats
    assert api.errors == []


async def test_disabled_feedback_keeps_article_buttons(api: FakeBotApi, fake_service: NewsQA,
                                                       tmp_path: Path) -> None:
    db = tmp_path / "off" / "fb.sqlite3"
    async with running_bot(api, fake_service, feedback_enabled=False, feedback_db=db):
        answer = await ask(api, TOWNS_QUESTION, user_id=33)
        await ask(api, "/stats", user_id=ADMIN)
    (articles,) = keyboard(answer)
    assert [b["text"] for b in articles] == ["📄 原文 1", "📄 原文 2"]
    assert "未开启记录" in api.messages_in(ADMIN)[-1]
    assert not db.parent.exists()


async def test_broken_feedback_db_still_answers(api: FakeBotApi, fake_service: NewsQA, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    async with running_bot(api, fake_service, feedback_db=blocker / "fb.sqlite3"):
        answer = await ask(api, TOWNS_QUESTION, user_id=34)
    assert "古山镇" in answer["text"]
    (articles,) = keyboard(answer)  # article buttons, no vote row
    assert len(articles) == 2
    assert any("feedback not recorded" in r.getMessage() for r in caplog.records)
    no_errors_logged(caplog)


async def test_inline_answers_have_no_buttons(api: FakeBotApi, fake_service: NewsQA) -> None:
    async with running_bot(api, fake_service):
        query = api.push_inline_query(TOWNS_QUESTION, user_id=35)["inline_query"]
        (call,) = await api.wait_for_call("answerInlineQuery", inline_query_id=query["id"], timeout=WAIT)
    assert all("reply_markup" not in r for r in call.params["results"])


async def test_group_article_quotes_the_answer(api: FakeBotApi, fake_service: NewsQA) -> None:
    group = -100555
    async with running_bot(api, fake_service) as app:
        api.push_message(f"/ask {TOWNS_QUESTION}", chat_id=group, chat_type="supergroup", user_id=36)
        (answer,) = await api.wait_for_call("sendMessage", chat_id=group, timeout=WAIT)
        answer_id = last_bot_message_id(api, group)
        await tap(api, app, keyboard(answer.params)[0][0]["callback_data"], chat_id=group, user_id=37)
    article = api.sent("sendMessage", chat_id=group)[-1]
    assert article.params["reply_parameters"]["message_id"] == answer_id
    assert "000_903294924633f08b.txt" in article.params["text"]


def test_long_article_is_split_and_escaped() -> None:
    body = tuple(f"第{n}段：<甲> & 乙。" + "这是一句很长的正文。" * 40 for n in range(30))
    article = Article(id="p#1", source="p.txt", title="标题<b>", subtitle="副题", dateline="7月31日",
                      date="2024-07-31", byline="记者 张三", paragraphs=body)
    parts = article_messages(article)
    assert len(parts) > 1 and all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert parts[0].startswith("<b>标题&lt;b&gt; 副题</b>\n2024-07-31 · 7月31日　记者 张三\n📄 <code>p.txt</code>")
    joined = "".join(parts)
    assert all(f"第{n}段：&lt;甲&gt; &amp; 乙。" in joined for n in range(30))


def test_feedback_store_hash_in_bot_db_is_not_the_id(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "x.sqlite3", salt="from-settings")
    assert store.user_hash(ADMIN) != str(ADMIN) and str(ADMIN) not in store.user_hash(ADMIN)
    store.close()
