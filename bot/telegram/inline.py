"""Inline mode (``@bot 问题`` in any chat): the direct answer first, then passages with their
sources. Extractive always (fast, and cacheable by Telegram for every user)."""

from __future__ import annotations

import asyncio
import logging
import math

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.error import BadRequest

from bot.telegram import render
from bot.telegram.state import BotContext
from retrieval.models import Answer, Hit
from retrieval.service import NewsQA

log = logging.getLogger(__name__)

INLINE_PASSAGES = 9
# Inline answers depend only on the query text and the archive, never on who asks, so Telegram
# may serve a cached answer to every user (is_personal=False) for 5 minutes; after a reindex a
# stale answer lives at most that long. Help and "slow down" results are not worth caching.
INLINE_CACHE_SECONDS = 300
HELP_CACHE_SECONDS = 60


def _ask_and_search(service: NewsQA, query: str) -> tuple[Answer, list[Hit]]:
    answer = service.ask(query)
    hits = [] if answer.kind == "invalid" else service.search(query, INLINE_PASSAGES)
    return answer, hits


def _article(result_id: str, title: str, message: str, description: str = "") -> InlineQueryResultArticle:
    content = InputTextMessageContent(message)  # HTML, no link preview: the application's Defaults
    return InlineQueryResultArticle(result_id, title, content, description=description or None)


async def inline_query(update: Update, context: BotContext) -> None:
    """@bot 问题: the direct answer first, then up to nine passages with their sources."""
    query = update.inline_query
    assert query is not None
    state = context.bot_data
    text = query.query.strip()
    if not text:
        help_result = _article("help", "输入问题，查询永康日报", render.help_text(context.bot.username),
                               "例如：" + render.EXAMPLES[1])
        await query.answer([help_result], cache_time=HELP_CACHE_SECONDS, is_personal=False)
        return
    wait = state.inline_limiter.hit(query.from_user.id)
    if wait:
        slow = _article("slow", "提问太快了，请稍后再试", f"请 {math.ceil(wait)} 秒后再试。")
        await query.answer([slow], cache_time=0, is_personal=True)
        return
    answer, hits = await asyncio.to_thread(_ask_and_search, state.service, text)
    results = [_article("answer", render.inline_answer_title(answer), render.inline_answer_message(answer),
                        render.inline_answer_description(answer))]
    results += [_article(f"p{n}", render.passage_title(h), render.passage_message(h), render.passage_description(h))
                for n, h in enumerate(hits[:INLINE_PASSAGES])]
    try:
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)
    except BadRequest as exc:  # e.g. "query is too old": the user typed on; nothing to do
        log.info("answerInlineQuery failed: %s", exc)
        return
    log.info("inline answer for user %s: kind=%s found=%s, %d passages in %.0f ms",
             query.from_user.id, answer.kind, answer.found, len(hits), answer.took_ms)


async def chosen_inline_result(update: Update, context: BotContext) -> None:
    """Inline feedback (enable with /setinlinefeedback): which result people pick."""
    chosen = update.chosen_inline_result
    assert chosen is not None
    log.info("inline result %s chosen by user %s", chosen.result_id, chosen.from_user.id)
