"""The one summary of an index build, as plain lines: the CLI prints them, /reindex escapes
them into its final Telegram message."""

from __future__ import annotations

from pathlib import Path

from retrieval.index.build import BuildReport

NAMES_SHOWN = 5
# File names can be 255 bytes; a summary must still fit one Telegram message.
NAME_CHARS = 40
MESSAGE_CHARS = 200


def short_name(name: str) -> str:
    """``name`` cut to NAME_CHARS characters, with "…" when cut."""
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _names(label: str, names: list[str]) -> str:
    shown = "、".join(short_name(n) for n in names[:NAMES_SHOWN])
    more = f" 等 {len(names)} 个" if len(names) > NAMES_SHOWN else ""
    return f"{label}：{shown}{more}"


def summary_lines(report: BuildReport, *, list_problems: bool = True) -> list[str]:
    """What a build changed and how long it took. ``list_problems=False`` only counts the
    problems (for the CLI, which has already printed each one as a warning)."""
    if report.noop:
        lines = [f"索引已是最新，无需更新（{report.articles} 篇文章，{report.chunks} 个段落）。"]
    else:
        lines = [
            f"索引已更新，用时 {report.seconds:.1f} 秒。",
            f"文件：新增 {len(report.added)}，修改 {len(report.changed)}，删除 {len(report.removed)}"
            f"（未变 {len(report.unchanged)}）",
            f"文章：{report.articles_before} → {report.articles}",
            f"段落：{report.chunks_before} → {report.chunks}",
            f"向量：新计算 {report.embedded} 个，复用 {report.reused} 个",
        ]
        if report.sentences_embedded:
            lines.append(f"句子向量：新计算 {report.sentences_embedded} 个")
        for label, names in (("新增", report.added), ("修改", report.changed), ("删除", report.removed)):
            if names:
                lines.append(_names(label, names))
    if report.problems and not list_problems:
        lines.append(f"⚠️ 有 {len(report.problems)} 处问题（已跳过），见上方警告。")
    elif report.problems:
        lines.append(f"⚠️ 有 {len(report.problems)} 处问题（已跳过）：")
        for p in report.problems[:NAMES_SHOWN]:
            where = f"第 {p.line} 行：" if p.line else ""
            lines.append(f"• {short_name(Path(p.path).name)}：{where}{p.message[:MESSAGE_CHARS]}")
    return lines
