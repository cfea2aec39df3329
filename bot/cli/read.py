"""`newsqa read`: the trained reader on its own — a question and a context in, the answer span
out. For measuring the reader on any reading-comprehension set, outside the archive.

``newsqa read --json -`` reads one ``{"question", "context"}`` object per stdin line and writes
one ``{"answer", "found", "score", "start"}`` object per line, in order. ``answer`` is the best
span even when ``found`` is false (the span did not beat "no answer" by READER_MARGIN), so a
set whose questions are all answerable can be scored on it; ``start`` is its character offset
in the context (-1 when the context is empty). Extra input keys (an ``id``) are passed through.
A line that is not such an object gets ``{"error": …, "found": false}`` and the batch goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import click

from bot.cli.context import CliError, Context

BATCH = 16  # lines read together: their windows go through the model in one call


@click.command("read")
@click.argument("source", default="-", metavar="[-]")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（每行一个结果）")
@click.pass_obj
def read_cmd(obj: Context, source: str, as_json: bool) -> None:
    """阅读理解：从标准输入每行读一个 {"question", "context"}，给出答案片段。"""
    if source != "-":
        raise CliError("只支持从标准输入读取：newsqa read --json -")
    from retrieval.qa.reading import DEFAULT_MARGIN
    from retrieval.read.reader import load_reader

    settings = obj.settings
    try:
        reader = load_reader(settings.resolved_model_cache_dir, settings.reader_backend,
                             threads=settings.reader_threads or None)
    except (FileNotFoundError, RuntimeError) as exc:
        raise CliError(f"无法加载阅读模型：{exc}") from None
    margin = DEFAULT_MARGIN if settings.reader_margin is None else settings.reader_margin
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="replace")
    for batch in _batches(sys.stdin, BATCH):
        parsed = [_parse(line) for line in batch]
        good = [p for p in parsed if "error" not in p]
        spans = iter(reader.read_pairs([(p["question"], p["context"]) for p in good]))
        for item in parsed:
            if "error" in item:
                out = {"answer": "", "found": False, "score": None, "start": -1, **item}
            else:
                span = next(spans)
                extra = {k: v for k, v in item.items() if k not in ("question", "context")}
                out = {"answer": span.text if span else "", "found": bool(span and span.score > margin),
                       "score": round(span.score, 4) if span else None, "start": span.start if span else -1, **extra}
            if as_json:
                click.echo(json.dumps(out, ensure_ascii=False))
            elif "error" in out:
                click.echo(f"错误：{out['error']}")
            else:
                click.echo(f"答：{out['answer']}" if out["found"] else f"没有找到答案（最可能：{out['answer']}）")
        sys.stdout.flush()


def _batches(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in lines:
        if line.strip():
            batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse(line: str) -> dict:
    try:
        item = json.loads(line)
    except ValueError:
        return {"error": "不是 JSON：每行应为 {\"question\": …, \"context\": …}"}
    if not isinstance(item, dict):
        return {"error": "每行应为一个 JSON 对象"}
    question, context = item.get("question"), item.get("context")
    if not isinstance(question, str) or not isinstance(context, str) or not question.strip():
        return {"error": "缺少 question 或 context（都应为字符串）", **({"id": item["id"]} if "id" in item else {})}
    return item
