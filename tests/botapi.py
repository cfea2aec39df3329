"""A real HTTP fake of the Telegram Bot API on 127.0.0.1, for end-to-end tests with PTB.

Usage::

    with FakeBotApi() as api:                     # server thread with its own event loop
        app = api.application_builder().build()   # token, base_url, base_file_url preset
        app.add_handler(...)
        async with running_application(app):
            api.push_message("/start", chat_id=42)
            (call,) = await api.wait_for_call("sendMessage", chat_id=42)
            update = api.push_message("chatter the bot ignores", chat_id=42)
            await processed(app, update)          # handled (or ignored) by every handler

PTB 22 POSTs ``application/x-www-form-urlencoded`` (``multipart/form-data`` when uploading
files): strings verbatim, every other value JSON-encoded. JSON bodies and query strings are
accepted too. The token is kept only as a SHA-256 hash and never logged (access log is off).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from typing import Any, NamedTuple

import pytest
from aiohttp import web
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, TypeHandler

try:
    from tests import telegram_html as _html
except ImportError:  # pragma: no cover - tests/ itself is on sys.path (rootdir-less pytest)
    import telegram_html as _html  # type: ignore[no-redef]

validate_telegram_html = _html.validate_telegram_html  # re-exported for property tests
__all__ = ["TEST_TOKEN", "Call", "FakeBotApi", "Poll", "fake_bot_api", "processed", "running_application",
           "validate_telegram_html"]

TEST_TOKEN = "123456:TEST"
BOT_USERNAME = "newsqa_test_bot"
_STRING_FIELDS = frozenset({  # form fields that are strings, not JSON-encoded values
    "text", "caption", "parse_mode", "action", "inline_query_id", "callback_query_id", "url",
    "inline_message_id", "description", "short_description", "name", "next_offset", "title",
    "switch_pm_text", "switch_pm_parameter", "language_code", "business_connection_id",
    "message_effect_id", "emoji", "query", "question",
})
_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                 "markup are exactly the same as a current content and reply markup of the message")
Params = dict[str, Any]
AnyApp = Application[Any, Any, Any, Any, Any, Any]


class Call(NamedTuple):
    """One request received by the server: ``method, params = call``."""

    method: str
    params: Params


class Poll(NamedTuple):
    """How one getUpdates call ended: ``reason`` is "updates" (there were updates at once, or
    one arrived and woke the poll up), "timeout" (its long-poll time ran out: with no updates,
    or with updates that failed to wake it) or "closing" (the server stopped); ``held`` is how
    long the server held it, in seconds."""

    timeout: float
    held: float
    reason: str


class ApiError(Exception):
    """Makes the current request fail with a Bot API error response."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


async def _read_params(request: web.Request) -> Params:
    """Query string plus form/multipart (files as dicts) or JSON body, decoded like Telegram."""
    raw: Params = dict(request.query)
    if request.content_type == "application/json" and request.can_read_body:
        raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()})
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            raw[key] = value if isinstance(value, str) else {
                "filename": value.filename, "content_type": value.content_type, "data": value.file.read()}
    params: Params = {}
    for key, value in raw.items():
        params[key] = value
        if isinstance(value, str) and key not in _STRING_FIELDS:
            with suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _auto_entities(text: str) -> list[Params]:
    """The bot_command / mention entities Telegram attaches to a typed message."""
    entities, command_end = [], 0
    if m := re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?", text):
        command_end = m.end()
        entities.append({"type": "bot_command", "offset": 0, "length": _html.utf16_len(m.group())})
    for m in re.finditer(r"(?<![\w@])@[A-Za-z0-9_]{5,32}", text):
        if m.start() >= command_end:
            offset = _html.utf16_len(text[: m.start()])
            entities.append({"type": "mention", "offset": offset, "length": m.end() - m.start()})
    return entities


def _user(user_id: int, username: str | None, first_name: str) -> Params:
    user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}
    return {**user, "username": username} if username else user


def _scope(p: Params) -> str:
    return json.dumps([p.get("scope"), p.get("language_code")])


class FakeBotApi:
    """Bot API server on 127.0.0.1 in a background thread; every test control is thread-safe."""

    def __init__(self, token: str = TEST_TOKEN, *, max_poll_timeout: float = 2.0) -> None:
        """Create (not start) the server; ``max_poll_timeout`` caps getUpdates long polls."""
        self._token_hash = hashlib.sha256(token.encode()).hexdigest()
        bot_id = token.split(":")[0]
        self.bot_user: Params = {
            "id": int(bot_id) if bot_id.isdigit() else 123456, "is_bot": True,
            "first_name": "NewsQA Test", "username": BOT_USERNAME, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": True,
            "can_connect_to_business": False, "has_main_web_app": False}
        self.max_poll_timeout, self.port = max_poll_timeout, 0
        self.errors: list[tuple[str, int, str]] = []  # (method, error_code, description) answered
        self.unknown_methods: list[str] = []
        self.unauthorized: list[str] = []  # methods called with a wrong token
        self.aborted: list[str] = []  # methods of requests the client gave up on before sending them whole
        self.commands: dict[str, list[Params]] = {}  # by json [scope, language_code]
        self.polls: list[Poll] = []  # how each getUpdates call ended, in order
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._updates: list[Params] = []
        self._next_update_id, self._ids = 1, itertools.count(1)
        self._messages: dict[tuple[Any, Any], Params] = {}  # (chat_id, message_id) -> Message
        self._history: dict[tuple[Any, Any], list[str]] = {}  # bot messages' raw text versions
        self._chats: dict[Any, Params] = {}
        self._open_queries: set[str] = set()  # callback query ids not answered yet
        self.callback_answers: dict[str, Params] = {}  # callback query id -> answerCallbackQuery params
        self._failures: dict[str, list[Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._handlers: dict[str, Callable[[Params], Any]] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("_m_")}

    # ------------------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``base_file_url`` (file downloads are not served)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def application_builder(self, token: str = TEST_TOKEN) -> ApplicationBuilder:
        """An ``ApplicationBuilder`` with ``token`` pointed at this server."""
        return ApplicationBuilder().token(token).base_url(self.base_url).base_file_url(self.base_file_url)

    def start(self) -> FakeBotApi:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(sock, ready), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("FakeBotApi did not start")
        return self

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._wakeup = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        ready.set()
        loop.run_forever()
        self._closing = True  # answer pending long polls, close connections, reap tasks
        self._wakeup.set()
        loop.run_until_complete(runner.cleanup())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(asyncio.sleep(0.01))  # let closed transports release sockets
        loop.close()

    def stop(self) -> None:
        """Stop the server; pending long polls are answered with no updates."""
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ HTTP
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if hashlib.sha256(request.match_info["token"].encode()).hexdigest() != self._token_hash:
            with self._lock:
                self.unauthorized.append(method)
            return self._error(method, ApiError(401, "Unauthorized"))
        method = next((m for m in [*self._handlers, "getUpdates"] if m.lower() == method.lower()), method)
        try:
            params = await _read_params(request)
        except ConnectionError:
            # The client hung up before its request had arrived whole (PTB closes the connection
            # when a request task is cancelled: the bot cancels a "typing…" chat action still in
            # flight once its answer is ready). Telegram drops such a request unanswered; so do
            # we. Letting the exception escape would make aiohttp log a server ERROR
            # ("Error handling request … Connection lost") for ordinary client behaviour.
            with self._lock:
                self.aborted.append(method)
            return web.Response(status=499)  # never sent: the connection is gone
        try:
            with self._cond:
                self._calls.append(Call(method, params))
                self._cond.notify_all()
                if (failure := self._failures.get(method)) is not None:
                    if failure[2] is not None:  # remaining failures
                        failure[2] -= 1
                        if failure[2] <= 0:
                            del self._failures[method]
                    raise ApiError(failure[0], failure[1], failure[3])
                if method in self._handlers:
                    body = json.dumps({"ok": True, "result": self._handlers[method](params)})
                elif method != "getUpdates":
                    self.unknown_methods.append(method)
                    raise ApiError(404, "Not Found: method not found")
            if method == "getUpdates":
                body = json.dumps({"ok": True, "result": await self._get_updates(params)})
            return web.Response(text=body, content_type="application/json")
        except ApiError as exc:
            return self._error(method, exc)

    def _error(self, method: str, exc: ApiError) -> web.Response:
        with self._lock:
            self.errors.append((method, exc.code, exc.description))
        body: Params = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.retry_after is not None:
            body["parameters"] = {"retry_after": exc.retry_after}
        return web.json_response(body, status=exc.code)

    async def _get_updates(self, p: Params) -> list[Params]:
        """Long poll: forget updates below ``offset``, wait up to ``timeout`` s for new ones."""
        assert self._loop and self._wakeup
        offset, limit = int(p.get("offset") or 0), min(max(int(p.get("limit") or 100), 1), 100)
        timeout = min(float(p.get("timeout") or 0), self.max_poll_timeout)
        started = self._loop.time()
        deadline, waited = started + timeout, False
        while True:
            self._wakeup.clear()
            with self._lock:
                if offset:
                    self._updates = self._updates[offset:] if offset < 0 else [
                        u for u in self._updates if u["update_id"] >= offset]
                now = self._loop.time()
                if self._updates or self._closing or now >= deadline:
                    woken = bool(self._updates) and (now < deadline or not waited)
                    reason = "closing" if self._closing else "updates" if woken else "timeout"
                    self.polls.append(Poll(timeout, now - started, reason))
                    return json.loads(json.dumps(self._updates[:limit]))
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), deadline - self._loop.time())
            waited = True

    # ------------------------------------------------------------------------------ methods
    def _chat(self, p: Params) -> Params:
        chat_id = p.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id not in self._chats:  # unknown chats are accepted: private if id > 0
            chat = {"id": chat_id, "type": "private", "first_name": "User"}
            if not (isinstance(chat_id, int) and chat_id > 0):
                chat = {"id": chat_id, "type": "supergroup", "title": "Chat"}
            self._chats[chat_id] = chat
        return self._chats[chat_id]

    @staticmethod
    def _format(p: Params) -> tuple[str, list[Params]]:
        """Apply ``parse_mode``/``entities`` to ``text`` (or ``message_text``) like Telegram."""
        text, mode = p.get("text", p.get("message_text")), str(p.get("parse_mode") or "").lower()
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise ApiError(400, f"Bad Request: unsupported parse_mode {p['parse_mode']!r}")
        plain, entities = text, list(p.get("entities") or [])
        if mode == "html" and "entities" not in p:
            try:
                plain, entities = _html.parse_telegram_html(text)
            except _html.TelegramHtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if _html.utf16_len(plain) > _html.MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return plain, entities

    @staticmethod
    def _markup(p: Params) -> Params | None:
        """``reply_markup`` if it is an inline keyboard, checked like Telegram: rows of buttons,
        each with a text and exactly one action; ``callback_data`` 1–64 bytes."""
        markup = p.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButtons must be "
                                "an array of arrays")
        actions = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                   "callback_game", "pay")
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                    "unallowed in the inline keyboard")
            if sum(a in button for a in actions) != 1:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: exactly one of the "
                                    "optional fields must be used")
            if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup if any(rows) else None

    def _m_sendMessage(self, p: Params) -> Params:
        chat, (text, entities) = self._chat(p), self._format(p)
        markup = self._markup(p)
        msg: Params = {"message_id": next(self._ids), "from": self.bot_user, "chat": chat,
                       "date": int(time.time()), "text": text}
        reply = p.get("reply_parameters") or (
            {"message_id": p["reply_to_message_id"]} if p.get("reply_to_message_id") else None)
        if reply and (target := self._messages.get((reply.get("chat_id", chat["id"]), reply["message_id"]))):
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        elif reply and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        msg.update({"entities": entities} if entities else {})
        if markup:
            msg["reply_markup"] = markup
        self._messages[chat["id"], msg["message_id"]] = msg
        self._history[chat["id"], msg["message_id"]] = [p["text"]]
        return msg

    def _m_editMessageText(self, p: Params) -> Params | bool:
        text, entities = self._format(p)
        markup = self._markup(p)
        if p.get("inline_message_id"):
            return True
        key = (self._chat(p)["id"], p.get("message_id"))
        if (msg := self._messages.get(key)) is None or key not in self._history:
            raise ApiError(400, "Bad Request: message to edit not found")
        if (msg["text"], msg.get("entities", []), msg.get("reply_markup")) == (text, entities, markup):
            raise ApiError(400, _NOT_MODIFIED)
        msg.update(text=text, edit_date=int(time.time()), entities=entities, reply_markup=markup)
        for field in ("entities", "reply_markup"):
            if not msg[field]:
                del msg[field]
        self._history[key].append(p["text"])
        return msg

    def _m_deleteMessage(self, p: Params) -> bool:
        key = (self._chat(p)["id"], p.get("message_id"))
        if self._history.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    def _m_sendChatAction(self, p: Params) -> bool:
        self._chat(p)
        if p.get("action") not in _ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _m_answerInlineQuery(self, p: Params) -> bool:
        results = p.get("results")
        if not p.get("inline_query_id") or not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID or RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(0 < len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID or RESULT_ID_DUPLICATE")
        for result in results:
            if "message_text" in (content := result.get("input_message_content") or {}):
                self._format(content)
        return True

    def _m_getChat(self, p: Params) -> Params:
        if p.get("chat_id") not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)
        return {**self._chat(p), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _m_setMyCommands(self, p: Params) -> bool:
        for c in p.get("commands") or []:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope(p)] = p.get("commands") or []
        return True

    def _m_getMyCommands(self, p: Params) -> list[Params]:
        return self.commands.get(_scope(p), [])

    def _m_deleteMyCommands(self, p: Params) -> bool:
        self.commands.pop(_scope(p), None)
        return True

    def _m_getMe(self, p: Params) -> Params:
        return self.bot_user

    def _m_getWebhookInfo(self, p: Params) -> Params:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _m_deleteWebhook(self, p: Params) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_answerCallbackQuery(self, p: Params) -> bool:
        """Each callback query is answered once; its notification text is at most 200 characters."""
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(400, _QUERY_INVALID)
        if len(str(p.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = p
        return True

    _m_close = _m_logOut = staticmethod(lambda p: True)

    # ------------------------------------------------------------------------------ test controls
    def push_update(self, update: Params) -> Params:
        """Queue a raw Update dict (``update_id`` assigned unless given); returns it."""
        with self._lock:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
            self._updates.append(update)
        if self._loop and self._wakeup:
            self._loop.call_soon_threadsafe(self._wakeup.set)
        return update

    def push_message(
        self, text: str, *, chat_id: int | None = None, chat_type: str = "private", user_id: int = 1001,
        username: str | None = "reader", first_name: str = "读者",
        reply_to_bot_message_id: int | None = None, entities: list[Params] | None = None,
    ) -> Params:
        """Queue a user's text message (bot_command/mention entities added unless ``entities``
        is given; group chats default to a fixed negative id); returns the Update."""
        if chat_type == "private":
            chat = {"id": chat_id or user_id, "type": "private", "first_name": first_name,
                    **({"username": username} if username else {})}
        else:
            default = -1001234567890 if chat_type == "supergroup" else -4001234567
            chat = {"id": chat_id or default, "type": chat_type, "title": "测试群"}
        with self._lock:
            self._chats[chat["id"]] = chat
            msg = {"message_id": next(self._ids), "from": _user(user_id, username, first_name),
                   "chat": chat, "date": int(time.time()), "text": text}
            if entities := _auto_entities(text) if entities is None else entities:
                msg["entities"] = entities
            if reply_to_bot_message_id is not None:
                if (target := self._messages.get((chat["id"], reply_to_bot_message_id))) is None:
                    raise ValueError(f"no message {reply_to_bot_message_id} in chat {chat['id']}")
                msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
            self._messages[chat["id"], msg["message_id"]] = msg
        return self.push_update({"message": msg})

    def push_inline_query(self, query: str, *, user_id: int = 1001, username: str | None = "reader",
                          chat_type: str = "sender", offset: str = "") -> Params:
        """Queue an inline query; its id is ``update["inline_query"]["id"]``."""
        return self.push_update({"inline_query": {
            "id": f"iq{next(self._ids)}", "from": _user(user_id, username, "读者"), "query": query,
            "offset": offset, "chat_type": chat_type}})

    def push_chosen_inline_result(self, result_id: str, *, query: str = "", user_id: int = 1001,
                                  inline_message_id: str | None = None) -> Params:
        """Queue a chosen_inline_result update."""
        result = {"result_id": result_id, "from": _user(user_id, "reader", "读者"), "query": query}
        return self.push_update({"chosen_inline_result": {
            **result, **({"inline_message_id": inline_message_id} if inline_message_id else {})}})

    def push_callback_query(self, data: str, *, chat_id: Any, message_id: int, user_id: int = 1001,
                            username: str | None = "reader") -> Params:
        """Queue a tap on an inline button with ``data`` under the bot's message ``message_id`` in
        ``chat_id``; its id is ``update["callback_query"]["id"]``."""
        with self._lock:
            if (message := self._messages.get((chat_id, message_id))) is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            query_id = str(next(self._ids) * 1_000_003)
            self._open_queries.add(query_id)
            query = {"id": query_id, "from": _user(user_id, username, "读者"), "chat_instance": f"ci{chat_id}",
                     "message": {k: v for k, v in message.items() if k != "reply_to_message"}, "data": data}
        return self.push_update({"callback_query": query})

    def markup(self, chat_id: Any, message_id: int) -> Params | None:
        """The inline keyboard of the bot's message, as last sent or edited (None if it has none)."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return json.loads(json.dumps(message.get("reply_markup"))) if message else None

    def fail_method(self, method: str, error_code: int = 500, description: str | None = None,
                    times: int | None = None, retry_after: int | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail (all if None; ``times=0`` clears)."""
        default = {400: "Bad Request", 403: "Forbidden: bot was blocked by the user",
                   429: f"Too Many Requests: retry after {retry_after}"}
        with self._lock:
            self._failures.pop(method, None)
            if times is None or times > 0:
                description = description or default.get(error_code, "Internal Server Error")
                self._failures[method] = [error_code, description, times, retry_after]

    @property
    def calls(self) -> list[Call]:
        """Snapshot of every request with the right token, in order of arrival."""
        with self._lock:
            return list(self._calls)

    def sent(self, method: str | None = None, chat_id: Any = None) -> list[Call]:
        """Calls (all but getUpdates, or just ``method``) for ``chat_id`` if given, failed ones too."""
        return [c for c in self.calls if (c.method == method if method else c.method != "getUpdates")
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def messages_in(self, chat_id: Any, *, history: bool = False) -> list[str]:
        """Raw texts (as sent, e.g. with HTML) of the bot's messages in ``chat_id`` by message_id,
        edits applied, deleted ones left out; ``history=True``: every sent/edited version."""
        with self._lock:
            versions = [v for (c, _), v in sorted(self._history.items(), key=lambda kv: kv[0][1])
                        if str(c) == str(chat_id)]
        return [t for v in versions for t in v] if history else [v[-1] for v in versions]

    def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0, *, count: int = 1,
                 what: str = "matching calls") -> Any:
        """Wait until ``count`` calls match ``predicate``; returns all matching calls. Inside a
        running event loop it returns an awaitable (``await api.wait_for(...)``), else blocks."""
        def found() -> list[Call]:
            return [c for c in self.calls if predicate(c)]

        def fail(got: list[Call]) -> AssertionError:
            seen = [f"  {c.method} {str(c.params)[:300]}" for c in self.calls if c.method != "getUpdates"]
            return AssertionError(f"timed out after {timeout}s waiting for {count} {what}, got {len(got)}; "
                                  "received (getUpdates omitted):\n" + ("\n".join(seen[-40:]) or "  nothing"))

        async def wait_async() -> list[Call]:
            deadline = time.monotonic() + timeout
            while len(got := found()) < count:
                if time.monotonic() > deadline:
                    raise fail(got)
                await asyncio.sleep(0.01)
            return got

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            with self._cond:
                self._cond.wait_for(lambda: len(found()) >= count, timeout)
            if len(got := found()) < count:
                raise fail(got) from None
            return got
        return wait_async()

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0, **filters: Any) -> Any:
        """``wait_for`` calls of ``method`` whose params match ``filters`` (equal as str, or a
        callable filter returning True for the param value)."""
        def match(c: Call) -> bool:
            return c.method == method and all(
                v(c.params.get(k)) if callable(v) else str(c.params.get(k)) == str(v)
                for k, v in filters.items())
        return self.wait_for(match, timeout, count=count, what=f"{method} {filters or ''}")


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    """A running ``FakeBotApi`` (use via ``pytest_plugins`` or import into a conftest)."""
    with FakeBotApi() as api:
        yield api


# Handler group of the recorder behind ``processed``: after any group an application uses.
_PROCESSED_GROUP = 1_000_000


class _ProcessedRecorder(TypeHandler[Update, Any, None]):
    """Records the id of every update once the application's own handlers are done with it.

    PTB runs an update's handler groups in order and awaits each (blocking) handler before the
    next group, so when this handler, in the last group, sees an update, the handler that took
    it has returned: every reply it meant to send was sent, or it chose to stay silent."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        super().__init__(Update, self._record)

    async def _record(self, update: Update, context: Any) -> None:
        self.ids.add(update.update_id)


async def processed(app: AnyApp, update: Params, timeout: float = 30.0) -> None:
    """Wait until ``app`` (run by :func:`running_application`) has finished handling ``update``
    (as returned by ``push_message`` & co.). Proves that an ignored message was ignored without
    guessing how long the bot might take. Not for handlers with ``block=False`` (not awaited)
    or that raise ``ApplicationHandlerStop`` (later groups, this one included, are skipped)."""
    (recorder,) = app.handlers[_PROCESSED_GROUP]
    assert isinstance(recorder, _ProcessedRecorder)
    deadline = time.monotonic() + timeout
    while update["update_id"] not in recorder.ids:
        if time.monotonic() > deadline:
            raise AssertionError(f"update {update['update_id']} not processed within {timeout}s")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running_application(
    app: AnyApp, *, poll_timeout: int = 1, drop_pending_updates: bool = False
) -> AsyncIterator[AnyApp]:
    """Initialise, start and poll ``app`` (``poll_interval=0``); stop and shut down on exit (fast:
    PTB cancels the in-flight long poll). Adds the recorder that :func:`processed` waits on."""
    app.add_handler(_ProcessedRecorder(), group=_PROCESSED_GROUP)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout,
                                        drop_pending_updates=drop_pending_updates)
        try:
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
