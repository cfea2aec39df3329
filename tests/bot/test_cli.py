"""The `newsqa` command line end to end: click's CliRunner in-process, and one real subprocess
of the installed entry point. Every command works on a private copy of a seed index.

In-process commands are plumbing (options, output formats, exit codes), so they run over the
hashing encoder's seed index with ``bot.runtime.make_service`` swapped for one that embeds with
it (tests/fakes.py): no model is converted or loaded. The installed entry point runs as users
run it, with the real model (``slow``)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import bot.runtime
from bot.cli import cli
from bot.feedback import FeedbackStore
from retrieval.service import NewsQA
from tests.fakes import fake_make_service
from tests.paths import CORPUS_DIR, DEV_SET

SOURCE_KEYS = {"title", "date", "source", "text", "score"}
ANSWER_KEYS = {"question", "found", "answer", "sources", "took_ms"}
ARTICLE_KEYS = {"id", "source", "title", "byline", "dateline", "kind", "paragraphs"}
SEED_FILES = {p.name for p in CORPUS_DIR.glob("*.txt")}


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".build.lock"))
    return target


@pytest.fixture(scope="module")
def shared_index(fake_service: NewsQA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the (hashing encoder's) seed index for commands that only read it."""
    return _copy(fake_service.index_root, tmp_path_factory.mktemp("cli") / "index")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """Environment for the in-process CLI: the seed corpus, a scratch data folder, and the
    hashing encoder instead of the model. Runs in an empty working directory so no stray .env
    is read."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.runtime, "make_service", fake_make_service)
    return {
        "MODEL_CACHE_DIR": str(tmp_path / "models"),  # never used: nothing loads the model
        "CORPUS_DIR": str(CORPUS_DIR),
        "DATA_DIR": str(tmp_path / "data"),
        "INDEX_DIR": None,
        "EMBEDDING_MODEL": None,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture(autouse=True)
def _restore_logger_levels():
    """The CLI quiets some loggers process-wide; put them back for the rest of the session."""
    names = ("retrieval", "httpx", "sentence_transformers", "transformers", "jieba", "newsqa")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def run(env: dict[str, str | None], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


# -- articles (no model) -----------------------------------------------------------------------


def test_articles_json(env) -> None:
    result = run(env, "articles", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and len(rows) == 21
    for row in rows:
        assert set(row) >= ARTICLE_KEYS
        assert row["source"] in SEED_FILES
        assert row["kind"] in ("news", "photo", "other")
        assert isinstance(row["paragraphs"], list)
    assert len({row["id"] for row in rows}) == 21
    assert any(row["title"].startswith("朱志杰赴古山镇") for row in rows)


def test_articles_readable(env) -> None:
    result = run(env, "articles", str(CORPUS_DIR / "000_903294924633f08b.txt"))
    assert result.exit_code == 0, result.output
    assert "朱志杰赴古山镇开展“三服务”活动" in result.stdout
    assert "张赤奎" in result.stdout
    assert "来自 1 个文件" in result.stdout
    everything = run(env, "articles")
    assert "共 21 篇文章，来自 5 个文件。" in everything.stdout


def test_articles_missing_path(env, tmp_path: Path) -> None:
    result = run(env, "articles", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "不存在" in result.stderr


# -- index -------------------------------------------------------------------------------------


def test_index_update_then_noop_then_json(env, fake_service: NewsQA, tmp_path: Path) -> None:
    index_dir = _copy(fake_service.index_root, tmp_path / "index")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    record = {"title": "铜匠博物馆开馆", "date": "20190802", "text": "永康五金城新建的铜匠博物馆共有三层展厅。"}
    (corpus / "extra.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    first = run(env, "--index-dir", str(index_dir), "index", "--corpus", str(corpus))
    assert first.exit_code == 0, first.output
    assert "索引已更新" in first.stdout
    assert "新增 1" in first.stdout and "文章：21 → 22" in first.stdout
    assert "新计算 1 个" in first.stdout

    second = run(env, "--index-dir", str(index_dir), "index", "--corpus", str(corpus))
    assert second.exit_code == 0, second.output
    assert "无需更新" in second.stdout

    third = run(env, "--index-dir", str(index_dir), "--corpus", str(corpus), "index", "--json")
    assert third.exit_code == 0, third.output
    report = json.loads(third.stdout)
    assert report["noop"] is True
    assert report["articles"] == 22 and report["problems"] == []
    assert "extra.jsonl" in report["unchanged"]


def test_index_missing_corpus(env, fake_service: NewsQA, tmp_path: Path) -> None:
    index_dir = _copy(fake_service.index_root, tmp_path / "index")
    before = os.readlink(index_dir / "current")
    result = run(env, "--index-dir", str(index_dir), "index", "--corpus", str(tmp_path / "no-such-dir"))
    assert result.exit_code == 1
    assert "不存在" in result.stderr and "no-such-dir" in result.stderr
    assert os.readlink(index_dir / "current") == before


# -- queries -----------------------------------------------------------------------------------


def test_search_json(env, shared_index: Path) -> None:
    result = run(env, "--index-dir", str(shared_index), "search", "舟山镇被比作什么", "--k", "3", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    hits = payload["hits"]
    assert len(hits) == 3
    for hit in hits:
        assert set(hit) >= SOURCE_KEYS
        assert hit["source"] in SEED_FILES
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert any("大水缸" in h["text"] for h in hits)


def test_ask_json_contract(env, shared_index: Path) -> None:
    result = run(env, "--index-dir", str(shared_index), "ask", "朱志杰去过哪些镇", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= ANSWER_KEYS
    assert data["question"] == "朱志杰去过哪些镇"
    assert data["found"] is True
    assert "古山镇" in data["answer"] and "舟山镇" in data["answer"]
    assert isinstance(data["took_ms"], int | float) and data["took_ms"] >= 0
    assert len(data["sources"]) >= 2
    for source in data["sources"]:
        assert set(source) >= SOURCE_KEYS
        assert source["source"] in SEED_FILES
    assert [i["label"] for i in data["items"]] == ["古山镇", "舟山镇"]


def test_chat(env, shared_index: Path) -> None:
    result = run(env, "--index-dir", str(shared_index), "chat", input="朱志杰去过哪些镇\n\nexit\n")
    assert result.exit_code == 0, result.output
    assert "古山镇" in result.stdout and "舟山镇" in result.stdout
    assert "出处" in result.stdout


def test_eval_dev_set(env, shared_index: Path) -> None:
    result = run(env, "--index-dir", str(shared_index), "eval", str(DEV_SET))
    assert result.exit_code == 0, result.output
    out = result.stdout
    for label in ("回答准确率：", "证据召回率@5：", "拒答率（不可回答题）：", "误拒答："):
        assert label in out
    types = [json.loads(line)["type"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    unanswerable = types.count("unanswerable")
    assert f"问题数：{len(types)}（可回答 {len(types) - unanswerable}，不可回答 {unanswerable}）" in out
    assert re.search(r"回答准确率：\d+(\.\d)?%", out)


def test_eval_json(env, shared_index: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id":"a","type":"aggregate","q":"朱志杰去过哪些镇","answers":[["古山镇"],["舟山镇"]]}\n'
        "\n"
        '{"id":"b","type":"unanswerable","q":"永康市的市花是什么","answers":[]}\n',
        encoding="utf-8",
    )
    result = run(env, "--index-dir", str(shared_index), "eval", str(questions), "--json", "--details")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    metrics = data["metrics"]
    for key in ("answer_accuracy", "evidence_recall@5", "decline_rate", "false_declines"):
        assert key in metrics
    assert metrics["questions"] == 2
    assert metrics["answer_accuracy"] == 1.0 and metrics["decline_rate"] == 1.0
    assert metrics["false_declines"] == 0
    assert [row["id"] for row in data["rows"]] == ["a", "b"]


def test_eval_malformed_file_names_the_line(env, shared_index: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id":"a","type":"factoid","q":"x","answers":[["y"]]}\n{"id": "b", "q": \n', encoding="utf-8")
    result = run(env, "--index-dir", str(shared_index), "eval", str(bad))
    assert result.exit_code == 1
    assert "第 2 行" in result.stderr and "bad.jsonl" in result.stderr


@pytest.mark.parametrize(
    "args",
    [("search", "朱志杰"), ("ask", "朱志杰去过哪些镇"), ("ask", "--json", "-"), ("chat",)],
    ids=["search", "ask", "ask-stdin", "chat"],
)
def test_missing_index_tells_to_run_index(env, tmp_path: Path, args: tuple[str, ...]) -> None:
    result = run(env, "--index-dir", str(tmp_path / "empty-index"), *args, input="")
    assert result.exit_code == 1
    assert "newsqa index" in result.stderr
    assert result.stdout == ""


# -- the installed entry point -----------------------------------------------------------------


@pytest.mark.slow
def test_installed_entry_point_batch_json(seed_service: NewsQA, model_cache_dir: Path, tmp_path: Path) -> None:
    index = _copy(seed_service.index_root, tmp_path / "index")
    exe = Path(sys.executable).parent / "newsqa"
    assert exe.exists(), "the project is installed with its `newsqa` script"
    environ = {k: v for k, v in os.environ.items() if k not in ("INDEX_DIR", "EMBEDDING_MODEL", "DATA_DIR")}
    environ.update(MODEL_CACHE_DIR=str(model_cache_dir), CORPUS_DIR=str(CORPUS_DIR), PYTHONIOENCODING="utf-8")
    questions = ["朱志杰去过哪些镇", "", "永康市的市花是什么"]
    proc = subprocess.run(
        [str(exe), "-v", "--index-dir", str(index), "ask", "--json", "-"],
        input="\n".join(questions) + "\n", capture_output=True, text=True, encoding="utf-8",
        env=environ, cwd=tmp_path, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 3, proc.stdout
    rows = [json.loads(line) for line in lines]
    for row, question in zip(rows, questions, strict=True):
        assert set(row) >= ANSWER_KEYS
        assert row["question"] == question
        for source in row["sources"]:
            assert set(source) >= SOURCE_KEYS
    assert rows[0]["found"] is True and "古山镇" in rows[0]["answer"]
    assert rows[1]["found"] is False and rows[1]["kind"] == "invalid"
    assert rows[2]["found"] is False and rows[2]["answer"] == "没有找到相关报道。"
    loads = re.findall(r"embedding model \S+ loaded", proc.stderr)
    assert len(loads) == 1, f"model loaded {len(loads)} times"


# -- stats (the feedback database, no index) ----------------------------------------------------

DAY = 86400


def fill(path: Path) -> None:
    store = FeedbackStore(path)
    now = time.time()
    answered = store.record("朱志杰去过哪些镇", found=True, kind="list", user_id=1, chat_type="private", at=now)
    store.vote(answered, 1, 1)
    store.record("火星上有报社吗？", found=False, kind="none", user_id=2, chat_type="group", at=now)
    store.record("火星上 有报社吗", found=False, kind="none", user_id=3, chat_type="private", at=now - DAY)
    store.record("十天前的问题", found=False, kind="none", user_id=4, chat_type="private", at=now - 10 * DAY)
    store.close()


def test_stats_json(env, tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    fill(db)
    env = {**env, "FEEDBACK_DB": str(db)}
    result = run(env, "stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("days", "questions", "invalid", "answered", "up", "down")} == {
        "days": 7, "questions": 3, "invalid": 0, "answered": 1, "up": 1, "down": 0}
    assert data["answer_rate"] == round(1 / 3, 4)
    assert data["top_unanswered"] == [{"question": "火星上 有报社吗", "count": 2}]
    wider = json.loads(run(env, "stats", "--days", "30", "--json").stdout)
    assert wider["questions"] == 4 and len(wider["top_unanswered"]) == 2


def test_stats_readable_and_errors(env, tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    fill(db)
    result = run({**env, "FEEDBACK_DB": str(db)}, "stats")
    assert result.exit_code == 0, result.output
    assert "最近 7 天：提问 3 次" in result.stdout and "👍 1" in result.stdout
    assert "1. 火星上 有报社吗（2 次）" in result.stdout
    missing = run({**env, "FEEDBACK_DB": str(tmp_path / "none.sqlite3")}, "stats")
    assert missing.exit_code == 1 and "没有找到使用记录" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists()
    bad_days = run({**env, "FEEDBACK_DB": str(db)}, "stats", "--days", "0")
    assert bad_days.exit_code == 2
