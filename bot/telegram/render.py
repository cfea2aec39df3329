"""Pure rendering: answers, passages and help as Telegram HTML, split to fit Telegram's limits.

Every piece of archive or user text goes through :func:`esc`. A reply is built as a list of
*blocks* (complete HTML fragments, each small enough for one message) and :func:`pack` joins
blocks into messages, so a split never falls inside a tag or an escape sequence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence

from retrieval.dialogue.session import CONTINUED
from retrieval.models import Answer, Article, Citation, Hit
from retrieval.text import sentence_spans

MAX_MESSAGE = 4096  # UTF-16 code units (Telegram counts after entity parsing; we count raw HTML)
GAP = ""  # a blank line between sections; dropped at the edges of a message
EXAMPLES = ("朱志杰去过哪些镇？", "舟山镇被比作什么？", "古山镇1-7月规上工业总产值增长了多少？")
FOUND_HEADING = "出处"
RELATED_HEADING = "相关报道（未必回答了这个问题）"
MAX_SOURCES = 50
_TITLE_CHARS, _SNIPPET_CHARS = 120, 160
# C0/C1 controls (but tab and newline), lone surrogates and non-characters: never sent.
_UNSENDABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_PARAGRAPH = re.compile(r"[^\n]*\n|[^\n]+")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """Text safe to send: CRLF → LF, control characters and lone surrogates removed."""
    return _UNSENDABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def esc(text: str) -> str:
    """Escape archive or user text for Telegram HTML (``&``, ``<``, ``>``; quotes are fine in text)."""
    return html.escape(clean(text), quote=False)


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with "…" when cut."""
    line = " ".join(clean(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# ----------------------------------------------------------------------------- blocks and packing
def _units(text: str, fits: Callable[[str], bool]) -> Iterable[str]:
    """``text`` cut into pieces that each fit: paragraphs, else sentences, else characters."""
    for paragraph in _PARAGRAPH.findall(text):
        if fits(paragraph):
            yield paragraph
            continue
        for start, end in sentence_spans(paragraph):
            sentence = paragraph[start:end]
            if fits(sentence):
                yield sentence
            else:
                yield from sentence  # one character always fits (≤ 5 units escaped)


def text_blocks(text: str, *, before: str = "", after: str = "", limit: int = MAX_MESSAGE) -> list[str]:
    """Blocks ``before + esc(piece) + after`` covering ``text``, each at most ``limit`` units.

    ``before``/``after`` are trusted HTML (e.g. ``"<i>"``/``"</i>"``) repeated around every
    piece, so tags stay balanced in each block. Pieces break at paragraph, then sentence ends.
    """
    budget = limit - utf16_len(before) - utf16_len(after)
    if budget < 8:
        raise ValueError("limit too small for the markup")
    text = clean(text)
    if not text.strip():
        return []
    blocks: list[str] = []
    current, size = "", 0
    for unit in _units(text, lambda t: utf16_len(esc(t)) <= budget):
        cost = utf16_len(esc(unit))
        if current and size + cost > budget:
            blocks.append(current)
            current, size = "", 0
        current, size = current + unit, size + cost
    if current:
        blocks.append(current)
    out = []
    for piece in blocks:
        piece = piece.strip("\n")
        if piece.strip():
            out.append(before + esc(piece) + after)
    return out


def pack(blocks: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Join blocks with newlines into as few messages as possible, each at most ``limit`` units.

    Blocks are never split (build them with :func:`text_blocks`); ``GAP`` blocks become blank
    lines except at the start or end of a message.
    """
    messages: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        while current and current[-1] == GAP:
            current.pop()
        if current:
            messages.append("\n".join(current))

    for block in blocks:
        if utf16_len(block) > limit:
            raise ValueError("block longer than a message; build it with text_blocks()")
        if block == GAP:
            if current:
                current.append(GAP)
                size += 1
            continue
        cost = utf16_len(block) + (1 if current else 0)
        if current and size + cost > limit:
            flush()
            current, size, cost = [], 0, utf16_len(block)
        current.append(block)
        size += cost
    flush()
    return messages


def pack_one(blocks: Sequence[str], limit: int = MAX_MESSAGE, more: str = "…（内容较长，完整回答请私聊机器人）") -> str:
    """One message: the leading blocks that fit, plus a ``more`` note if anything was left out."""
    messages = pack(blocks, limit)
    if len(messages) <= 1:
        return messages[0] if messages else esc(more)
    footer = f"<i>{esc(more)}</i>"
    budget = limit - utf16_len(footer) - 2  # a blank line before the footer
    taken: list[str] = []
    for block in blocks:
        trial = pack([*taken, block], limit)
        if len(trial) > 1 or (trial and utf16_len(trial[0]) > budget):
            break
        taken.append(block)
    return pack([*taken, GAP, footer], limit)[0]


# ----------------------------------------------------------------------------- answers
def source_line(n: int, c: Citation) -> str:
    """``1. 《标题》 日期 · 📄 page-file`` — headline, dateline, page file."""
    title = esc(shorten(c.title, _TITLE_CHARS)) or "（无标题）"
    date = f" {esc(shorten(c.date, 40))}" if c.date.strip() else ""
    source = f" · 📄 <code>{esc(shorten(c.source, 200))}</code>" if c.source.strip() else ""
    return f"{n}. 《{title}》{date}{source}"


def unique_citations(citations: Iterable[Citation]) -> list[Citation]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in citations:
        key = (c.article_id, c.source) if c.article_id else (c.title, c.source)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def answer_blocks(answer: Answer, limit: int = MAX_MESSAGE) -> list[str]:
    """Blocks of an answer: note, answer text, then sources (or related passages, labelled)."""
    blocks: list[str] = []
    if answer.note.strip():
        blocks += text_blocks(f"（{answer.note.strip()}）", before="<i>", after="</i>", limit=limit)
    text = answer.text.strip() or "没有找到相关报道。"
    lines = [b for line in text.split("\n") for b in text_blocks(line, limit=limit - 20)] or [esc("（空）")]
    if answer.found and answer.kind != "list" and not text.startswith(CONTINUED):
        # the answer text may already start with its short answer ("答：2016年7月1日")
        lines[0] = f"<b>答：</b>{lines[0].removeprefix('答：')}"
    blocks += lines
    if answer.found and answer.citations:
        sources = unique_citations(answer.citations)
        blocks += [GAP, f"<b>{FOUND_HEADING}</b>"]
        blocks += [source_line(n, c) for n, c in enumerate(sources[:MAX_SOURCES], 1)]
        if len(sources) > MAX_SOURCES:
            blocks.append(f"<i>另有 {len(sources) - MAX_SOURCES} 篇报道未列出。</i>")
    elif not answer.found and answer.related:
        blocks += [GAP, f"<b>{RELATED_HEADING}</b>"]
        for n, c in enumerate(unique_citations(answer.related), 1):
            blocks.append(source_line(n, c))
            if c.text.strip():
                blocks.append(f"    <i>{esc(shorten(c.text, _SNIPPET_CHARS))}</i>")
    return blocks


def render_answer(answer: Answer, limit: int = MAX_MESSAGE) -> list[str]:
    """The answer as one or more Telegram HTML messages, each at most ``limit`` UTF-16 units."""
    return pack(answer_blocks(answer), limit) or [esc("没有找到相关报道。")]


def article_messages(article: Article, limit: int = MAX_MESSAGE) -> list[str]:
    """An article's full text (the "📄 原文" button): headline, date line, byline, page file,
    then the body, as one or more messages split at paragraph and sentence ends."""
    blocks = text_blocks(article.headline, before="<b>", after="</b>", limit=limit) or ["<b>（无标题）</b>"]
    dates = [d for d in dict.fromkeys((article.date.strip(), article.dateline.strip())) if d]
    meta = [shorten(" · ".join(dates), 80)] if dates else []
    meta += [shorten(article.byline, 120)] if article.byline.strip() else []
    if meta:
        blocks.append(esc("　".join(meta)))
    if article.source.strip():
        blocks.append(f"📄 <code>{esc(shorten(article.source, 200))}</code>")
    body = text_blocks(article.text, limit=limit)
    return pack([*blocks, GAP, *body] if body else blocks, limit)


# ----------------------------------------------------------------------------- inline mode
def inline_answer_title(answer: Answer) -> str:
    if answer.kind == "invalid":
        return shorten(answer.text, 60) or "请输入问题"
    if not answer.found:
        return "回答：没有找到直接回答"
    first_line = answer.text.strip().split("\n", 1)[0].removeprefix("答：")  # 答：2016年7月1日
    return "回答：" + shorten(first_line, 60)


def inline_answer_description(answer: Answer) -> str:
    if answer.found and answer.citations:
        c = answer.citations[0]
        return shorten(f"出处：《{c.title}》 {c.date}".strip(), 100)
    if not answer.found and answer.related:
        return "下面是相关报道，未必回答了这个问题"
    return ""


def inline_answer_message(answer: Answer) -> str:
    """The message sent when the answer result is chosen: the answer with sources, one message."""
    return pack_one(answer_blocks(answer, limit=MAX_MESSAGE - 200))


def passage_message(hit: Hit) -> str:
    """A passage with its headline and source, as one message."""
    c = hit.chunk
    heading = f"<b>《{esc(shorten(c.title, _TITLE_CHARS)) or '（无标题）'}》</b>"
    if c.date.strip():
        heading += f" {esc(shorten(c.date, 40))}"
    tail = f"📄 <code>{esc(shorten(c.source, 200))}</code>" if c.source.strip() else ""
    blocks = [heading, *text_blocks(c.text, limit=MAX_MESSAGE - 400)]
    return pack_one([*blocks, tail] if tail else blocks, more="…（段落较长，已截断）")


def passage_title(hit: Hit) -> str:
    return shorten(hit.chunk.title, 64) or shorten(hit.chunk.text, 30) or "（无标题）"


def passage_description(hit: Hit) -> str:
    date = f"{hit.chunk.date} · " if hit.chunk.date.strip() else ""
    return shorten(date + hit.chunk.text, 120)


# ----------------------------------------------------------------------------- fixed texts
def help_text(username: str | None) -> str:
    """/start and /help: what the bot does, examples, and how to use it in groups and inline."""
    mention = f"@{esc(username)}" if username else "@机器人"
    examples = "\n".join(f"• <code>{esc(q)}</code>" for q in EXAMPLES)
    return (
        "<b>永康日报问答</b>\n"
        "直接发来问题，我会在《永康日报》存档中查找答案，并附上出处（标题、日期、版面文件）。"
        "答案都摘自报道原文。\n\n"
        f"<b>例如</b>\n{examples}\n\n"
        "<b>在群里</b>\n"
        f"用 <code>/ask 问题</code>，或 <code>{mention} 问题</code>，或直接回复我的消息。\n\n"
        "<b>在任意聊天中</b>\n"
        f"输入 <code>{mention} 问题</code>，选择结果即可把答案发到当前聊天。\n\n"
        "<b>追问</b>\n可以接着上一个回答问，例如“他在古山镇说了什么”“那舟山镇呢”“还有呢”；"
        "在群里请回复我的回答来追问。\n\n"
        "<b>命令</b>\n/ask 提问　/new 开始新话题　/stats 索引状态　/help 帮助"
    )


def ask_usage(username: str | None) -> str:
    mention = f"@{esc(username)}" if username else "@机器人"
    return (
        "请在命令后写上问题，例如：\n"
        f"<code>/ask {esc(EXAMPLES[1])}</code>\n"
        f"也可以 <code>{mention} 问题</code>，或回复我的消息提问。"
    )
