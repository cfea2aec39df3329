"""Page layout: turn the raw lines of one extracted page into typed blocks.

A page is read line by line (after de-doubling and ornament removal) and cut
into a flat, ordered list of :class:`Block` s: article bodies, headline runs,
bylines, photo credits and banners. Which headline belongs to which body is
decided later (:mod:`retrieval.ingest.headline`); this module only looks at the shape
of the text. Every non-whitespace character of the cleaned page ends up in
exactly one block or in a block's ``dropped`` markers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from retrieval.ingest.clean import (
    column_width,
    dedouble_line,
    ends_sentence,
    has_decoration,
    has_sentence_punct,
    strip_decoration,
    text_width,
)

LineKind = Literal["lead", "byline", "credit", "banner", "text"]
BlockKind = Literal["body", "head", "byline", "credit", "banner"]

LEAD_MARK = "本报讯"
_ROLE = r"(?:本报)?(?:融媒)?(?:首席)?(?:见习|特约|摄影)?(?:记者|通讯员)"
_NAME = r"[\u4e00-\u9fff·]{2,4}"
_PEOPLE = rf"{_ROLE}\s*{_NAME}(?:\s+(?:{_ROLE}\s*)?{_NAME})*"
# A byline must be marked (□) or have a space after the role, so that body text
# such as "记者看到……" is never taken for one.
_BYLINE_RE = re.compile(rf"^{_PEOPLE}$")
_SPACED_ROLE_RE = re.compile(rf"^{_ROLE}\s")
_CREDIT_RE = re.compile(rf"^(?P<who>{_ROLE}\s+{_NAME}(?:\s+(?:{_ROLE}\s*)?{_NAME})*)\s*摄$")
# "…进行讲解与宣传。 记者 杨成栋 摄": a caption line with the credit glued on.
_INLINE_CREDIT_RE = re.compile(
    rf"^(?P<text>.*[。！？”）])\s+(?P<credit>{_ROLE}\s+{_NAME}(?:\s+(?:{_ROLE}\s*)?{_NAME})*\s*摄)$"
)
_INLINE_BYLINE_RE = re.compile(rf"^(?P<open>[（(])\s*(?P<who>{_PEOPLE})\s*(?P<close>[）)])")
# Lines that open a new text block: a caption or report starting with its date.
_DATE_START_RE = re.compile(
    r"^(?:(?:\d{4}\s*年\s*)?(?:\d{1,2}\s*月\s*)?\d{1,2}\s*日\s*"
    r"(?:上午|下午|晚上|晚间|晚|凌晨|中午|早上|早晨|傍晚|夜间)?|近日|日前|昨天|昨日|今天|今日|当天|连日来)\s*[，,]"
)


@dataclass(frozen=True)
class Line:
    """One non-blank cleaned line of a page, with the layout signals we keep."""

    text: str
    kind: LineKind
    number: int
    indent: bool = False
    gap_before: bool = False
    doubled: bool = False
    byline: str = ""
    dropped: tuple[str, ...] = ()

    @property
    def width(self) -> float:
        return text_width(self.text)


@dataclass
class Block:
    """A run of lines with one role on the page (built here, read by the segmenter)."""

    kind: BlockKind
    lines: list[Line] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.lines[0].number if self.lines else 0


def read_lines(text: str) -> list[Line]:
    """Clean and classify every non-blank line of a page."""
    out: list[Line] = []
    gap = False
    for number, raw in enumerate(text.splitlines(), start=1):
        undoubled = dedouble_line(raw)
        cleaned = strip_decoration(undoubled)
        body = cleaned.strip()
        if not body:
            gap = True
            continue
        common = {
            "number": number,
            "indent": raw[:1].isspace(),
            "gap_before": gap,
            "doubled": undoubled != raw,
        }
        gap = False
        out.extend(_classify(body, marked=has_decoration(undoubled), undoubled=undoubled, common=common))
    return out


def _classify(body: str, *, marked: bool, undoubled: str, common: dict[str, Any]) -> list[Line]:
    """Type one cleaned line; may split off a glued photo credit."""
    inline = _INLINE_CREDIT_RE.match(body)
    if inline and not body.startswith(LEAD_MARK):
        text_line = _classify(inline.group("text").strip(), marked=False, undoubled="", common=common)
        credit_common = {**common, "indent": False, "gap_before": False}
        return [*text_line, _credit_line(inline.group("credit"), credit_common)]
    if body.startswith(LEAD_MARK):
        rest = body[len(LEAD_MARK) :].lstrip()
        dropped: list[str] = [LEAD_MARK]
        byline = ""
        paren = _INLINE_BYLINE_RE.match(rest)
        if paren:
            byline = " ".join(paren.group("who").split())
            dropped += [paren.group("open"), paren.group("close")]
            rest = rest[paren.end() :].lstrip()
        return [Line(rest, "lead", byline=byline, dropped=tuple(dropped), **common)]
    if _CREDIT_RE.match(body):
        return [_credit_line(body, common)]
    if _BYLINE_RE.match(body) and ("□" in undoubled or _SPACED_ROLE_RE.match(body)):
        return [Line(" ".join(body.split()), "byline", **common)]
    if marked and "□" not in undoubled and not has_sentence_punct(body):
        return [Line(body, "banner", **common)]
    return [Line(body, "text", **common)]


def _credit_line(text: str, common: dict[str, Any]) -> Line:
    """A photo credit "记者 杨成栋 摄": the people go to the byline, "摄" is a dropped marker."""
    who = _CREDIT_RE.match(text.strip())
    people = who.group("who") if who else text.strip().removesuffix("摄").strip()
    return Line(" ".join(people.split()), "credit", dropped=("摄",), **common)


def starts_with_date(text: str) -> bool:
    """True if a line opens with a dateline such as "20 日，" or "3月24日上午，"."""
    return _DATE_START_RE.match(text) is not None


def is_headlike(line: Line) -> bool:
    """A text line that could be (part of) a headline: no clause punctuation."""
    return line.kind == "text" and not has_sentence_punct(line.text)


def _fits_body(line: Line, column: float) -> bool:
    """Could this punctuation-free line be the first line of a body paragraph?"""
    if line.doubled or line.indent or column <= 0:
        return False
    if re.search(r"[\u4e00-\u9fff”]\s+[“\u4e00-\u9fff]", line.text):  # two-phrase headline
        return False
    return column - 3.0 <= line.width <= column + 2.0


def split_blocks(lines: list[Line]) -> list[Block]:
    """Cut the classified lines into ordered blocks of bodies and headline runs."""
    blocks: list[Block] = []
    segment: list[Line] = []

    def flush(follower: str) -> None:
        if not segment:
            return
        # Text cut off by an indented line may still continue the previous body's sentence.
        previous = blocks[-1] if blocks else None
        open_sentence = (
            previous is not None and previous.kind == "body" and not ends_sentence(previous.lines[-1].text)
        )
        for label, line in _label_segment(segment, follower, open_sentence):
            _append(blocks, label, line, new_body=_starts_body(line, blocks, label))
        segment.clear()

    for line in lines:
        if line.kind == "text":
            # A leading space opens a new block, unless the text before it is mid-sentence.
            if line.indent and segment and not _segment_open(segment):
                flush("indent")
            segment.append(line)
            continue
        if line.kind == "lead":
            flush("lead")
            segment.append(line)
            continue
        flush(line.kind)
        blocks.append(Block(line.kind, [line]))
    flush("end")
    return blocks


def _segment_open(segment: list[Line]) -> bool:
    """True if the segment's last line is body text that ends mid-sentence."""
    last = segment[-1]
    return has_sentence_punct(last.text) and not ends_sentence(last.text)


def _starts_body(line: Line, blocks: list[Block], label: str) -> bool:
    """Whether a body line must open a new body even if the previous block is a body."""
    if label != "body":
        return False
    if line.kind == "lead":
        return True
    prev = blocks[-1] if blocks else None
    if prev is None or prev.kind != "body":
        return True
    return line.indent and ends_sentence(prev.lines[-1].text)


def _append(blocks: list[Block], label: str, line: Line, *, new_body: bool) -> None:
    kind: BlockKind = "body" if label == "body" else "head"
    if blocks and blocks[-1].kind == kind and not new_body:
        blocks[-1].lines.append(line)
    else:
        blocks.append(Block(kind, [line]))


def _label_segment(segment: list[Line], follower: str, open_sentence: bool) -> list[tuple[str, Line]]:
    """Label each line of a text segment "body" or "head".

    Body text is a flow of sentences; a run of punctuation-free lines that starts
    at a sentence boundary is a headline run unless its last lines can open the
    paragraph that the next line continues (same column width, not doubled, not a
    two-phrase headline). Runs ending at a byline, lead, banner, indented block,
    a line opening with a date, or the page end are headlines; runs ending at a
    photo credit are caption text.
    """
    widths = [ln.width for ln in segment if has_sentence_punct(ln.text)]
    column = column_width(widths)
    labels: list[str] = []
    i = 0
    while i < len(segment):
        line = segment[i]
        if line.kind == "lead" or open_sentence or not is_headlike(line):
            # Mid-sentence, only a switch to bold (doubled) text can start a headline.
            switch = i > 0 and line.doubled and not segment[i - 1].doubled
            if open_sentence and switch and is_headlike(line):
                labels.append("head")
                open_sentence = False
            else:
                labels.append("body")
                open_sentence = not ends_sentence(line.text)
            i += 1
            continue
        end = i
        while end < len(segment) and is_headlike(segment[end]) and not (end > i and segment[end].indent):
            end += 1
        run = segment[i:end]
        nxt = segment[end] if end < len(segment) else None
        if nxt is None:
            run_labels = ["body" if follower == "credit" else "head"] * len(run)
        elif nxt.indent or starts_with_date(nxt.text) or is_headlike(nxt):
            run_labels = ["head"] * len(run)
        else:
            run_labels = ["head"] * len(run)
            for j in range(len(run) - 1, -1, -1):
                if not _fits_body(run[j], column):
                    break
                run_labels[j] = "body"
        labels.extend(run_labels)
        open_sentence = run_labels[-1] == "body"
        i = end
    return list(zip(labels, segment, strict=True))
