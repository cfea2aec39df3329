"""The Telegram application: all wiring in :func:`build_application`, start-up in :func:`run_bot`.

Long polling by default; a webhook server when ``WEBHOOK_URL`` is set; any Bot API server via
``BOT_API_BASE_URL`` (e.g. a local ``telegram-bot-api``).

Several replicas behind one reverse proxy (``INDEX_ROLE=follow``, docs/scale-out.md): each calls
``setWebhook`` on start with the same URL and secret (both derived from the shared
``WEBHOOK_SECRET``, so the calls are idempotent), and none deletes the webhook when it stops
(PTB's ``run_webhook`` never calls ``deleteWebhook`` unless asked to drop pending updates; we
never ask), so stopping or restarting one replica does not cut the others off.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import follower
from bot.redact import install_log_redaction
from bot.settings import Settings
from bot.telegram import callbacks, conversation, handlers, inline
from bot.telegram.keyboard import ARTICLE_PATTERN, VOTE_PATTERN
from bot.telegram.state import CONTEXT_TYPES, BotContext, BotState
from retrieval.service import NewsQA

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CHOSEN_INLINE_RESULT, Update.CALLBACK_QUERY]
COMMANDS = [
    BotCommand("ask", "提问，例如 /ask 舟山镇被比作什么"),
    BotCommand("help", "使用说明和示例问题"),
    BotCommand("new", "开始新对话（之前的问题不再作为追问的上下文）"),
    BotCommand("stats", "索引状态：文章数、段落数、更新时间"),
    BotCommand("start", "开始使用"),
]
ADMIN_COMMANDS = [*COMMANDS, BotCommand("reindex", "更新索引（管理员）")]
# Every reply is Telegram HTML without link previews; a reply still goes out if the question
# it quotes was deleted meanwhile.
DEFAULTS = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                    allow_sending_without_reply=True)
_TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,200}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

AnyApplication = Application[Any, BotContext, Any, Any, BotState, Any]


def bot_token(settings: Settings) -> str:
    """The token from settings, or ValueError with a message for the operator (never the token)."""
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if not token:
        raise ValueError("未设置 TELEGRAM_BOT_TOKEN：请在 .env 或环境变量中填入 @BotFather 发给您的令牌。")
    if not _TOKEN_RE.fullmatch(token):
        raise ValueError("TELEGRAM_BOT_TOKEN 格式不对：应形如 123456789:AAE…（数字、冒号、字母数字），"
                         "请从 @BotFather 重新复制，不要带引号或空格。")
    return token


def api_urls(base_url: str) -> tuple[str, str]:
    """(base_url, base_file_url) for a Bot API server given as ``http://host:8081`` or ``…/bot``."""
    base = base_url.strip().rstrip("/")
    if "{token}" not in base and not base.endswith("/bot"):
        base += "/bot"
    file_base = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base
    return base, file_base


def _quiet_http_logs() -> None:
    # httpx logs every request URL (which contains the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def build_application(settings: Settings, service: NewsQA) -> AnyApplication:
    """The bot: handlers, rate limits, error handler, post-init (commands + warm-up)."""
    token = bot_token(settings)
    install_log_redaction(token, settings.webhook_secret.get_secret_value() if settings.webhook_secret else None)
    _quiet_http_logs()
    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(CONTEXT_TYPES)
        .defaults(DEFAULTS)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .concurrent_updates(True)  # questions run in threads; don't queue chats behind each other
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.bot_api_base_url:
        base, files = api_urls(settings.bot_api_base_url)
        builder = builder.base_url(base).base_file_url(files)
    app = builder.build()
    app.bot_data.attach(settings, service)
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["start", "help"], handlers.start))
    app.add_handler(CommandHandler("ask", handlers.ask))
    app.add_handler(CommandHandler("stats", handlers.stats))
    app.add_handler(CommandHandler("reindex", handlers.reindex))
    app.add_handler(CommandHandler("new", conversation.new_conversation))
    app.add_handler(MessageHandler(new_message & private & filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(new_message & private & filters.TEXT, handlers.private_text))
    app.add_handler(MessageHandler(new_message & private & ~filters.StatusUpdate.ALL, handlers.private_other))
    app.add_handler(MessageHandler(new_message & groups & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    app.add_handler(InlineQueryHandler(inline.inline_query))
    app.add_handler(ChosenInlineResultHandler(inline.chosen_inline_result))
    app.add_handler(CallbackQueryHandler(callbacks.article_button, pattern=ARTICLE_PATTERN))
    app.add_handler(CallbackQueryHandler(callbacks.vote_button, pattern=VOTE_PATTERN))
    app.add_handler(CallbackQueryHandler(callbacks.unknown_button))
    app.add_error_handler(handlers.on_error)
    return app


async def post_init(app: AnyApplication) -> None:
    """Register the command menu (with /reindex for admins) and warm the QA service up."""
    state = app.bot_data
    await app.bot.set_my_commands(COMMANDS)
    # a read-only replica (INDEX_ROLE=follow) has no /reindex to offer
    for admin_id in sorted(state.settings.admin_ids) if not follower.is_follower(state.settings) else ():
        try:  # fails until the admin has opened a chat with the bot; the command still works
            await app.bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:
            log.warning("could not set admin commands for user id %s: %s", admin_id, exc)
    started = time.perf_counter()
    await asyncio.to_thread(state.service.warm_up)
    log.info("bot @%s ready: QA service warmed up in %.1f s", app.bot.username, time.perf_counter() - started)
    follower.start_follower(app, state.settings, state.service)  # a replica: follow the published index


async def post_shutdown(app: AnyApplication) -> None:
    follower.stop_follower(app)


def webhook_secret_and_path(settings: Settings) -> tuple[str, str]:
    """(secret_token, url_path) for webhook mode. The path is derived from the configured secret
    (stable across restarts) or random — never the bot token."""
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
        if not _SECRET_RE.fullmatch(secret):
            raise ValueError("WEBHOOK_SECRET 只能包含英文字母、数字、下划线和连字符，长度 1–256。")
        path = "tg-" + hashlib.sha256(b"newsqa-webhook:" + secret.encode()).hexdigest()[:32]
    else:
        secret, path = secrets.token_urlsafe(32), "tg-" + secrets.token_urlsafe(24)
    return secret, path


def run_bot(settings: Settings, service: NewsQA) -> None:
    """Check the token, load the index (refusing to start without one), then poll or serve a
    webhook until stopped. Raises ValueError / IndexStoreError with messages for the operator."""
    token = bot_token(settings)
    install_log_redaction(token)
    _quiet_http_logs()
    index = service.load()  # IndexStoreError (missing / corrupt / other model) stops us here
    log.info("index loaded: %d articles, %d chunks", len(index.articles), len(index.chunks))
    app = build_application(settings, service)
    try:
        if settings.webhook_url:
            if follower.is_follower(settings) and settings.webhook_secret is None:
                raise ValueError(follower.WEBHOOK_SECRET_NEEDED)
            secret, path = webhook_secret_and_path(settings)
            install_log_redaction(secret, path)
            url = f"{settings.webhook_url.rstrip('/')}/{path}"
            log.info("starting webhook server on %s:%s", settings.webhook_listen, settings.webhook_port)
            app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port, url_path=path,
                            webhook_url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        else:
            log.info("starting long polling")
            app.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        raise ValueError("Telegram 拒绝了 TELEGRAM_BOT_TOKEN（令牌无效或已被撤销），"
                         "请在 @BotFather 用 /token 查看或重新生成。") from None
