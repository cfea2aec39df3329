"""Telegram handlers: one small async function per update kind (wiring is in ``bot.telegram.app``).

``NewsQA`` is synchronous and CPU-bound, so every call into it runs in a worker thread
(``asyncio.to_thread``); the event loop keeps serving other chats and inline queries.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.telegram import render
from bot.telegram.callbacks import answer_markup, usage_section
from bot.telegram.conversation import send_clarification
from bot.telegram.state import BotContext

log = logging.getLogger(__name__)

TYPING_EVERY = 4.0  # Telegram shows "typing…" for ~5 s per chat action
try:
    SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database (slim containers): same offset, no DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "CST")
APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试。"


# ----------------------------------------------------------------------------- helpers
@asynccontextmanager
async def typing(bot: Bot, message: Message) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends, refreshed every few seconds.
    The chat action is a nicety: a failure is logged and never stops the answer."""
    thread_id = message.message_thread_id if message.is_topic_message else None

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(message.chat_id, ChatAction.TYPING, message_thread_id=thread_id)
            except TelegramError as exc:
                log.info("sendChatAction failed (ignored): %s", exc)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def reply(message: Message, parts: list[str], *, quote: bool,
                markup: InlineKeyboardMarkup | None = None) -> list[Message]:
    """Send the parts of a reply in order; the first quotes the question if ``quote`` (still
    answering if the question was deleted meanwhile); the last carries ``markup``, under the
    sources it refers to. Returns the messages sent."""
    sent = []
    for n, part in enumerate(parts):
        sent.append(await message.reply_text(part, do_quote=quote and n == 0,
                                             reply_markup=markup if n == len(parts) - 1 else None))
    return sent


async def answer_question(update: Update, context: BotContext, question: str) -> None:
    """Rate-limit, answer in a worker thread while "typing…", reply with answer and sources."""
    message, user = update.effective_message, update.effective_user
    assert message is not None
    state = context.bot_data
    quote = message.chat.type != ChatType.PRIVATE
    key = user.id if user else message.chat_id
    wait = state.limiter.hit(key)
    if wait:
        log.info("rate limited user id %s (%.0f s to wait)", key, wait)
        now = time.monotonic()
        if state.warned.get(key, 0.0) <= now:  # one notice per wait, not one per message
            if len(state.warned) > 1000:
                state.warned = {k: t for k, t in state.warned.items() if t > now}
            state.warned[key] = now + wait
            await message.reply_text(
                f"您提问太快了，请 {math.ceil(wait)} 秒后再试（每人每分钟最多 {state.limiter.limit} 个问题）。",
                do_quote=quote)
        return
    async with typing(context.bot, message):  # follow-ups ("他呢") are resolved first: bot/telegram/conversation.py
        conv = await asyncio.to_thread(state.conversations.respond, state.service, message, question)
        if conv.turn.answer is None:
            await send_clarification(state.conversations, message, conv, quote)
            return
        answer = conv.turn.answer
        markup = await asyncio.to_thread(answer_markup, state, answer, question, key, message.chat.type)
    if state.settings.llm_enabled and answer.found and answer.kind != "invalid" and answer.citations:
        # Imported here so a bot without LLM_* settings never loads openai (docs/generation.md).
        from bot.telegram.generation import llm_config, reply_generated

        async with typing(context.bot, message):
            result, sent = await reply_generated(message, answer, llm_config(state.settings), quote=quote,
                                                 markup=markup)
        state.conversations.remember(conv, sent)
        log.info("answered chat %s user %s: kind=%s generated=%s %d chars in %.0f ms",
                 message.chat_id, user.id if user else None, answer.kind, result.generated,
                 len(question), answer.took_ms)
        return
    parts = render.render_answer(answer)
    state.conversations.remember(conv, await reply(message, parts, quote=quote, markup=markup))
    log.info("answered chat %s user %s: kind=%s found=%s %d chars in %.0f ms, %d part(s)",
             message.chat_id, user.id if user else None, answer.kind, answer.found,
             len(question), answer.took_ms, len(parts))


def addressed_question(message: Message, bot: Bot) -> str | None:
    """In a group: the question if the message mentions the bot or replies to it, else None."""
    text = message.text or ""
    username = (bot.username or "").lower()
    mentioned = False
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (entity.type == MessageEntity.MENTION and username and value.lower() == f"@{username}") or (
                entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id):
            mentioned = True
            text = text.replace(value, " ")
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == bot.id)
    if not (mentioned or to_bot):
        return None
    return text.strip()


# ----------------------------------------------------------------------------- commands
async def start(update: Update, context: BotContext) -> None:
    """/start and /help: what the bot does, with example questions."""
    assert update.effective_message
    await update.effective_message.reply_text(render.help_text(context.bot.username))


async def ask(update: Update, context: BotContext) -> None:
    """/ask 问题 — in any chat; as a reply to a message, /ask alone asks that message's text."""
    message = update.effective_message
    assert message and message.text
    parts = message.text.split(maxsplit=1)
    question = parts[1].strip() if len(parts) > 1 else ""
    replied = message.reply_to_message
    if not question and replied and replied.text and not (replied.from_user and replied.from_user.is_bot):
        question = replied.text.strip()
    if not question:
        await message.reply_text(render.ask_usage(context.bot.username),
                                 do_quote=message.chat.type != ChatType.PRIVATE)
        return
    await answer_question(update, context, question)


async def stats(update: Update, context: BotContext) -> None:
    """/stats — size of the index, model, and when it was built (Beijing time); for admins
    also the usage figures of the last 7 days."""
    assert update.effective_message
    state, user = context.bot_data, update.effective_user
    index = await asyncio.to_thread(lambda: state.service.index)
    m = index.manifest
    built = datetime.fromtimestamp(m.built_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    running = "\n⏳ 正在更新索引…" if state.reindex.running else ""
    usage = ""
    if user is not None and user.id in state.settings.admin_ids:
        usage = await asyncio.to_thread(usage_section, state.feedback)
    await update.effective_message.reply_text(  # fits one message: report questions are shortened
        "<b>索引状态</b>\n"
        f"文章：{len(index.articles)} 篇\n段落：{len(index.chunks)} 个\n"
        f"模型：<code>{render.esc(m.model)}</code>\n最近建立：{built}（北京时间）{running}{usage}")


async def reindex(update: Update, context: BotContext) -> None:
    """/reindex [rebuild] — admins only (numeric user id in ADMIN_IDS); runs in the background."""
    message, user = update.effective_message, update.effective_user
    assert message
    state = context.bot_data
    if user is None or user.id not in state.settings.admin_ids:
        log.warning("refused /reindex from user id %s: not in ADMIN_IDS", user.id if user else None)
        await message.reply_text("抱歉，只有管理员可以更新索引。")
        return
    if state.settings.index_role == "follow":  # a read-only replica never builds
        from bot.follower import READ_ONLY

        log.info("refused /reindex from user id %s: this instance follows the published index", user.id)
        await message.reply_text(READ_ONLY)
        return
    if not state.reindex.try_begin():
        await message.reply_text("索引正在更新中，请等当前任务完成后再试。")
        return
    rebuild = bool(context.args) and context.args[0].lower() in {"rebuild", "full", "全部", "重建"}
    try:
        status = await message.reply_text("⏳ 开始更新索引…")
    except BaseException:
        state.reindex.release()
        raise
    context.application.create_task(
        state.reindex.run(status, rebuild=rebuild, user_id=user.id), update=update, name="reindex")


async def unknown_command(update: Update, context: BotContext) -> None:
    assert update.effective_message
    await update.effective_message.reply_text("没有这个命令。直接发问题即可，或发送 /help 查看用法。")


# ----------------------------------------------------------------------------- messages
async def private_text(update: Update, context: BotContext) -> None:
    """Private chat: any text is a question."""
    assert update.effective_message and update.effective_message.text is not None
    await answer_question(update, context, update.effective_message.text)


async def private_other(update: Update, context: BotContext) -> None:
    """Private chat, not text (photo, sticker…): ask for a text question."""
    assert update.effective_message
    await update.effective_message.reply_text("请用文字提问，例如：" + render.EXAMPLES[0])


async def group_text(update: Update, context: BotContext) -> None:
    """Group: answer @mentions of the bot and replies to its messages; ignore other chatter."""
    message = update.effective_message
    assert message
    question = addressed_question(message, context.bot)
    if question is None:
        return
    if not question:
        await message.reply_text(render.ask_usage(context.bot.username), do_quote=True)
        return
    await answer_question(update, context, question)


# ----------------------------------------------------------------------------- errors
async def on_error(update: object, context: BotContext) -> None:
    """Log the exception (the token is redacted by the logging filter) and apologise if we can."""
    error = context.error
    if isinstance(error, Forbidden | NetworkError) and not isinstance(error, BadRequest):
        log.warning("Telegram error (update %s): %s", getattr(update, "update_id", None), error)
    else:
        log.error("error while handling update %s", getattr(update, "update_id", None), exc_info=error)
    if isinstance(update, Update) and update.effective_message and not isinstance(error, Forbidden):
        try:
            await update.effective_message.reply_text(APOLOGY)
        except TelegramError as exc:
            log.warning("could not send the apology: %s", exc)
