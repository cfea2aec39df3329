"""Readable (Chinese) and JSON renderings of articles, hits, answers and build reports for the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.build_report import summary_lines
from retrieval.index.build import BuildReport
from retrieval.models import Answer, Article, Citation, Hit, IngestProblem

if TYPE_CHECKING:  # bot.cli.doctor pulls in Telegram: only `newsqa doctor` should pay for that
    from bot.cli.doctor import CheckResult

_KIND = {"news": "新闻", "photo": "图片新闻", "other": "其他"}


def citation_json(c: Citation) -> dict[str, object]:
    return {"title": c.title, "date": c.date, "source": c.source, "text": c.text, "score": round(c.score, 4)}


def hit_json(hit: Hit) -> dict[str, object]:
    chunk = hit.chunk
    return {
        "title": chunk.title, "date": chunk.date, "source": chunk.source, "text": chunk.text,
        "score": round(hit.score, 4), "dense": round(hit.dense, 4), "keyword": round(hit.keyword, 4),
        "article_id": chunk.article_id,
    }


def answer_json(answer: Answer) -> dict[str, object]:
    """The stable ``--json`` answer object (extra keys are additive)."""
    sources = answer.citations if answer.found else answer.related
    data: dict[str, object] = {
        "question": answer.question,
        "found": answer.found,
        "answer": answer.text,
        "sources": [citation_json(c) for c in sources],
        "took_ms": round(answer.took_ms, 1),
        "kind": answer.kind,
    }
    if answer.items:
        data["items"] = [
            {"label": i.label, "evidence": i.evidence, "sources": [citation_json(c) for c in i.citations]}
            for i in answer.items
        ]
    if answer.note:
        data["note"] = answer.note
    return data


def print_problems(problems: list[IngestProblem]) -> None:
    """Each file (or line) that could not be read, as a warning on stderr."""
    for problem in problems:
        where = f"第 {problem.line} 行：" if problem.line else ""
        click.echo(f"警告：{problem.path}：{where}{problem.message}", err=True)


def cite_line(c: Citation) -> str:
    date = f"{c.date} " if c.date else ""
    return f"《{c.title}》 {date}（{c.source}）"


def print_answer(answer: Answer) -> None:
    if answer.note:
        click.secho(f"（{answer.note}）", fg="yellow")
    click.echo(answer.text)
    sources = answer.citations if answer.found else answer.related
    if sources:
        click.echo()
        click.echo("出处：" if answer.found else "相关报道（未必回答了这个问题）：")
        for n, c in enumerate(sources, 1):
            click.echo(f"  [{n}] {cite_line(c)}")
    click.secho(f"（用时 {answer.took_ms:.0f} 毫秒）", dim=True)
    click.echo()


def print_hits(hits: list[Hit]) -> None:
    for hit in hits:
        chunk = hit.chunk
        date = f" {chunk.date}" if chunk.date else ""
        click.secho(f"[{hit.rank + 1}] {chunk.title}{date}  （{chunk.source}，相关度 {hit.score:.4f}）", bold=True)
        click.echo(f"    {chunk.text}")
        click.echo()


def print_article(article: Article) -> None:
    click.secho(f"【{_KIND.get(article.kind, article.kind)}】{article.display_title}", bold=True)
    if article.subtitle:
        click.echo(f"  副题：{article.subtitle}")
    meta = [f"编号 {article.id}"]
    if article.when:
        meta.append(f"日期 {article.when}")
    if article.byline:
        meta.append(f"作者 {article.byline}")
    click.echo("  " + "  ".join(meta))
    for paragraph in article.paragraphs:
        click.echo(f"    {paragraph}")
    click.echo()


def build_summary(report: BuildReport) -> str:
    """The build summary for the terminal; problems were printed above as warnings."""
    lines = summary_lines(report, list_problems=False)
    return "\n".join(lines[:1] + ["  " + line for line in lines[1:]])


def print_check(result: CheckResult) -> None:
    """``✓ 名称：detail``, or ``✗ 名称：detail`` with an indented ``提示：hint`` line."""
    click.echo(f"{'✓' if result.ok else '✗'} {result.name}：{result.detail}")
    if not result.ok and result.hint:
        click.echo(f"  提示：{result.hint}")
