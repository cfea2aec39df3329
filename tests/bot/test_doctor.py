"""`newsqa doctor` against real parts: the CLI in-process, FakeBotApi over HTTP on 127.0.0.1, a
real index (built over a two-article corpus with a hashing encoder, so no model is loaded), and
real folders for the model cache and the corpus."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from bot.cli.doctor import CheckResult, check_corpus, check_index, check_model_cache, check_telegram
from bot.settings import Settings
from retrieval.embed.default_model import DEFAULT_MODEL, default_model_dirname
from retrieval.index.build import update_index
from retrieval.index.store import MANIFEST
from tests.botapi import BOT_USERNAME, TEST_TOKEN, FakeBotApi

KEYS = ["settings", "telegram", "index", "model", "corpus", "packages"]
WRONG_TOKEN = "987654321:WRONG-token_NotKnownToTheServer"
ARTICLES = [
    {"title": "永康举办首届星空音乐节", "date": "2024-05-01",
     "text": "本报讯 5月1日晚，首届星空音乐节在方岩景区开幕。三天里，星空音乐节共吸引游客约3.6万人次。"},
    {"title": "古山镇新建五金博物馆", "date": "2024-06-02",
     "text": "本报讯 古山镇五金博物馆昨日开馆，馆内陈列着两千余件老铜器，展示永康五金的百年历史。"},
]


class HashEncoder:
    """Deterministic stand-in for the embedding model: characters hashed into 64 buckets."""

    name = DEFAULT_MODEL  # what the manifest records; matches the default EMBEDDING_MODEL
    dim = 64

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text:
                vectors[row, ord(char) % self.dim] += 1.0
            vectors[row, 0] += 1e-3  # never an all-zero row
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deployment folder built once: corpus/, data/index (real index), data/models (a
    converted-looking default model folder)."""
    root = tmp_path_factory.mktemp("doctor-site")
    corpus = root / "corpus"
    corpus.mkdir()
    lines = "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES)
    (corpus / "archive.jsonl").write_text(lines, encoding="utf-8")
    update_index(corpus, root / "data" / "index", HashEncoder())
    model = root / "data" / "models" / default_model_dirname()
    model.mkdir(parents=True)
    (model / "modules.json").write_text("[]", encoding="utf-8")
    return root


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def env(site: Path, api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Every setting the doctor reads, pointing at ``site`` and the fake Bot API; run from an
    empty folder so no stray .env is read."""
    monkeypatch.chdir(tmp_path)
    values: dict[str, str | None] = {name.upper(): None for name in Settings.model_fields}
    values.update({
        "CORPUS_DIR": str(site / "corpus"),
        "DATA_DIR": str(site / "data"),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "BOT_API_BASE_URL": api.base_url,
    })
    return values


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, ["doctor", *args], env=env, catch_exceptions=False)


def checks(result: Result) -> dict[str, dict[str, object]]:
    payload = json.loads(result.stdout)
    return {c["key"]: c for c in payload["checks"]}


def line(result: Result, name: str) -> str:
    """The report line of the check called ``name`` (plus its hint line, if any)."""
    lines = result.stdout.splitlines()
    for i, text in enumerate(lines):
        if text[2:].startswith(f"{name}："):
            hint = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("  提示：") else ""
            return f"{text}\n{hint}".rstrip()
    raise AssertionError(f"no line for {name!r} in:\n{result.output}")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(site: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"corpus_dir": site / "corpus", "data_dir": site / "data"}
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


# -- the whole report through the CLI ------------------------------------------------------------


def test_all_green(env: dict[str, str | None], api: FakeBotApi) -> None:
    result = run(env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [text[0] for text in lines[:6]] == ["✓"] * 6, result.output
    assert "提示" not in result.stdout
    assert f"✓ Telegram 令牌：@{BOT_USERNAME}" in lines
    assert line(result, "索引").startswith("✓ 索引：2 篇文章，")
    assert "建于 " in line(result, "索引")
    assert line(result, "语料").startswith("✓ 语料：1 个文件")
    assert lines[-1] == "全部检查通过。"
    assert [c.method for c in api.calls] == ["getMe"]


def test_installed_versions_are_named(env: dict[str, str | None]) -> None:
    from importlib.metadata import version

    report = line(run(env), "依赖版本")
    assert report.startswith("✓ 依赖版本：")
    for name in ("openai", "python-telegram-bot"):
        assert f"{name} {version(name).split('+')[0]}" in report


def test_an_untested_major_version_is_named_with_the_range(env: dict[str, str | None],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli.versions

    real = bot.cli.versions.version
    monkeypatch.setattr(bot.cli.versions, "version", lambda name: "9.0.0" if name == "openai" else real(name))
    result = run(env)
    assert result.exit_code == 1
    report = line(result, "依赖版本")
    assert report.startswith("✗ 依赖版本：openai 9.0.0（需要 ") and "<4" in report
    assert "requirements.lock" in result.stdout


def test_json_shape(env: dict[str, str | None]) -> None:
    result = run(env, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"ok", "checks"} and payload["ok"] is True
    assert [c["key"] for c in payload["checks"]] == KEYS
    for check in payload["checks"]:
        assert set(check) == {"key", "name", "ok", "detail", "hint"}
        assert check["ok"] is True and check["hint"] == ""
        assert isinstance(check["name"], str) and isinstance(check["detail"], str)


def test_wrong_token_is_rejected_and_never_shown(env: dict[str, str | None], api: FakeBotApi,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs request URLs, which hold the token
    result = CliRunner().invoke(cli, ["-v", "doctor"], env={**env, "TELEGRAM_BOT_TOKEN": WRONG_TOKEN})
    assert result.exit_code == 1
    text = line(result, "Telegram 令牌")
    assert text.startswith("✗ Telegram 令牌：") and "拒绝" in text
    assert "/token" in text and "@BotFather" in text
    assert api.unauthorized == ["getMe"]
    secret_half = WRONG_TOKEN.split(":", 1)[1]
    assert secret_half not in result.output
    assert "getMe" in caplog.text and secret_half not in caplog.text
    assert result.stdout.splitlines()[-1] == "1 项检查未通过。"
    assert "✓ 索引：" in result.stdout  # the other checks still ran


def test_wrong_token_json_never_shows_the_token(env: dict[str, str | None]) -> None:
    result = run({**env, "TELEGRAM_BOT_TOKEN": WRONG_TOKEN}, "--json")
    assert result.exit_code == 1
    assert WRONG_TOKEN.split(":", 1)[1] not in result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    assert checks(result)["telegram"]["ok"] is False


def test_unreachable_server_fails_quickly(env: dict[str, str | None]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/bot"
    started = time.perf_counter()
    result = run({**env, "BOT_API_BASE_URL": url})
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1
    text = line(result, "Telegram 令牌")
    assert text.startswith(f"✗ Telegram 令牌：无法连接 Bot API 服务器 {url}")
    assert "提示：" in text and "BOT_API_BASE_URL" in text


def test_silent_server_times_out(site: Path) -> None:
    """A server that accepts the connection and never answers: the check gives up on time."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/bot"
        started = time.perf_counter()
        result = check_telegram(settings_for(site, telegram_bot_token=TEST_TOKEN, bot_api_base_url=url),
                                timeout=0.5)
    assert time.perf_counter() - started < 3
    assert not result.ok and result.detail.startswith(f"无法连接 Bot API 服务器 {url}")


def test_missing_token(env: dict[str, str | None], api: FakeBotApi) -> None:
    result = run({**env, "TELEGRAM_BOT_TOKEN": None})
    assert result.exit_code == 1
    text = line(result, "Telegram 令牌")
    assert text.startswith("✗ Telegram 令牌：未设置 TELEGRAM_BOT_TOKEN") and "@BotFather" in text
    assert api.calls == []


def test_malformed_token_never_reaches_the_server(env: dict[str, str | None], api: FakeBotApi) -> None:
    result = run({**env, "TELEGRAM_BOT_TOKEN": "'123456:TEST'"})
    assert result.exit_code == 1
    assert "格式不对" in line(result, "Telegram 令牌")
    assert api.calls == [] and api.unauthorized == []


def test_missing_index(env: dict[str, str | None], tmp_path: Path) -> None:
    result = run({**env, "INDEX_DIR": str(tmp_path / "no-index")})
    assert result.exit_code == 1
    text = line(result, "索引")
    assert text.startswith("✗ 索引：") and "没有找到索引" in text
    assert "提示：运行 `newsqa index` 建立索引。" in text


def test_corrupt_manifest(env: dict[str, str | None], site: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(site / "data" / "index", index, symlinks=True, ignore=shutil.ignore_patterns(".build.lock"))
    (index / "current" / MANIFEST).write_text("{not json", encoding="utf-8")
    result = run({**env, "INDEX_DIR": str(index)}, "--json")
    assert result.exit_code == 1
    check = checks(result)["index"]
    assert check["ok"] is False and "manifest.json 已损坏" in str(check["detail"])
    assert "newsqa index --rebuild" in str(check["hint"])


def test_index_built_with_another_model(env: dict[str, str | None], tmp_path: Path) -> None:
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "modules.json").write_text("[]", encoding="utf-8")
    result = run({**env, "EMBEDDING_MODEL": str(other)}, "--json")
    assert result.exit_code == 1
    by_key = checks(result)
    assert by_key["index"]["ok"] is False and "EMBEDDING_MODEL" in str(by_key["index"]["hint"])
    assert by_key["model"]["ok"] is True  # a local model folder is fine on its own


def test_missing_corpus(env: dict[str, str | None], tmp_path: Path) -> None:
    result = run({**env, "CORPUS_DIR": str(tmp_path / "unmounted")})
    assert result.exit_code == 1
    text = line(result, "语料")
    assert text.startswith("✗ 语料：语料目录 ") and "不存在" in text and "CORPUS_DIR" in text


def test_invalid_settings_are_reported_without_a_traceback(env: dict[str, str | None]) -> None:
    result = run({**env, "WEBHOOK_PORT": "notanumber"})
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✗ 配置：WEBHOOK_PORT：") and "'notanumber'" in lines[0]
    assert lines[1].startswith("  提示：") and ".env.example" in lines[1]
    assert len(lines) == 3  # the other checks need settings; then the summary line

    payload = json.loads(run({**env, "WEBHOOK_PORT": "notanumber"}, "--json").stdout)
    assert payload["ok"] is False and [c["key"] for c in payload["checks"]] == ["settings"]


def test_secret_values_are_not_quoted_in_settings_errors(env: dict[str, str | None]) -> None:
    result = run({**env, "WEBHOOK_URL": "https://bot.example.com/tg", "WEBHOOK_SECRET": "bad secret!"})
    assert result.exit_code == 1
    assert result.stdout.startswith("✗ 配置：WEBHOOK_SECRET 只能包含")
    assert "bad secret!" not in result.output


def test_other_commands_still_refuse_invalid_settings(env: dict[str, str | None]) -> None:
    result = CliRunner().invoke(cli, ["articles"], env={**env, "WEBHOOK_PORT": "notanumber"})
    assert result.exit_code == 1
    assert "配置有误" in result.output and "webhook_port" in result.output  # unchanged message


def test_global_options_reach_the_doctor(env: dict[str, str | None], tmp_path: Path) -> None:
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["--corpus", str(empty), "doctor", "--json"], env=env)
    check = checks(result)["corpus"]
    assert check["ok"] is False and "没有可读取的文件" in str(check["detail"])


# -- single checks -------------------------------------------------------------------------------


def test_model_cache_for_the_default_model(site: Path, tmp_path: Path) -> None:
    assert check_model_cache(settings_for(site)).ok
    missing = check_model_cache(settings_for(site, model_cache_dir=tmp_path / "models"))
    assert not missing.ok and default_model_dirname() in missing.detail
    assert "newsqa index" in missing.hint and "10 秒" in missing.hint


def test_model_cache_for_a_hub_model(site: Path, tmp_path: Path) -> None:
    """A fake Hugging Face cache in the hub's own layout: refs/main → snapshots/<commit>/."""
    hub = tmp_path / "hub"
    repo = hub / "models--sentence-transformers--all-MiniLM-L6-v2"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "modules.json").write_text("[]", encoding="utf-8")

    for name in ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"):
        result = check_model_cache(settings_for(site, embedding_model=name), hf_cache_dir=hub)
        assert result.ok, result
    absent = check_model_cache(settings_for(site, embedding_model="nobody/no-such-model"), hf_cache_dir=hub)
    assert not absent.ok and "hf download nobody/no-such-model" in absent.hint


def test_model_cache_for_a_folder_without_modules_json(site: Path, tmp_path: Path) -> None:
    result = check_model_cache(settings_for(site, embedding_model=str(tmp_path)))
    assert not result.ok and "modules.json" in result.detail


def test_corpus_problems_are_listed(site: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(site / "corpus", corpus)
    (corpus / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    result = check_corpus(settings_for(site, corpus_dir=corpus))
    assert not result.ok
    assert result.detail.startswith("1 个文件可读，1 个无法读取：gone.txt：") and result.hint


def test_an_unexpected_error_becomes_a_failed_check(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bot.cli.doctor.load_index", broken)
    result = check_index(settings_for(site))
    assert result == CheckResult("index", "索引", False, "检查时出错：RuntimeError: disk on fire",
                                 "请用 `newsqa -v doctor` 查看详细日志。")
