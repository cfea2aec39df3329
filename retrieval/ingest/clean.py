"""Pure text clean-up for lines extracted from PDF newspaper pages.

Nothing here knows about articles: these functions repair single lines
(bold text extracted twice, ornaments, letter spacing) and glue broken lines
back into paragraphs. They never raise on any string and, apart from
whitespace and the decoration characters documented below, never drop text.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

from retrieval.text import is_cjk

# Ornaments used as bullets, byline markers and banner logos. "○" is NOT here:
# it is also the Chinese zero (二○一九).
DECORATION_CHARS = "■□●◆★☆▲△◇▼▽◎"
# Dot leaders in front of column logos (".......农行视角"). Four or more so that a
# real ellipsis ("……") or a decimal point survives.
_LEADER = r"\.{4,}|．{4,}|…{3,}|·{4,}|・{4,}"
_DECORATION_RE = re.compile("[" + re.escape(DECORATION_CHARS) + "]+|" + _LEADER)

# Lines longer than this are never PDF layout lines; skipping them keeps the
# cubic de-doubling search bounded on hostile input.
_MAX_DEDOUBLE_CHARS = 400

# Sentence-final punctuation, optionally followed by closing quotes/brackets.
_FINAL_RE = re.compile(r"[。！？!?…][”’」』）)》】\"']*$")
# Clause punctuation that never occurs inside a headline line.
SENTENCE_PUNCT = frozenset("，。、；：？！,;:?!")
_SPACE_RUN_RE = re.compile(r"\s+")


def strip_decoration(line: str) -> str:
    """Remove ornament runs (■ □ ● ◆ ★ …) and dot leaders; keep all other text and spacing."""
    return _DECORATION_RE.sub("", line)


def has_decoration(line: str) -> bool:
    """True if ``line`` contains an ornament run or a dot leader."""
    return _DECORATION_RE.search(line) is not None


def is_doubled(line: str) -> bool:
    """True if every text run of ``line`` is written twice (bold text extracted twice)."""
    return _undouble(line) is not None


def dedouble_line(line: str) -> str:
    """Undo the PDF bold-text artefact where every run is extracted twice.

    ``"■■实施实施““三服务三服务””"`` becomes ``"■■实施“三服务”"``. Whitespace-separated
    tokens are handled separately (``"记者记者 杨成栋杨成栋 摄摄"`` → ``"记者 杨成栋 摄"``) and
    ornament runs are left as they are. A line changes only if ALL its text is doubled
    and at least one doubled piece is two characters or longer, so natural
    reduplication (天天, 谢谢, 高高兴兴) survives. Idempotent by construction: if the
    result would itself count as doubled (哈哈哈哈 → 哈哈), the line is left unchanged.
    """
    result = _undouble(line)
    if result is None or _undouble(result) is not None:
        return line
    return result


def _undouble(line: str) -> str | None:
    """The de-doubled line, or None if the line is not entirely doubled."""
    if len(line) > _MAX_DEDOUBLE_CHARS:
        return None
    out: list[str] = []
    any_long = False
    for token in re.split(r"(\s+)", line):
        if not token or token.isspace():
            out.append(token)
            continue
        pos = 0
        for match in _DECORATION_RE.finditer(token):
            halves = _halve(token[pos : match.start()])
            if halves is None:
                return None
            out.extend((halves[0], match.group()))
            any_long = any_long or halves[1]
            pos = match.end()
        halves = _halve(token[pos:])
        if halves is None:
            return None
        out.append(halves[0])
        any_long = any_long or halves[1]
    return "".join(out) if any_long else None


def _halve(text: str) -> tuple[str, bool] | None:
    """Split ``text`` into pieces XX and return (the X's joined, any piece longer than 1).

    Dynamic programming from the right (greedy matching fails on e.g. "英英烈士陵园烈士陵园").
    Among valid splits we prefer one with a multi-character piece, then the longest
    first piece, which makes the choice deterministic.
    """
    n = len(text)
    ok = [False] * (n + 1)
    has_long = [False] * (n + 1)
    choice = [0] * (n + 1)
    ok[n] = True
    for i in range(n - 1, -1, -1):
        for k in range((n - i) // 2, 0, -1):
            j = i + 2 * k
            if not ok[j] or text[i : i + k] != text[i + k : j]:
                continue
            long_here = k >= 2 or has_long[j]
            if not ok[i] or (long_here and not has_long[i]):
                ok[i], has_long[i], choice[i] = True, long_here, k
            if long_here:
                break
    if not ok[0]:
        return None
    pieces: list[str] = []
    i = 0
    while i < n:
        k = choice[i]
        pieces.append(text[i : i + k])
        i += 2 * k
    return "".join(pieces), has_long[0]


def is_wide_punct(ch: str) -> bool:
    """Full-width (or CJK-context) punctuation and symbols: ， 。 “ ” 《 》 — … · ％ and the like."""
    return unicodedata.category(ch)[0] in "PS" and unicodedata.east_asian_width(ch) in "WFA"


def _is_digit(ch: str) -> bool:
    return ch.isdigit()


def text_width(text: str) -> float:
    """Approximate printed width in ems: ideographs 1, punctuation and Latin ½.

    Justified Chinese columns squeeze punctuation, so counting it as half an em
    makes full lines of one column come out at nearly the same width.
    """
    width = 0.0
    for ch in text:
        if ch.isspace():
            continue
        width += 1.0 if is_cjk(ch) or (unicodedata.east_asian_width(ch) == "F" and ch.isalnum()) else 0.5
    return width


def ends_sentence(line: str) -> bool:
    """True if the line ends with sentence-final punctuation (。！？…, maybe before a closing quote)."""
    return _FINAL_RE.search(line.rstrip()) is not None


def has_sentence_punct(line: str) -> bool:
    """True if the line contains clause punctuation (，。、；：？！), which headlines lack."""
    return any(ch in SENTENCE_PUNCT for ch in line)


def _edge_cjk_run(token: str, *, from_end: bool) -> int:
    """Length of the run of ideographs at one end of ``token`` (quotes are skipped)."""
    chars = reversed(token) if from_end else iter(token)
    count = 0
    for ch in chars:
        if is_cjk(ch):
            count += 1
        elif is_wide_punct(ch) and count == 0:
            continue
        else:
            break
    return count


def normalise_spaces(text: str) -> str:
    """Remove letter-spacing and PDF spacing, keep meaningful spaces.

    Spaces go when they touch full-width punctuation, sit between an ideograph and a
    digit (``20 日``, ``35.6 公里``), or separate single letter-spaced ideographs
    (``街 区 的``). A space between two phrases of two or more ideographs each
    (``紧抓工业不放 打造工业强镇``, ``世界五金之都 品质活力永康``) and spaces between
    Latin words stay; any kept run becomes a single ASCII space.
    """
    stripped = text.strip()
    if not stripped:
        return ""
    tokens = _SPACE_RUN_RE.split(stripped)
    out = [tokens[0]]
    for left, right in itertools.pairwise(tokens):
        a, b = left[-1], right[0]
        if is_wide_punct(a) or is_wide_punct(b):
            sep = ""
        elif is_cjk(a) and is_cjk(b):
            keep = _edge_cjk_run(left, from_end=True) >= 2 and _edge_cjk_run(right, from_end=False) >= 2
            sep = " " if keep else ""
        elif (is_cjk(a) and _is_digit(b)) or (_is_digit(a) and is_cjk(b)):
            sep = ""
        else:
            sep = " "
        out.append(sep)
        out.append(right)
    return "".join(out)


def column_width(widths: Sequence[float]) -> float:
    """The block's column width: the upper median of its line widths (most lines are full)."""
    if not widths:
        return 0.0
    ordered = sorted(widths)
    return ordered[len(ordered) // 2]


def _glue(left: str, right: str) -> str:
    """Join two broken lines: no space, except between two Latin words."""
    if not left:
        return right
    if not right:
        return left
    a, b = left[-1], right[0]
    latin = a.isascii() and a.isalpha() and b.isascii() and b.isalpha()
    return f"{left} {right}" if latin else left + right


def join_lines(lines: Sequence[str]) -> list[str]:
    """Join the broken lines of one text block into paragraphs.

    Paragraph indentation is lost in extraction, so breaks are inferred: a line
    ending in sentence-final punctuation ends its paragraph when it is clearly
    shorter than the column, or when the next line is clearly shorter while not
    itself finishing a sentence (the first line of an indented paragraph).
    Blank input lines are ignored; spaces are normalised with :func:`normalise_spaces`.
    """
    rows = [line.strip() for line in lines if line.strip()]
    if not rows:
        return []
    widths = [text_width(row) for row in rows]
    column = column_width(widths)
    paragraphs: list[str] = []
    current = ""
    for i, row in enumerate(rows):
        current = _glue(current, row)
        if i + 1 < len(rows) and ends_sentence(row):
            short_here = widths[i] <= column - 1.5
            indented_next = (
                i + 2 < len(rows) and widths[i + 1] <= column - 1.5 and not ends_sentence(rows[i + 1])
            )
            if short_here or indented_next:
                paragraphs.append(normalise_spaces(current))
                current = ""
    if current.strip():
        paragraphs.append(normalise_spaces(current))
    return [p for p in paragraphs if p]
