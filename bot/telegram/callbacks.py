"""The answer's buttons: building its keyboard (recording the answer for feedback on the way)
and one small async handler per kind of button tap (wiring is in ``bot.telegram.app``).

Every tap is answered with ``answerCallbackQuery`` (else the user's client shows a spinner until
it times out), including taps on malformed or outdated buttons, which are also logged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType

from bot.feedback import FeedbackStore
from bot.telegram import render
from bot.telegram.keyboard import answer_keyboard, cited_keys, parse_article_data, parse_vote_data
from bot.telegram.state import BotContext, BotState
from retrieval.models import Answer

log = logging.getLogger(__name__)

STALE_ARTICLE = "该文章已更新或删除，请重新提问。"
BAD_BUTTON = "这个按钮无效或已过期，请重新提问。"
NO_CHAT = "请私聊机器人提问后查看原文。"
VOTE_THANKS = "谢谢反馈！"
VOTE_GONE = "这条回答的记录已不存在，无法评价。"
VOTE_OFF = "反馈功能已关闭。"
VOTE_ELSEWHERE = "这条回答由另一个服务实例记录，本次评价未能计入。"
VOTE_FAILED = "暂时无法记录反馈，请稍后再试。"


def answer_markup(state: BotState, answer: Answer, question: str, user_id: int,
                  chat_type: str) -> InlineKeyboardMarkup | None:
    """Record the answer in the feedback store and build its keyboard (runs in a worker thread).
    A failed write is logged and only costs the vote buttons: the answer is still sent. Invalid
    input ("请输入问题") gets no vote buttons: there is no answer to judge."""
    row: str | None = None
    if state.feedback is not None:
        try:
            number = state.feedback.record(question[: state.settings.max_question_chars], found=answer.found,
                                           kind=answer.kind, user_id=user_id, chat_type=chat_type)
            row = f"{state.feedback.store_id}:{number}"
        except (sqlite3.Error, OSError) as exc:
            log.warning("feedback not recorded (answer sent without vote buttons): %s", exc)
    keys = cited_keys(answer, state.service.index, state.article_keys)
    return answer_keyboard(keys, row if answer.kind != "invalid" else None)


def usage_section(feedback: FeedbackStore | None) -> str:
    """/stats for admins: the last 7 days of questions and votes, as HTML (worker thread)."""
    heading = "\n\n<b>使用情况</b>\n"
    if feedback is None:
        return heading + "未开启记录（FEEDBACK_ENABLED=false）。"
    try:
        lines = feedback.report(days=7).lines()
    except (sqlite3.Error, OSError) as exc:
        log.warning("usage report failed: %s", exc)
        return heading + "暂时无法读取使用记录，请查看日志。"
    return heading + "\n".join(render.esc(line) for line in lines)


async def article_button(update: Update, context: BotContext) -> None:
    """"📄 原文 n": send the cited article's full text into the chat of the answer."""
    query = update.callback_query
    assert query is not None
    state = context.bot_data
    key = parse_article_data(query.data)
    if key is None:
        log.warning("malformed article button %r from user %s", query.data, query.from_user.id)
        await query.answer(BAD_BUTTON, show_alert=True)
        return
    if query.message is None:  # a button on an inline-mode message: no chat we may write to
        await query.answer(NO_CHAT, show_alert=True)
        return
    index = await asyncio.to_thread(lambda: state.service.index)
    article = await asyncio.to_thread(state.article_keys.lookup, index, key)
    chat = query.message.chat
    message = query.message if isinstance(query.message, Message) else None
    thread_id = message.message_thread_id if message and message.is_topic_message else None
    # In a group, the article quotes the answer it belongs to, so readers see which one it is.
    quote = ReplyParameters(message.message_id) if message and chat.type != ChatType.PRIVATE else None
    if article is None:
        log.info("stale article button %s from user %s", key, query.from_user.id)
        await query.answer(STALE_ARTICLE)
        await context.bot.send_message(chat.id, STALE_ARTICLE, message_thread_id=thread_id,
                                       reply_parameters=quote)
        return
    await query.answer()
    parts = render.article_messages(article)
    for n, part in enumerate(parts):
        await context.bot.send_message(chat.id, part, message_thread_id=thread_id,
                                       reply_parameters=quote if n == 0 else None)
    log.info("article %s sent to chat %s for user %s: %d part(s)", article.id, chat.id, query.from_user.id,
             len(parts))


async def vote_button(update: Update, context: BotContext) -> None:
    """👍/👎: store this user's vote on the answer (the last vote wins)."""
    query = update.callback_query
    assert query is not None
    state = context.bot_data
    vote = parse_vote_data(query.data)
    if vote is None:
        log.warning("malformed vote button %r from user %s", query.data, query.from_user.id)
        await query.answer(BAD_BUTTON, show_alert=True)
        return
    if state.feedback is None:
        await query.answer(VOTE_OFF)
        return
    feedback = state.feedback
    try:  # the store id is read from the database too: its errors are a failed vote, not a crash
        if vote.store != await asyncio.to_thread(lambda: feedback.store_id):
            log.info("vote for answer %s of feedback store %s reached another store: not counted",
                     vote.answer_id, vote.store)
            await query.answer(VOTE_ELSEWHERE)
            return
        stored = await asyncio.to_thread(feedback.vote, vote.answer_id, query.from_user.id, vote.vote)
    except (sqlite3.Error, OSError) as exc:
        log.warning("vote not recorded: %s", exc)
        await query.answer(VOTE_FAILED)
        return
    log.info("vote %+d on answer %s: %s", vote.vote, vote.answer_id, "stored" if stored else "no such answer")
    await query.answer(VOTE_THANKS if stored else VOTE_GONE)


async def unknown_button(update: Update, context: BotContext) -> None:
    """Any other callback data (an old bot version's buttons, or forged data): say so, log it."""
    query = update.callback_query
    assert query is not None
    log.warning("unknown button data %r from user %s", query.data, query.from_user.id)
    await query.answer(BAD_BUTTON, show_alert=True)
