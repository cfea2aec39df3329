"""FakeBotApi's inline keyboards and callback queries behave like Telegram's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from telegram import Bot as PtbBot
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from tests.botapi import TEST_TOKEN, FakeBotApi


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[PtbBot]:
    async with PtbBot(TEST_TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


def markup(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("按钮", callback_data=data)]])


async def test_callback_data_limit_is_64_bytes(api: FakeBotApi, bot: PtbBot) -> None:
    sent = await bot.send_message(5, "有按钮", reply_markup=markup("x" * 64))
    assert api.markup(5, sent.message_id) == {"inline_keyboard": [[{"text": "按钮", "callback_data": "x" * 64}]]}
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(5, "太长", reply_markup=markup("文" * 22))  # 66 bytes in UTF-8
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.edit_message_text("改", chat_id=5, message_id=sent.message_id, reply_markup=markup("y" * 65))
    plain = await bot.send_message(5, "无按钮")
    assert api.markup(5, plain.message_id) is None


async def test_callback_query_is_answered_once(api: FakeBotApi, bot: PtbBot) -> None:
    sent = await bot.send_message(6, "有按钮", reply_markup=markup("a:1"))
    update = api.push_callback_query("a:1", chat_id=6, message_id=sent.message_id, user_id=6)
    query = update["callback_query"]
    assert query["message"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a:1"
    assert await bot.answer_callback_query(query["id"], text="好")
    assert api.callback_answers[query["id"]]["text"] == "好"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("unknown")
    again = api.push_callback_query("a:1", chat_id=6, message_id=sent.message_id)["callback_query"]
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(again["id"], text="长" * 201)
    with pytest.raises(ValueError):
        api.push_callback_query("a:1", chat_id=6, message_id=999_999)
