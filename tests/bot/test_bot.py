"""End to end: the real bot (PTB over HTTP) against FakeBotApi, answering from real indexes.

What the bot does with updates (replies, quoting, groups, commands, limits, errors, /reindex)
does not depend on the embedding model, so most tests answer from the hashing encoder's seed
index (tests/fakes.py) and ask list questions, which it answers like the real model. The
tests that check a factoid answer and its sources in a chat or inline use the real model
(``slow``)."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.redact import REDACTED, SecretRedactingFilter
from bot.settings import Settings
from bot.telegram.app import (
    api_urls,
    bot_token,
    build_application,
    post_init,
    run_bot,
    webhook_secret_and_path,
)
from retrieval.index.store import IndexStoreError
from retrieval.service import NewsQA
from tests.botapi import BOT_USERNAME, TEST_TOKEN, FakeBotApi, processed, running_application
from tests.fakes import hold_index_builds
from tests.paths import CORPUS_DIR

CORPUS = CORPUS_DIR
ADMIN, READER = 4242, 1001
WAIT = 30.0  # generous: a cold answer on a slow CI machine
TOWN_STEMS = ["青岭", "白溪", "龙潭", "桃坞", "松岙", "梅垄", "竹坑", "杏坪", "柳湾", "枫岭", "荷塘", "菱湖", "桂溪", "樟坞", "栗坪", "芝岙", "兰坑", "蒲塘", "苇湾", "藕塘", "茶坪", "麻垄", "棠溪", "榕岭", "杉坞", "柏坑", "槐岙", "桐湾", "楠坪", "梓溪", "鹤岭", "鹿坞", "雁湾", "鹭塘", "鸥坪", "燕岙", "莺溪", "鹊垄", "麟坑", "凤岭", "虎坞", "豹湾", "象塘", "狮坪", "驼岙"]
# A list question answers from the keyword index alone, like the real model would.
TOWNS_QUESTION = "朱志杰去过哪些镇"  # → 古山镇 (000_…txt) and 舟山镇 (001_…txt)
FESTIVAL = {"title": "永康举办首届星空音乐节", "date": "2024-05-01",
            "text": "本报讯 5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。三天里，星空音乐节共吸引"
                    "游客约3.6万人次。音乐节由市文化和广电旅游体育局主办。"}
FESTIVAL_QUESTION = "林海峰参加了哪些活动"  # only the festival article names him


def bot_settings(api: FakeBotApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TEST_TOKEN, "bot_api_base_url": api.base_url, "admin_ids": frozenset({ADMIN}),
        "rate_limit_per_minute": 60, "corpus_dir": CORPUS, "webhook_url": None, "webhook_secret": None,
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


@asynccontextmanager
async def running_bot(api: FakeBotApi, service: NewsQA, **overrides: Any) -> AsyncIterator[Any]:
    """The application from build_application, polling the fake server, post_init done (as
    run_polling would)."""
    app = build_application(bot_settings(api, **overrides), service)
    async with running_application(app):
        await post_init(app)
        yield app


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@pytest.fixture
def api() -> Any:
    with FakeBotApi() as server:
        yield server


@pytest.fixture(autouse=True)
def _capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


# ------------------------------------------------------------------ private chat
ZHOUSHAN_QUESTIONS = [
    "舟山镇是永康的什么",
    "舟山镇被比作什么",
]


@pytest.mark.slow
@pytest.mark.parametrize("question", ZHOUSHAN_QUESTIONS)
async def test_private_question_gets_answer_with_sources(api: FakeBotApi, seed_service: NewsQA,
                                                         caplog: pytest.LogCaptureFixture, question: str) -> None:
    async with running_bot(api, seed_service):
        api.push_message(question, user_id=7)
        started = time.monotonic()
        (call,) = await api.wait_for_call("sendMessage", chat_id=7, timeout=WAIT)
        took = time.monotonic() - started
    text = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert "大水缸" in text and "<b>出处</b>" in text
    assert "📄 <code>001_4397dc98031408d7.txt</code>" in text
    assert "reply_parameters" not in call.params  # private chat: no need to quote
    actions = api.sent("sendChatAction", chat_id=7)
    assert actions and actions[0].params["action"] == "typing"
    assert api.calls.index(actions[0]) < api.calls.index(call)
    assert api.errors == [] and took < 10, (api.errors, took)
    no_errors_logged(caplog)


async def test_commands_and_help(api: FakeBotApi, fake_service: NewsQA) -> None:
    async with running_bot(api, fake_service):
        for n, command in enumerate(["/start", "/help", "/stats", "/nosuch"], 1):
            api.push_message(command, user_id=8)
            await api.wait_for_call("sendMessage", count=n, chat_id=8, timeout=WAIT)
    start, help_, stats, unknown = api.messages_in(8)
    assert start == help_ and "朱志杰去过哪些镇" in start and "舟山镇被比作什么" in start
    assert f"@{BOT_USERNAME}" in start and "/ask" in start
    manifest = fake_service.index.manifest
    assert f"文章：{manifest.articles} 篇" in stats and f"段落：{manifest.chunks} 个" in stats
    assert manifest.model in stats and "北京时间" in stats
    assert "/help" in unknown
    scopes = {json.dumps(json.loads(k)[0], sort_keys=True): v for k, v in api.commands.items()}
    public = [c["command"] for c in scopes["null"]]
    assert {"ask", "help", "start", "stats"} <= set(public) and "reindex" not in public
    admin_scope = json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)
    assert "reindex" in [c["command"] for c in scopes[admin_scope]]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter internals
@pytest.mark.parametrize("chat_action_error", [500, 429])
async def test_failed_chat_action_does_not_stop_the_answer(api: FakeBotApi, fake_service: NewsQA,
                                                           caplog: pytest.LogCaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           chat_action_error: int) -> None:
    api.fail_method("sendChatAction", chat_action_error, retry_after=30 if chat_action_error == 429 else None)
    real_ask = fake_service.ask

    def ask_once_typing_was_tried(question: str) -> Any:
        # An answer ready within milliseconds would stop "typing…" before its request is sent;
        # hold it (in its worker thread) until the failing chat action has reached the server.
        api.wait_for_call("sendChatAction", chat_id=9, timeout=WAIT)
        return real_ask(question)

    async with running_bot(api, fake_service):
        monkeypatch.setattr(fake_service, "ask", ask_once_typing_was_tried)  # (after the warm-up)
        api.push_message(TOWNS_QUESTION, user_id=9)
        (call,) = await api.wait_for_call("sendMessage", chat_id=9, timeout=WAIT)
    assert "古山镇" in call.params["text"] and "001_4397dc98031408d7.txt" in call.params["text"]
    assert any(e[0] == "sendChatAction" for e in api.errors)
    no_errors_logged(caplog)


BAD_QUESTIONS = ["   ", "问" * 5000, "😀🎉👍", "<b>", "</code>", "&amp;", "*_", "\x01\x02\x7f舟山镇\x1b",
                 "朱志傑去過哪些鎮", "?"]


async def test_bad_questions_get_sensible_replies(api: FakeBotApi, fake_service: NewsQA,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(api, fake_service):
        for n, question in enumerate(BAD_QUESTIONS):
            api.push_message(question, user_id=100 + n)
        for n in range(len(BAD_QUESTIONS)):
            await api.wait_for_call("sendMessage", chat_id=100 + n, timeout=WAIT)
    replies = {q: api.messages_in(100 + n) for n, q in enumerate(BAD_QUESTIONS)}
    assert all(len(r) == 1 for r in replies.values()), replies
    assert "请输入一个问题" in replies["   "][0]
    assert "问题过长" in replies["问" * 5000][0]
    assert "没有识别到可以检索的文字" in replies["😀🎉👍"][0]
    assert "001_4397dc98031408d7.txt" in replies["朱志傑去過哪些鎮"][0]  # traditional characters work
    assert api.errors == []  # every reply was valid Telegram HTML within the limits
    no_errors_logged(caplog)


async def test_long_answer_is_split_into_several_messages(api: FakeBotApi, tmp_path: Path,
                                                          fake_service_over: Callable[..., NewsQA]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"title": f"朱志杰赴{stem}镇开展“三服务”活动 推动山区农业产业提质增效和乡村环境整治提升",
             "date": f"2021-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
             "text": f"本报讯 日前，市长朱志杰带队前往{stem}镇开展“三服务”活动，实地察看了{stem}村的农业园区和"
                     f"环境整治项目。朱志杰要求{stem}镇立足生态优势，加快产业发展。"}
            for n, stem in enumerate(TOWN_STEMS)]
    write_jsonl(corpus / "visits.jsonl", rows)
    service = fake_service_over(tmp_path / "index")
    service.reindex(corpus)
    async with running_bot(api, service, corpus_dir=corpus) as app:
        question = api.push_message("朱志杰去过哪些镇？", user_id=11)
        await processed(app, question, timeout=WAIT)  # every part sent
    parts = api.messages_in(11)
    assert len(parts) >= 2 and api.errors == []
    joined = "\n".join(parts)
    assert f"共 {len(TOWN_STEMS)} 个" in parts[0]
    positions = [joined.index(f"{stem}镇（") for stem in TOWN_STEMS]
    assert positions == sorted(positions)  # every town, in order, across the parts
    assert "<b>出处</b>" in joined and "visits.jsonl" in joined


# ------------------------------------------------------------------ groups
def bot_message_ids(api: FakeBotApi, chat_id: int) -> list[int]:
    """Ids of the bot's messages in ``chat_id`` (peeks at the fake server's records)."""
    with api._lock:
        return sorted(mid for (cid, mid) in api._history if cid == chat_id)


async def test_group_answers_mentions_ask_and_replies_only(api: FakeBotApi, fake_service: NewsQA) -> None:
    group, quiet = -100777, -100888
    kw: dict[str, Any] = {"chat_id": group, "chat_type": "supergroup"}
    async with running_bot(api, fake_service) as app:
        mention = api.push_message(f"@{BOT_USERNAME} 章旭升参加了哪些活动", **kw)
        await api.wait_for_call("sendMessage", chat_id=group, timeout=WAIT)
        ask = api.push_message(f"/ask@{BOT_USERNAME} {TOWNS_QUESTION}", user_id=12, **kw)
        await api.wait_for_call("sendMessage", chat_id=group, count=2, timeout=WAIT)
        follow = api.push_message("朱志杰还去过哪些镇？", user_id=13,
                                  reply_to_bot_message_id=bot_message_ids(api, group)[0], **kw)
        await api.wait_for_call("sendMessage", chat_id=group, count=3, timeout=WAIT)
        empty = api.push_message("/ask", user_id=14, chat_id=group, chat_type="group")
        await api.wait_for_call("sendMessage", chat_id=group, count=4, timeout=WAIT)
        ignored = [api.push_message(chatter, chat_id=quiet, chat_type="supergroup")
                   for chatter in ("今天天气不错", "@someone_else 去吃饭吗", "我觉得 /ask 这个命令不错", TOWNS_QUESTION)]
        ignored.append(api.push_message(f"{BOT_USERNAME} 没有 @ 的名字不算", **kw))
        for update in ignored:  # handled to the end, so any reply would have been sent by now
            await processed(app, update, timeout=WAIT)
    assert api.sent(chat_id=quiet) == []  # plain chatter: no reply, not even "typing"
    calls = api.sent("sendMessage", chat_id=group)
    assert len(calls) == 4, [c.params["text"][:80] for c in calls]
    replied_to = [c.params["reply_parameters"]["message_id"] for c in calls]
    assert replied_to == [u["message"]["message_id"] for u in (mention, ask, follow, empty)]
    texts = [c.params["text"] for c in calls]
    assert all("📄" in t for t in texts[:3])  # answers with sources (or related reports)
    assert "永商会客厅" in texts[0] and "古山镇" in texts[1] and "古山镇" in texts[2]
    assert "请在命令后写上问题" in texts[3] and "/ask" in texts[3]
    assert api.errors == []


# ------------------------------------------------------------------ inline mode
@pytest.mark.slow
@pytest.mark.parametrize("question", ZHOUSHAN_QUESTIONS)
async def test_inline_query_answer_first_then_passages(api: FakeBotApi, seed_service: NewsQA,
                                                       question: str) -> None:
    async with running_bot(api, seed_service) as app:
        started = time.monotonic()
        query = api.push_inline_query(question, user_id=21)["inline_query"]
        (call,) = await api.wait_for_call("answerInlineQuery", inline_query_id=query["id"], timeout=WAIT)
        took = time.monotonic() - started
        empty = api.push_inline_query("  ", user_id=21)["inline_query"]
        (help_call,) = await api.wait_for_call("answerInlineQuery", inline_query_id=empty["id"], timeout=WAIT)
        chosen = api.push_chosen_inline_result("answer", query=question, user_id=21)
        await processed(app, chosen, timeout=WAIT)
    results = call.params["results"]
    first = results[0]
    assert first["type"] == "article" and first["title"].startswith("回答：")
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML" and "大水缸" in content["message_text"]
    assert "001_4397dc98031408d7.txt" in content["message_text"] and "出处" in content["message_text"]
    passages = results[1:]
    assert 1 <= len(passages) <= 9
    for p in passages:
        assert p["title"] and p["description"] and "📄" in p["input_message_content"]["message_text"]
    assert call.params["cache_time"] == 300 and call.params["is_personal"] is False
    assert took < 5, took  # well within Telegram's ~10 s after warm-up
    (help_result,) = help_call.params["results"]
    assert "例如" in help_result["description"] and help_call.params["cache_time"] <= 60
    assert api.errors == []


# ------------------------------------------------------------------ /reindex
async def test_reindex_by_admin_rebuilds_in_background(api: FakeBotApi, tmp_path: Path,
                                                       copy_fake_index: Callable[[], Path],
                                                       fake_service_over: Callable[..., NewsQA],
                                                       caplog: pytest.LogCaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    service = fake_service_over(copy_fake_index())
    service.load()
    before = service.index.manifest
    question = FESTIVAL_QUESTION
    assert not service.ask(question).found
    # The festival article plus other new articles, so the build has several batches to embed.
    fillers = [{"title": f"{stem}村举办第{n + 1}届{crop}采摘节", "date": f"2024-06-{n % 28 + 1:02d}",
                "text": f"本报讯 {stem}村第{n + 1}届{crop}采摘节日前开幕，村民合作社共接待游客{300 + 17 * n}人次，"
                        f"销售{crop}{12 + n}吨，带动全村增收{40 + n}万元。"}
               for n, (stem, crop) in enumerate(zip(TOWN_STEMS, ["杨梅", "葡萄", "桃子", "蓝莓"] * 10, strict=False))]
    write_jsonl(corpus / "festival.jsonl", [FESTIVAL, *fillers])

    def progress_shown_and_question_answered() -> bool:
        progress = api.sent("editMessageText", chat_id=ADMIN)
        return bool(progress) and len(api.sent("sendMessage", chat_id=ADMIN)) >= 3

    # The build embeds in a moment with the hashing encoder: hold it until the status message
    # has shown progress and the question asked meanwhile has its answer, so both happen during
    # the build on any machine.
    holds = hold_index_builds(monkeypatch, progress_shown_and_question_answered, timeout=WAIT)
    async with running_bot(api, service, corpus_dir=corpus) as app:
        app.bot_data.reindex.interval = 0.3  # more frequent progress edits than in production
        api.push_message("/reindex", user_id=ADMIN)
        await api.wait_for_call("sendMessage", chat_id=ADMIN, timeout=WAIT)
        api.push_message("/reindex", user_id=ADMIN)  # refused: one build at a time
        await api.wait_for_call("sendMessage", chat_id=ADMIN, count=2, timeout=WAIT)
        api.push_message(TOWNS_QUESTION, user_id=ADMIN)  # answered from the old index meanwhile
        await api.wait_for_call("editMessageText", chat_id=ADMIN, text=lambda t: "✅" in t, timeout=60)
        api.push_message(question, user_id=ADMIN)
        await api.wait_for_call("sendMessage", chat_id=ADMIN, count=4, timeout=WAIT)
    assert [h.gate_opened for h in holds] == [True], "one build, which waited for the progress and the answer"
    status_id = bot_message_ids(api, ADMIN)[0]
    edits = api.sent("editMessageText", chat_id=ADMIN)
    assert {e.params["message_id"] for e in edits} == {status_id}  # ONE message, edited
    versions = api.messages_in(ADMIN, history=True)[: len(edits) + 1]
    assert versions[0].startswith("⏳") and versions[-1].startswith("✅")
    progress = versions[1:-1]
    assert progress and all(v.startswith("⏳ 正在更新索引") for v in progress), versions
    assert len(set(versions)) == len(versions)  # identical texts are never re-sent
    summary = versions[-1]
    assert "新增 1，修改 0，删除 0（未变 5）" in summary and "festival.jsonl" in summary
    after = service.index.manifest
    assert after.articles == before.articles + 1 + len(fillers) and after.built_at > before.built_at
    assert f"文章：{before.articles} → {after.articles}" in summary
    assert f"段落：{before.chunks} → {after.chunks}" in summary
    assert f"复用 {before.chunks} 个" in summary and "秒" in summary
    sends = api.sent("sendMessage", chat_id=ADMIN)
    texts = [c.params["text"] for c in sends]
    assert "正在更新中" in texts[1]  # the second /reindex was refused
    assert "古山镇" in texts[2]  # the question asked during the build was answered…
    assert api.calls.index(sends[2]) < api.calls.index(edits[-1])  # …before the build ended
    assert "星空音乐节" in texts[3] and "festival.jsonl" in texts[3]  # the new file answers now
    assert api.errors == []
    no_errors_logged(caplog)


async def test_reindex_refused_for_non_admin(api: FakeBotApi, fake_service: NewsQA,
                                             caplog: pytest.LogCaptureFixture) -> None:
    built_at = fake_service.index.manifest.built_at
    version = fake_service.index.path
    async with running_bot(api, fake_service) as app:
        # A chat admin, a look-alike username, anyone: only numeric ids in ADMIN_IDS count.
        api.push_message("/reindex", user_id=READER, username="admin")
        await api.wait_for_call("sendMessage", chat_id=READER, timeout=WAIT)
        group = api.push_message("/reindex", user_id=READER, chat_id=-100999, chat_type="supergroup")
        await api.wait_for_call("sendMessage", chat_id=-100999, timeout=WAIT)
        await processed(app, group, timeout=WAIT)
    assert "只有管理员" in api.messages_in(READER)[0]
    assert api.sent("editMessageText") == []
    assert fake_service.index.manifest.built_at == built_at and fake_service.index.path == version
    denials = [r for r in caplog.records if r.levelno == logging.WARNING and "reindex" in r.getMessage()]
    assert len(denials) == 2 and all(str(READER) in r.getMessage() for r in denials)


# ------------------------------------------------------------------ robustness
async def test_rate_limit(api: FakeBotApi, fake_service: NewsQA) -> None:
    async with running_bot(api, fake_service, rate_limit_per_minute=2) as app:
        for n in range(3):
            api.push_message(TOWNS_QUESTION, user_id=31)
            await api.wait_for_call("sendMessage", chat_id=31, count=n + 1, timeout=WAIT)
        last = api.push_message(TOWNS_QUESTION, user_id=31)  # still too fast: no second notice
        api.push_message(TOWNS_QUESTION, user_id=32)  # another user is not affected
        await api.wait_for_call("sendMessage", chat_id=32, timeout=WAIT)
        await processed(app, last, timeout=WAIT)
    first, second, third = api.messages_in(31)
    assert "古山镇" in first and "古山镇" in second
    assert "太快" in third and "每分钟最多 2 个" in third and "古山镇" not in third
    assert "古山镇" in api.messages_in(32)[0]


async def test_handler_error_is_logged_and_user_gets_apology(api: FakeBotApi, fake_service: NewsQA,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    api.fail_method("sendMessage", 400, "Bad Request: something unexpected", times=1)
    async with running_bot(api, fake_service):
        api.push_message(TOWNS_QUESTION, user_id=41)
        await api.wait_for_call("sendMessage", chat_id=41, count=2, timeout=WAIT)
    assert api.messages_in(41) == ["抱歉，处理您的消息时出了点问题，请稍后再试。"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "something unexpected" in caplog.text.lower()
    assert TEST_TOKEN not in caplog.text


# ------------------------------------------------------------------ start-up and secrets
@pytest.mark.parametrize(("token", "message"), [
    (None, "未设置 TELEGRAM_BOT_TOKEN"), ("", "未设置 TELEGRAM_BOT_TOKEN"), ("   ", "未设置 TELEGRAM_BOT_TOKEN"),
    ("abcdef", "TELEGRAM_BOT_TOKEN 格式不对"), ("123456 :ABC", "TELEGRAM_BOT_TOKEN 格式不对"),
    ('"123456:ABCdef"', "TELEGRAM_BOT_TOKEN 格式不对"),
])
def test_missing_or_malformed_token_is_a_clear_error(api: FakeBotApi, fake_service: NewsQA,
                                                     token: str | None, message: str) -> None:
    settings = bot_settings(api, telegram_bot_token=token)
    for start in (lambda: bot_token(settings), lambda: build_application(settings, fake_service),
                  lambda: run_bot(settings, fake_service)):
        with pytest.raises(ValueError, match=message) as info:
            start()
        assert not (token and token.strip()) or token.strip() not in str(info.value)


def test_missing_index_refuses_to_start(api: FakeBotApi, tmp_path: Path,
                                        fake_service_over: Callable[..., NewsQA]) -> None:
    with pytest.raises(IndexStoreError, match="newsqa index"):
        run_bot(bot_settings(api), fake_service_over(tmp_path / "no-index"))
    assert api.calls == []  # nothing was started


def test_rejected_token_is_a_clear_error_and_never_logged(api: FakeBotApi, fake_service: NewsQA,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999888:WRONGsecretWRONGsecret_abc"
    with pytest.raises(ValueError, match="Telegram 拒绝了 TELEGRAM_BOT_TOKEN") as info:
        run_bot(bot_settings(api, telegram_bot_token=wrong), fake_service)
    assert wrong not in str(info.value) and api.unauthorized == ["getMe"]
    assert wrong not in caplog.text and "WRONGsecretWRONGsecret_abc" not in caplog.text


async def test_token_never_logged_nor_sent(api: FakeBotApi, fake_service: NewsQA,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(api, fake_service):
        assert logging.getLogger("httpx").level == logging.WARNING  # request URLs hold the token
        logging.getLogger("httpx").setLevel(logging.INFO)  # …and even if someone turns it back on:
        try:
            api.push_message(TOWNS_QUESTION, user_id=51)
            await api.wait_for_call("sendMessage", chat_id=51, timeout=WAIT)
        finally:
            logging.getLogger("httpx").setLevel(logging.WARNING)
    assert "HTTP Request" in caplog.text and REDACTED in caplog.text
    assert TEST_TOKEN not in caplog.text
    assert all(TEST_TOKEN not in json.dumps(c.params, ensure_ascii=False, default=str) for c in api.calls)


def test_redacting_filter_covers_messages_args_and_tracebacks() -> None:
    token = "123456789:AAHsecretsecretsecret-xyz"
    redactor = SecretRedactingFilter([token])
    logger = logging.getLogger("newsqa.test.redact")
    handler_records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(record)

    keep = Keep()
    keep.addFilter(redactor)
    logger.addHandler(keep)
    try:
        logger.warning("POST https://api.telegram.org/bot%s/getMe", token)
        logger.warning("encoded %s", token.replace(":", "%3A"))
        try:
            raise RuntimeError(f"The token `{token}` was rejected")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(keep)
    text = "\n".join(logging.Formatter().format(r) for r in handler_records)
    assert token not in text and "AAHsecretsecretsecret-xyz" not in text and "%3A" not in text
    assert text.count(REDACTED) == 3 and "RuntimeError" in text


def test_webhook_path_and_urls() -> None:
    settings = Settings(_env_file=None, telegram_bot_token=TEST_TOKEN, webhook_url="https://bot.example.com/hook",
                        webhook_secret="s3cret_-Token")  # type: ignore[call-arg]
    secret, path = webhook_secret_and_path(settings)
    assert secret == "s3cret_-Token" and path == webhook_secret_and_path(settings)[1]  # stable
    assert TEST_TOKEN not in path and "s3cret" not in path
    random_settings = Settings(_env_file=None, webhook_url="https://x.example")  # type: ignore[call-arg]
    assert webhook_secret_and_path(random_settings)[1] != webhook_secret_and_path(random_settings)[1]
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        webhook_secret_and_path(Settings(_env_file=None, webhook_secret="含中文"))  # type: ignore[call-arg]
    assert api_urls("http://127.0.0.1:8081") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
    assert api_urls("http://127.0.0.1:8081/bot/") == ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot")
