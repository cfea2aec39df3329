"""Generated answers in Telegram: stream the model's rewrite by editing one message, check it
with the fact guard, and end with either the rewrite or the usual extractive answer.

Imported only when LLM_BASE_URL and LLM_MODEL are set (``bot.telegram.handlers.answer_question``), so a
bot without generation never loads ``openai``. The "not found" decision is never the model's:
only answers the archive found are rewritten (:func:`retrieval.generate.wants_generation`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError

from bot.redact import install_log_redaction
from bot.settings import Settings
from bot.telegram import render
from retrieval.generate import Generation, GenerationUnavailable, LLMConfig, judge
from retrieval.generate.client import stream
from retrieval.generate.prompt import for_answer
from retrieval.models import Answer

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.0  # seconds between edits of one message: Telegram throttles faster editing
CURSOR = " ▍"  # shown while the reply is still being written
MAX_STREAM_CHARS = 3000  # a reply this long is not a rewrite of a short answer: stop and fall back
UNAVAILABLE_NOTE = "生成服务暂不可用，以下为原文摘录"
GENERATED_NOTE = "以下回答由模型根据出处改写，事实均已与原文核对"


def llm_config(settings: Settings) -> LLMConfig:
    """The endpoint settings as plain arguments for ``retrieval.generate`` (key redacted in logs)."""
    assert settings.llm_base_url and settings.llm_model
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    install_log_redaction(key)
    return LLMConfig(base_url=settings.llm_base_url.strip(), model=settings.llm_model.strip(), api_key=key,
                     timeout=settings.llm_timeout)


def _with_note(answer: Answer, note: str) -> Answer:
    return replace(answer, note="；".join(n for n in (note, answer.note.strip()) if n))


def final_parts(answer: Answer, result: Generation) -> list[str]:
    """The messages that end the reply: the checked rewrite (as a factoid, so it reads "答：…")
    with the answer's sources, or the extractive answer, with a short note if the endpoint failed."""
    if result.generated:
        return render.render_answer(replace(_with_note(answer, GENERATED_NOTE), text=result.text, kind="factoid"))
    if result.error:
        return render.render_answer(_with_note(answer, UNAVAILABLE_NOTE))
    return render.render_answer(answer)


class _Stream:
    """One message that shows the reply as it grows, edited at most every EDIT_INTERVAL s."""

    def __init__(self, question: Message, quote: bool) -> None:
        self.question, self.quote = question, quote
        self.message: Message | None = None
        self.last = 0.0
        self.sent: list[Message] = []  # every message of the reply, in order

    async def show(self, text: str) -> None:
        now = time.monotonic()
        if self.message is None:
            self.message = await self.question.reply_text(render.esc(text) + CURSOR, do_quote=self.quote)
            self.sent.append(self.message)
            self.last = time.monotonic()
        elif now - self.last >= EDIT_INTERVAL:
            try:
                await self.message.edit_text(render.esc(text) + CURSOR)
            except TelegramError as exc:  # a skipped frame is harmless; the final edit matters
                log.info("streaming edit failed (ignored): %s", exc)
            self.last = time.monotonic()

    async def finish(self, parts: list[str], markup: InlineKeyboardMarkup | None) -> None:
        """Replace the streamed text with ``parts[0]`` (sending any further parts after it), or
        send all parts if nothing was shown yet. The last part carries ``markup``."""
        if self.message is None:
            for n, part in enumerate(parts):
                self.sent.append(await self.question.reply_text(
                    part, do_quote=self.quote and n == 0, reply_markup=markup if n == len(parts) - 1 else None))
            return
        await asyncio.sleep(max(0.0, self.last + EDIT_INTERVAL - time.monotonic()))
        try:
            await self.message.edit_text(parts[0], reply_markup=markup if len(parts) == 1 else None)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        for n, part in enumerate(parts[1:], 2):
            self.sent.append(await self.question.reply_text(
                part, do_quote=False, reply_markup=markup if n == len(parts) else None))


async def reply_generated(message: Message, answer: Answer, config: LLMConfig, *, quote: bool,
                          markup: InlineKeyboardMarkup | None) -> tuple[Generation, list[Message]]:
    """Stream a rewrite of ``answer`` in reply to ``message`` and end with the checked text or
    the extractive answer. Returns what happened (for the log) and the messages of the reply
    (as ``bot.telegram.handlers.reply`` does)."""
    messages, sources, passages = for_answer(answer)
    shown = _Stream(message, quote)
    text = ""
    try:
        async for piece in stream(config, messages):
            text += piece
            if len(text) > MAX_STREAM_CHARS:
                raise GenerationUnavailable(f"reply longer than {MAX_STREAM_CHARS} characters")
            await shown.show(text)
    except GenerationUnavailable as exc:
        result = Generation(answer.text, False, error=str(exc), model_text=text)
        log.warning("generation unavailable, sent the extractive answer: %s", exc)
    else:
        result = judge(answer, text, sources, passages)
        if result.failures:
            log.warning("generated answer failed the fact guard, sent the extractive answer: %s",
                        ", ".join(str(f) for f in result.failures))
    await shown.finish(final_parts(answer, result), markup)
    return result, shown.sent
