"""The `newsqa` command line: index, articles, search, ask, bot, stats, doctor here; eval and
chat in ``bot.cli.session``.

Readable Chinese output for people; ``--json`` for machines. Settings are read
here, once, and passed down as plain arguments.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import generate
from bot.cli.context import CliError, Context, ensure_index
from bot.cli.format import (
    build_summary,
    hit_json,
    print_answer,
    print_article,
    print_check,
    print_hits,
    print_problems,
)
from bot.cli.read import read_cmd
from bot.cli.session import chat_cmd, eval_cmd
from bot.settings import Settings
from retrieval.index.store import IndexStoreError

if TYPE_CHECKING:  # bot.cli.doctor pulls in Telegram: imported when `doctor` runs
    from bot.cli.doctor import CheckResult

log = logging.getLogger("newsqa")


@click.group()
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), help="语料目录（默认 corpus/）")
@click.option("--index-dir", type=click.Path(path_type=Path), help="索引目录（默认 data/index）")
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
@click.pass_context
def cli(ctx: click.Context, corpus_dir: Path | None, index_dir: Path | None, verbose: bool) -> None:
    """newsqa：永康日报新闻问答（带出处）。"""
    overrides: dict[str, object] = {}
    if corpus_dir is not None:
        overrides["corpus_dir"] = corpus_dir
    if index_dir is not None:
        overrides["index_dir"] = index_dir
    settings: Settings | None = None
    if ctx.invoked_subcommand == "doctor":  # doctor reports invalid settings as its first check
        log_level = "WARNING"  # its report is the output; INFO lines would only repeat it
    else:
        try:
            settings = Settings(**overrides)
        except ValueError as exc:
            raise CliError(f"配置有误：{exc}") from None
        log_level = settings.log_level
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        for noisy in ("httpx", "sentence_transformers", "transformers", "jieba"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        logging.getLogger("retrieval").setLevel(logging.WARNING)
    ctx.obj = Context(settings, overrides)


@cli.command("index")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), help="语料目录")
@click.option("--rebuild", is_flag=True, help="丢弃旧索引，全部重建")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None, metavar="[ADDRESS]",
              help="在 Ray 集群上计算向量：不带地址为 RAY_ADDRESS 或本机（local），或 host:port")
@click.pass_obj
def index_cmd(obj: Context, corpus_dir: Path | None, rebuild: bool, as_json: bool,
              ray_address: str | None) -> None:
    """建立或更新索引（只处理新增或改动的文件）。"""
    from bot.cli.progress import TerminalProgress

    if obj.settings.index_role == "follow":  # replicas never build (docs/scale-out.md)
        from bot.follower import READ_ONLY_CLI

        raise CliError(READ_ONLY_CLI)
    corpus = corpus_dir or obj.settings.corpus_dir
    if not corpus.exists():
        raise CliError(f"语料目录 {corpus} 不存在。")
    if ray_address is not None or obj.settings.ray_address:  # docs/scale-out.md: embedding on Ray workers
        ray_address = ray_address or obj.settings.ray_address or "local"
    with TerminalProgress(enabled=not as_json and sys.stderr.isatty()) as progress:
        try:
            if ray_address is None:
                report = obj.service.reindex(corpus, rebuild=rebuild, progress=progress)
            else:
                report = _ray_index(obj, corpus, ray_address, rebuild, progress)
        except IndexStoreError as exc:
            raise CliError(str(exc)) from None
    print_problems(report.problems)
    if as_json:
        data = asdict(report)
        data["problems"] = [asdict(p) for p in report.problems]
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(build_summary(report))


def _ray_index(obj: Context, corpus: Path, address: str, rebuild: bool, progress):
    """`newsqa index --ray`: update_index with the embedding on Ray workers (retrieval.index.ray_build)."""
    from retrieval.index.ray_build import build_with_ray, spec_from_settings

    settings = obj.settings
    try:
        return build_with_ray(corpus, settings.resolved_index_dir, spec_from_settings(settings, threads=1),
                              name=settings.embedding_model, address=address, rebuild=rebuild,
                              progress=progress, sentence_vectors=settings.sentence_vectors)
    except IndexStoreError:
        raise
    except Exception as exc:  # Ray not installed, cluster unreachable, a worker failed: shards kept
        raise CliError(f"Ray 索引失败（已完成的向量已保存，重跑会接着做）：{exc}") from None


@cli.command("articles")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 列表")
@click.pass_obj
def articles_cmd(obj: Context, path: Path | None, as_json: bool) -> None:
    """打印从版面中提取出的文章。"""
    from retrieval.ingest.files import load_corpus

    path = path or obj.settings.corpus_dir
    if not path.exists():
        raise CliError(f"{path} 不存在。")
    report = load_corpus(path)
    print_problems(report.problems)
    if as_json:
        rows = [{**asdict(a), "headline": a.headline} for a in report.articles]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for article in report.articles:
        print_article(article)
    click.echo(f"共 {len(report.articles)} 篇文章，来自 {len(report.files)} 个文件。")


@cli.command("search")
@click.argument("question")
@click.option("--k", "k", type=click.IntRange(1, 100), help="返回段落数（默认 SEARCH_TOP_K，即 5）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
def search_cmd(obj: Context, question: str, k: int | None, as_json: bool) -> None:
    """按相关度列出段落。"""
    ensure_index(obj)
    k = k or obj.settings.search_top_k
    question = question.encode("utf-8", "replace").decode("utf-8")  # undecodable argv bytes → "?"
    started = time.perf_counter()
    hits = obj.service.search(question, k)
    took = (time.perf_counter() - started) * 1000
    if as_json:
        payload = {"question": question, "hits": [hit_json(h) for h in hits], "took_ms": round(took, 1)}
        click.echo(json.dumps(payload, ensure_ascii=False))
    elif not hits:
        click.echo("没有找到相关段落。")
    else:
        print_hits(hits)


@cli.command("ask")
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON；问题为 - 时逐行读标准输入")
@click.option("--no-generate", is_flag=True, help="配置了 LLM_* 时也只给原文摘录，不用模型改写")
@click.pass_obj
def ask_cmd(obj: Context, question: str, as_json: bool, no_generate: bool) -> None:
    """回答一个问题（问题为 - 时，从标准输入每行读一个问题）。"""
    ensure_index(obj)
    rewrite = None if no_generate or not obj.settings.llm_enabled else generate.rewriter(obj.settings)
    question = question.encode("utf-8", "replace").decode("utf-8")  # undecodable argv bytes → "?"
    if question == "-":
        if hasattr(sys.stdin, "reconfigure"):  # a line that is not UTF-8 must not end the batch
            sys.stdin.reconfigure(errors="replace")
        for line in sys.stdin:
            line = line.rstrip("\n")
            try:
                answer = obj.service.ask(line)
                out = generate.answer_out(answer, rewrite) if as_json else None
            except Exception as exc:  # one bad line must not stop the batch
                log.exception("question failed")
                out = {"question": line, "found": False, "answer": f"处理出错：{exc}", "sources": [],
                       "took_ms": 0.0, "error": True}
                answer = None
            if as_json:
                click.echo(json.dumps(out, ensure_ascii=False))
            elif answer is not None:
                print_answer(generate.shown(answer, rewrite))
            sys.stdout.flush()
        return
    answer = obj.service.ask(question)
    if as_json:
        click.echo(json.dumps(generate.answer_out(answer, rewrite), ensure_ascii=False))
    else:
        print_answer(generate.shown(answer, rewrite))




@cli.command("bot")
@click.pass_obj
def bot_cmd(obj: Context) -> None:
    """启动 Telegram 机器人。"""
    from bot.telegram.app import run_bot

    try:
        run_bot(obj.settings, obj.service)
    except (IndexStoreError, ValueError) as exc:
        raise CliError(str(exc)) from None


@cli.command("stats")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 3650), help="统计最近几天")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
def stats_cmd(obj: Context, days: int, as_json: bool) -> None:
    """使用情况：提问次数、回答率、👍/👎，以及未找到答案最多的问题。"""
    import sqlite3

    from bot.feedback import FeedbackStore

    path = obj.settings.resolved_feedback_db
    if not path.is_file():  # never create an empty database just to report on it
        raise CliError(f"没有找到使用记录 {path}：机器人还没有记录过问题，或 FEEDBACK_ENABLED=false。")
    salt = obj.settings.feedback_salt
    store = FeedbackStore(path, salt.get_secret_value() if salt else None)
    try:
        report = store.report(days=days)
    except sqlite3.Error as exc:
        raise CliError(f"无法读取使用记录 {path}：{exc}") from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    for line in report.lines(width=200):
        click.echo(line)


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.pass_obj
def doctor_cmd(obj: Context, as_json: bool) -> None:
    """检查配置、Telegram 令牌、索引、模型缓存和语料（全部通过时退出码为 0）。"""
    from bot.cli.doctor import run_checks

    results: list[CheckResult] = []
    for result in run_checks(lambda: Settings(**obj.overrides)):
        results.append(result)
        if not as_json:  # one line as each check finishes: getMe may take a few seconds
            print_check(result)
    ok = all(r.ok for r in results)
    if as_json:
        click.echo(json.dumps({"ok": ok, "checks": [asdict(r) for r in results]}, ensure_ascii=False))
    else:
        failed = sum(not r.ok for r in results)
        click.echo("全部检查通过。" if ok else f"{failed} 项检查未通过。")
    if not ok:
        sys.exit(1)


cli.add_command(eval_cmd)
cli.add_command(chat_cmd)
cli.add_command(read_cmd)


def main() -> None:
    cli()

