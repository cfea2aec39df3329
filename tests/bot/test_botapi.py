"""Tests of the fake Bot API server (tests/botapi.py), driven by real PTB objects over HTTP."""

from __future__ import annotations

import asyncio
import html
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, NetworkError, RetryAfter
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.botapi import TEST_TOKEN, FakeBotApi, running_application, validate_telegram_html
from tests.telegram_html import parse_telegram_html

HTML = ParseMode.HTML


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[PtbBot]:
    async with PtbBot(TEST_TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as b:
        yield b


# ------------------------------------------------------------------ HTML validator
@pytest.mark.parametrize(
    "text",
    [
        "纯文本",
        "<b>粗</b><strong>粗</strong><i>斜</i><em>斜</em><u>下</u><ins>下</ins>",
        "<s>删</s><strike>删</strike><del>删</del><tg-spoiler>剧透</tg-spoiler>",
        '<span class="tg-spoiler">剧透</span><a href="https://e.com/?a=1&amp;b=2">链接</a>',
        '<pre><code class="language-python">x = 1 &lt; 2</code></pre><code>&quot;q&quot;</code>',
        "<blockquote>引用</blockquote><blockquote expandable>长引用</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &#20013;&#x6587; &gt; &amp;',
        "<b>粗<i>斜<u>下</u></i></b> <a href='https://x.y'><b>粗链接</b></a>",
        "<B>upper</B> <b >spaced</b > <b>short close</>",
    ],
)
def test_valid_html(text: str) -> None:
    assert validate_telegram_html(text) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a < b", 'Unsupported start tag ""'),
        ("第一行<br>第二行", 'Unsupported start tag "br" at byte offset 9'),
        ("<b>未闭合", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag"),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
        ("<a href=x>y", "Can't find end tag"),
        ("<b x>y</b>", "Expected equal sign"),
        ("AT&T", 'Unescaped "&"'),
        ("&nbsp;", 'Unescaped "&"'),
        ("&lt", 'Unescaped "&"'),
        ("a > b", 'Unescaped ">"'),
        ("<code><b>x</b></code>", "can't be nested"),
        ('<a href="https://a"><a href="https://b">x</a></a>', "can't be nested"),
    ],
)
def test_invalid_html(text: str, fragment: str) -> None:
    error = validate_telegram_html(text)
    assert error is not None and fragment in error, error


def test_lenient_mode_matches_telegram_tolerance() -> None:
    assert validate_telegram_html("AT&T a > b &nbsp;", strict=False) is None
    assert validate_telegram_html("<code><b>x</b></code>", strict=False) is None
    assert validate_telegram_html("a < b", strict=False) is not None


def test_parse_entities_utf16_offsets() -> None:
    plain, entities = parse_telegram_html('😀<b>粗</b><pre><code class="language-py">x</code></pre>')
    assert plain == "😀粗x"
    assert entities == [
        {"type": "bold", "offset": 2, "length": 1},
        {"type": "pre", "offset": 3, "length": 1, "language": "py"},
    ]


# ------------------------------------------------------------------ Bot methods via PTB
@pytest.mark.asyncio
async def test_get_me(api: FakeBotApi, bot: PtbBot) -> None:
    me = await bot.get_me()
    assert (me.username, me.is_bot, me.id) == ("newsqa_test_bot", True, 123456)
    assert me.can_join_groups and me.supports_inline_queries
    assert me.can_read_all_group_messages is False
    assert api.calls[0].method == "getMe"


@pytest.mark.asyncio
async def test_send_message_html(api: FakeBotApi, bot: PtbBot) -> None:
    text = '<b>头条</b> &amp; <a href="https://e.com/?a=1&amp;b=2">来源</a>'
    first = await bot.send_message(42, text, parse_mode=HTML)
    second = await bot.send_message(42, "第二条")
    assert second.message_id > first.message_id
    assert first.text == "头条 & 来源" and first.from_user and first.from_user.is_bot
    assert [e.type for e in first.entities] == ["bold", "text_link"]
    assert first.entities[1].url == "https://e.com/?a=1&b=2"
    assert first.text_html == '<b>头条</b> &amp; <a href="https://e.com/?a=1&b=2">来源</a>'
    (call,) = api.sent("sendMessage", chat_id=42)[:1]
    assert call.params == {"chat_id": 42, "text": text, "parse_mode": "HTML"}
    assert api.messages_in(42) == [text, "第二条"]
    assert api.sent(chat_id=43) == []


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["1 < 2", "<br>", "<b>x", "&nbsp;"])
async def test_send_message_invalid_html(bot: PtbBot, text: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1, text, parse_mode=HTML)
    await bot.send_message(1, text)  # no parse_mode: sent verbatim


@pytest.mark.asyncio
async def test_message_length_limit(bot: PtbBot) -> None:
    await bot.send_message(1, "新" * 4096)
    await bot.send_message(1, "<b>" + "a" * 4096 + "</b>", parse_mode=HTML)  # counted after parsing
    for too_long in ("a" * 4097, "😀" * 2049):  # emoji are 2 UTF-16 code units
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(1, too_long)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1, "<b> </b>", parse_mode=HTML)


@pytest.mark.asyncio
async def test_reply_and_edit(api: FakeBotApi, bot: PtbBot) -> None:
    asked = api.push_message("问题", chat_id=5, user_id=5)["message"]
    reply = await bot.send_message(
        5, "<i>思考中</i>", parse_mode=HTML, reply_parameters=ReplyParameters(asked["message_id"])
    )
    assert reply.reply_to_message and reply.reply_to_message.text == "问题"
    assert api.sent("sendMessage")[0].params["reply_parameters"] == {"message_id": asked["message_id"]}
    with pytest.raises(BadRequest, match=r"(?i)replied not found"):
        await bot.send_message(5, "x", reply_to_message_id=9999)
    edited = await bot.edit_message_text("<b>答案</b>", 5, reply.message_id, parse_mode=HTML)
    assert not isinstance(edited, bool) and edited.text == "答案" and edited.edit_date
    assert api.messages_in(5) == ["<b>答案</b>"]
    assert api.messages_in(5, history=True) == ["<i>思考中</i>", "<b>答案</b>"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>答案</b>", 5, reply.message_id, parse_mode=HTML)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 5, asked["message_id"])  # not the bot's message
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.edit_message_text("<p>x</p>", 5, reply.message_id, parse_mode=HTML)


@pytest.mark.asyncio
async def test_chat_action_commands_chat_and_misc(api: FakeBotApi, bot: PtbBot) -> None:
    assert await bot.send_chat_action(5, ChatAction.TYPING) is True
    with pytest.raises(BadRequest, match=r"(?i)action"):
        await bot.send_chat_action(5, "dancing")
    commands = [BotCommand("start", "开始使用"), BotCommand("ask", "提问")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="en") == ()
    assert await bot.delete_my_commands() and await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start!", "x")])
    api.push_message("hi", chat_id=-1001, chat_type="supergroup")
    chat = await bot.get_chat(-1001)
    assert (chat.type, chat.title) == ("supergroup", "测试群")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat(-777)
    tapped = await bot.send_message(5, "按钮下的消息")
    query = api.push_callback_query("x", chat_id=5, message_id=tapped.message_id)["callback_query"]
    assert await bot.answer_callback_query(query["id"], text="好")  # (more in test_botapi_callbacks.py)
    assert await bot.delete_webhook() and (await bot.get_webhook_info()).url == ""
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    assert api.unknown_methods == ["fooBar"]
    assert ("fooBar", 404, "Not Found: method not found") in api.errors


@pytest.mark.asyncio
async def test_answer_inline_query(api: FakeBotApi, bot: PtbBot) -> None:
    query_id = api.push_inline_query("北京", user_id=9)["inline_query"]["id"]
    (update,) = await bot.get_updates(timeout=0)
    assert update.inline_query and update.inline_query.query == "北京"
    assert update.inline_query.chat_type == "sender"

    def article(text: str) -> InlineQueryResultArticle:
        content = InputTextMessageContent(text, parse_mode=HTML)
        return InlineQueryResultArticle("r1", "标题", content)

    assert await bot.answer_inline_query(query_id, [article("<b>北京</b>新闻")], cache_time=0)
    results = api.sent("answerInlineQuery")[0].params["results"]
    assert results[0]["input_message_content"]["message_text"] == "<b>北京</b>新闻"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.answer_inline_query(query_id, [article("<b>北京")])
    api.push_chosen_inline_result("r1", query="北京", inline_message_id="im1")
    updates = await bot.get_updates(offset=update.update_id + 1, timeout=0)
    assert updates[0].chosen_inline_result and updates[0].chosen_inline_result.result_id == "r1"


@pytest.mark.asyncio
async def test_get_updates_offset_and_long_poll(api: FakeBotApi, bot: PtbBot) -> None:
    api.push_message("/start@newsqa_test_bot 你好", chat_id=-100, chat_type="group", user_id=3)
    api.push_message("@newsqa_test_bot 😀 @someone 在吗", user_id=3)
    api.push_update({"callback_query": {"id": "cb", "from": {"id": 3, "is_bot": False,
                                                            "first_name": "A"}, "chat_instance": "c"}})
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [1, 2, 3]
    cmd, mention = updates[0].message, updates[1].message
    assert cmd and cmd.chat.type == "group" and cmd.from_user and cmd.from_user.id == 3
    assert cmd.parse_entities(["bot_command"]).popitem()[1] == "/start@newsqa_test_bot"
    assert mention and list(mention.parse_entities(["mention"]).values()) == [
        "@newsqa_test_bot", "@someone"]
    assert updates[2].callback_query and updates[2].callback_query.id == "cb"
    assert [u.update_id for u in await bot.get_updates(offset=2, timeout=0)] == [2, 3]
    assert await bot.get_updates(offset=4, timeout=0) == ()
    assert await bot.get_updates(offset=1, timeout=0) == ()  # confirmed updates are forgotten

    # A long poll ends when an update arrives. The poll may last 60 s, so a poll that returned
    # the update at its deadline instead (a missed wake-up) would take a minute, not go unseen
    # on a slow machine; the server also records why each poll ended.
    api.max_poll_timeout = 60.0
    start = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(offset=4, timeout=60))
    await api.wait_for_call("getUpdates", count=2, offset=4, timeout=60)  # the server holds it now
    api.push_message("late")
    (late,) = await poll
    assert late.message and late.message.text == "late"
    assert api.polls[-1].reason == "updates" and api.polls[-1].timeout == 60
    assert time.monotonic() - start < 30  # woken up, not at the deadline (generous for slow CI)
    # … and with none, it holds on for its whole timeout (the server never returns earlier).
    start = time.monotonic()
    assert await bot.get_updates(offset=5, timeout=1) == ()
    assert api.polls[-1].reason == "timeout" and api.polls[-1].held >= 1.0
    assert time.monotonic() - start >= 1.0


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter internals
async def test_failure_injection(api: FakeBotApi, bot: PtbBot) -> None:
    api.fail_method("sendChatAction", error_code=500, times=1)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_chat_action(1, ChatAction.TYPING)
    assert await bot.send_chat_action(1, ChatAction.TYPING)
    api.fail_method("sendMessage", error_code=400, description="Bad Request: chat not found")
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(1, "x")
    api.fail_method("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(1, "x")
    api.fail_method("sendMessage", times=0)
    assert (await bot.send_message(1, "ok")).text == "ok"
    assert [e[1] for e in api.errors] == [500, 400, 400, 429]
    assert len(api.sent("sendMessage")) == 4  # failed calls are recorded too


@pytest.mark.asyncio
async def test_wrong_token_is_rejected(api: FakeBotApi) -> None:
    # PTB does not close its HTTP clients when initialize() fails, so the test owns them.
    requests = [HTTPXRequest() for _ in range(4)]
    try:
        with pytest.raises(InvalidToken, match="rejected"):
            async with PtbBot("999:WRONG", base_url=api.base_url, request=requests[0],
                              get_updates_request=requests[1]):
                pass
        builder = api.application_builder(token="999:WRONG")
        app = builder.request(requests[2]).get_updates_request(requests[3]).build()
        with pytest.raises(InvalidToken):
            await app.initialize()
    finally:
        for request in requests:
            await request.shutdown()
    assert api.unauthorized == ["getMe", "getMe"] and api.calls == []
    assert TEST_TOKEN not in repr(vars(api)) and "999:WRONG" not in repr(vars(api))


def test_raw_http_json_form_and_get(api: FakeBotApi) -> None:
    url = f"{api.base_url}{TEST_TOKEN}"
    with httpx.Client() as client:
        assert client.get(f"{url}/getMe").json()["result"]["username"] == "newsqa_test_bot"
        sent = client.post(f"{url}/sendMessage", json={"chat_id": 8, "text": "json",
                                                      "reply_markup": {"inline_keyboard": []}})
        assert sent.json()["result"]["chat"]["id"] == 8
        form = client.post(f"{url}/sendmessage", data={"chat_id": "8", "text": "123"})
        assert form.json()["result"]["text"] == "123"  # text stays a string
        bad = client.post(f"{api.base_url}1:x/getMe")
        assert (bad.status_code, bad.json()) == (
            401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        unknown = client.post(f"{url}/nope")
        assert (unknown.status_code, unknown.json()["error_code"]) == (404, 404)
    assert [c.params["chat_id"] for c in api.sent("sendMessage")] == [8, 8]


def test_request_abandoned_mid_way_is_dropped_not_an_error(api: FakeBotApi,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """What PTB does when a request task is cancelled (the bot stops "typing…" once its answer is
    ready): the connection closes after the headers, before the whole body. The server drops the
    request, as Telegram would; it used to log aiohttp's "Error handling request … Connection lost"
    ERROR, which failed the tests that assert no errors were logged (seen under CPU load)."""
    caplog.set_level(logging.DEBUG)
    body = b"chat_id=1&action=typing"
    with socket.create_connection(("127.0.0.1", api.port)) as conn:
        conn.sendall(f"POST /bot{TEST_TOKEN}/sendChatAction HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:7])
    deadline = time.monotonic() + 10
    while not api.aborted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.aborted == ["sendChatAction"]
    assert api.sent("sendChatAction") == [] and api.errors == []
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_blocking_wait_for(api: FakeBotApi) -> None:
    url = f"{api.base_url}{TEST_TOKEN}/sendMessage"
    timer = threading.Timer(0.1, lambda: httpx.post(url, data={"chat_id": "3", "text": "hi"}))
    timer.start()
    (call,) = api.wait_for_call("sendMessage", timeout=5, chat_id=3, text=lambda t: "h" in t)
    timer.join()
    assert call.params["text"] == "hi"
    with pytest.raises(AssertionError, match=r"(?s)waiting for 2 sendMessage.*sendMessage \{"):
        api.wait_for_call("sendMessage", count=2, timeout=0.2)


# ------------------------------------------------------------------ full Application
@pytest.mark.asyncio
async def test_application_polling_end_to_end(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        await update.effective_message.reply_text("欢迎使用")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message and update.effective_message.text
        await context.bot.send_chat_action(update.effective_message.chat_id, ChatAction.TYPING)
        await update.effective_message.reply_html(f"<i>{html.escape(update.effective_message.text)}</i>")

    app = api.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    api.push_message("/start", chat_id=7, user_id=7)
    async with running_application(app):
        api.push_message("a<b & c", chat_id=7, user_id=7)
        await api.wait_for_call("sendMessage", count=2, chat_id=7)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2.0
    assert api.messages_in(7) == ["欢迎使用", "<i>a&lt;b &amp; c</i>"]
    assert api.sent("sendChatAction", chat_id=7)[0].params["action"] == "typing"
    assert api.calls[0].method == "getMe" and "deleteWebhook" in {c.method for c in api.calls}
    last = api.calls[-1]  # the updater confirms the processed updates on shutdown
    assert last.method == "getUpdates" and last.params["offset"] == 3
