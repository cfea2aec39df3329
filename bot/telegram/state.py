"""What every Telegram handler shares: :class:`BotState` (``context.bot_data``) and the
``BotContext`` type the handlers, button callbacks and inline mode are written against.

Its own module so that ``handlers`` (which uses ``callbacks.answer_markup``) and ``callbacks``
(which needs the state) both import it, and neither imports the other's types.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.feedback import FeedbackStore
from bot.settings import Settings
from bot.telegram.conversation import ConversationStore
from bot.telegram.keyboard import ArticleKeys
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex_job import ReindexJob
from retrieval.service import NewsQA

INLINE_RATE_FACTOR = 3  # inline queries arrive as the user types: allow more of them


class BotState:
    """Everything handlers share, as ``context.bot_data`` (``CONTEXT_TYPES``): PTB creates it
    empty and :func:`bot.telegram.app.build_application` fills it in with :meth:`attach`."""

    settings: Settings
    service: NewsQA
    limiter: SlidingWindowLimiter
    inline_limiter: SlidingWindowLimiter
    reindex: ReindexJob
    feedback: FeedbackStore | None  # None when FEEDBACK_ENABLED is false: nothing is written
    conversations: ConversationStore  # follow-up state per private chat / group reply thread

    def __init__(self) -> None:
        self.warned: dict[int, float] = {}  # user id → end of the wait we told them
        self.article_keys = ArticleKeys()

    def attach(self, settings: Settings, service: NewsQA) -> None:
        self.settings, self.service = settings, service
        salt = settings.feedback_salt.get_secret_value() if settings.feedback_salt else None
        self.feedback = FeedbackStore(settings.resolved_feedback_db, salt) if settings.feedback_enabled else None
        self.limiter = SlidingWindowLimiter(settings.rate_limit_per_minute, 60.0)
        self.inline_limiter = SlidingWindowLimiter(settings.rate_limit_per_minute * INLINE_RATE_FACTOR, 60.0)
        self.reindex = ReindexJob(service, settings.corpus_dir)
        self.conversations = ConversationStore(settings.conversation_ttl, settings.conversation_list_page)


BotContext = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotState]
CONTEXT_TYPES = ContextTypes(bot_data=BotState)
