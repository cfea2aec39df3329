"""Pre-processing for speed: the part of a long passage worth reading for a question.

The reader's cost is linear in the tokens it reads, and a question's answer sits in or beside
the sentence that shares most of its wording. :func:`focus` keeps a passage's first line (the
headline: it names the topic) and the best-matching sentence, grown by its neighbours until
``budget`` characters are used; an :class:`Excerpt` maps a span read in the excerpt back to
characters of the passage.

Matching is by character bigrams, so it needs no word segmentation and survives the index's
own tokenisation choices; the interrogative's bigrams (多少, 哪些…) occur in both question and
answer-less text alike and carry no weight.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a sentence: up to its end mark (and a closing quote or bracket after it), or a line
_SENTENCE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”’」』）)]*\n?|\n|$)")
_QUESTION_WORDS = ("什么", "多少", "哪些", "哪个", "哪里", "哪儿", "哪位", "哪家", "哪年", "几个", "怎么",
                   "如何", "为什么", "是否", "有没有", "是谁", "谁")


@dataclass(frozen=True)
class Excerpt:
    """``text`` = the passage's ``pieces`` ``[(start, end), ...]`` (characters, ascending) joined."""

    text: str
    pieces: tuple[tuple[int, int], ...]

    def to_passage(self, start: int, end: int) -> tuple[int, int]:
        """Characters ``[start, end)`` of the excerpt as characters of the passage. A span that
        crosses a cut keeps only its part in the piece where it starts."""
        offset = 0
        for a, b in self.pieces:
            if start < offset + (b - a):
                return a + start - offset, a + min(end - offset, b - a)
            offset += b - a
        raise ValueError(f"span [{start}, {end}) is outside the excerpt of {offset} characters")


def whole(passage: str) -> Excerpt:
    return Excerpt(passage, ((0, len(passage)),))


def question_bigrams(question: str) -> set[str]:
    """Character bigrams of the question, without the interrogative words' and punctuation's."""
    text = question
    for word in _QUESTION_WORDS:
        text = text.replace(word, " ")
    return {text[i : i + 2] for i in range(len(text) - 1)
            if text[i].strip() and text[i + 1].strip() and (text[i].isalnum() or text[i + 1].isalnum())}


def sentences(passage: str) -> list[tuple[int, int]]:
    """Character ranges of the passage's sentences, covering it without gaps."""
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(passage) if m.end() > m.start()]


def focus(question: str, passage: str, budget: int) -> Excerpt:
    """At most about ``budget`` characters of ``passage``: its headline line, the sentence with the
    most question bigrams, and that sentence's neighbours (nearest first, the following one on a
    tie) while they fit. A passage within budget, or one no sentence of which matches, is whole
    up to ``budget``: the reader then reads its start, as it would have read its first window."""
    if len(passage) <= budget:
        return whole(passage)
    parts = sentences(passage)
    grams = question_bigrams(question)
    head = parts[0] if passage[parts[0][1] - 1 : parts[0][1]] == "\n" and len(parts) > 1 else None
    body = parts[1:] if head else parts
    hits = [sum(g in passage[a:b] for g in grams) for a, b in body]
    if not body or max(hits) == 0:
        return Excerpt(passage[:budget], ((0, budget),))
    best = max(range(len(body)), key=lambda i: (hits[i], -i))
    left = right = best
    used = _width(body[best]) + (_width(head) if head else 0)
    while True:
        grown = False
        for side in (right + 1, left - 1):  # after first: the answer often follows its topic
            if 0 <= side < len(body) and side not in range(left, right + 1) and used + _width(body[side]) <= budget:
                used += _width(body[side])
                left, right = min(left, side), max(right, side)
                grown = True
        if not grown:
            break
    a, b = body[left][0], body[right][1]
    if b - a > budget - (_width(head) if head else 0):  # one sentence longer than the budget
        centre = (body[best][0] + body[best][1]) // 2
        room = budget - (_width(head) if head else 0)
        a = max(body[best][0], min(centre - room // 2, body[best][1] - room))
        b = a + room
    pieces = ([head] if head else []) + [(a, b)]
    return Excerpt("".join(passage[x:y] for x, y in pieces), tuple(pieces))


def _width(span: tuple[int, int] | None) -> int:
    return 0 if span is None else span[1] - span[0]
