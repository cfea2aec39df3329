"""`newsqa eval` (question sets and dialogue sets) and `newsqa chat` (the console with
follow-up questions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bot.cli.context import CliError, Context, ensure_index
from bot.cli.format import print_answer


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--k", "k", default=5, show_default=True, type=int, help="证据召回的 k")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--details", is_flag=True, help="逐题列出结果")
@click.option("--show-heldout", is_flag=True, help="对话集的 --details 也列出 heldout 部分（默认不列，调参时保持未见）")
@click.pass_obj
def eval_cmd(obj: Context, file: Path, k: int, as_json: bool, details: bool, show_heldout: bool) -> None:
    """按 shared/eval/README.md 的规则评测一个问题集（每行带 "turns" 的文件按多轮对话逐轮评测）。"""
    from retrieval.evaluate import evaluate, is_dialogue_set, load_questions

    ensure_index(obj)
    if is_dialogue_set(file):
        _eval_dialogues(obj, file, as_json, details, show_heldout)
        return
    try:
        questions = load_questions(file)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    result = evaluate(obj.service, questions, k=k)

    def line(row: Any) -> str:
        mark = "✓" if row.correct else ("—" if row.type == "unanswerable" else "✗")
        return (f"{mark} {row.id} [{row.type}] {row.question} → found={row.found} "
                f"evidence@{k}={row.evidence}  {row.answer[:60]!r}")

    _report(result, as_json, details, line)


def _report(result: Any, as_json: bool, details: bool, line: Callable[[Any], str]) -> None:
    """Either scored set (questions or dialogues): JSON, or the summary and, with ``details``,
    one ``line`` per row."""
    if as_json:
        click.echo(json.dumps(result.to_json(details), ensure_ascii=False, indent=1))
        return
    click.echo(result.summary())
    if details:
        for row in result.rows:
            click.echo(line(row))


def _eval_dialogues(obj: Context, file: Path, as_json: bool, details: bool, show_heldout: bool) -> None:
    """Score a dialogue set (eval/README_dialogues.md) turn by turn; ``details`` lists the
    held-out split's turns only with ``show_heldout``."""
    from retrieval.dialogue.evaluate import evaluate_dialogues, load_dialogues

    try:
        dialogues = load_dialogues(file)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    settings = obj.settings
    index = obj.service.index
    result = evaluate_dialogues(obj.service, index.lexicon, dialogues, ttl=settings.conversation_ttl,
                                page=settings.conversation_list_page, tagged=index.tokenizer.tagged)

    def line(row: Any) -> str:
        mark = ("✓" if row.correct else "✗") + ("!" if row.wrong_entity else "")
        asked = f" → {row.asked}" if row.asked and row.asked != row.message else ""
        return (f"{mark} {row.dialogue}.{row.n} [{row.split}/{row.type}] {row.message}{asked} "
                f"[{row.reply_kind}] {row.reply[:60]!r}")

    if as_json:
        click.echo(json.dumps(result.to_json(details, show_heldout), ensure_ascii=False, indent=1))
        return
    click.echo(result.summary())
    if details:
        for row in result.shown_rows(show_heldout):
            click.echo(line(row))
        if not show_heldout and len(result.shown_rows()) < len(result.rows):
            click.echo("（heldout 部分的逐轮结果未列出；需要时加 --show-heldout）")


@click.command("chat")
@click.pass_obj
def chat_cmd(obj: Context) -> None:
    """交互式问答控制台，可以追问（/new 开始新对话；输入 exit 或按 Ctrl-D 退出）。"""
    from bot.telegram.conversation import NEW_CONVERSATION
    from retrieval.dialogue import Conversation

    ensure_index(obj)
    service, settings = obj.service, obj.settings
    conversation = Conversation(service, lambda: service.index.lexicon, ttl=settings.conversation_ttl,
                                page=settings.conversation_list_page, tagger=lambda: service.index.tokenizer.tagged)
    click.echo("newsqa 问答控制台。输入问题后回车，可以接着追问（如“他后来去了哪里”“那舟山镇呢”“还有呢”）；"
               "/new 开始新对话；输入 exit 退出。")
    while True:
        try:
            question = click.prompt("问", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo()
            return
        if question.strip().lower() in {"exit", "quit", "q", "退出"}:
            return
        if question.strip() == "/new":
            conversation.clear()
            click.echo(NEW_CONVERSATION)
        elif question.strip():
            turn = conversation.reply(question)
            if turn.answer is None:
                click.echo(turn.text)
                click.echo()
                continue
            if turn.resolution.changed:
                click.secho(f"（按“{turn.resolution.question}”理解）", dim=True)
            print_answer(turn.answer)
