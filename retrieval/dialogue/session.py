"""One conversation turn: resolve the message against the state, ask, page a long list, and
return the reply with the next state. :class:`Conversation` keeps one state for a console
session or an evaluation; the bot keeps many (bot/telegram/conversation.py) and calls :func:`respond`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from retrieval.dialogue.referents import Tagger, answered, default_tagger
from retrieval.dialogue.resolve import Resolution, resolve
from retrieval.dialogue.state import DialogueState, next_state, touched
from retrieval.index.sentences import chunk_sentences
from retrieval.lexicon.mining import Lexicon
from retrieval.models import Answer
from retrieval.qa.lists import cited_articles

DEFAULT_TTL = 600.0
CONTINUED = "（续）"  # starts every "还有呢" page: the rest of a list or of a quoted passage
CONTINUE_SENTENCES = 3  # sentences of the cited passage shown per "还有呢" after a one-sentence answer
PASSAGE_DONE = "这段报道的内容已全部列出。"


class AsksQuestions(Protocol):
    def ask(self, question: str) -> Answer: ...


@dataclass(frozen=True)
class Turn:
    """The reply to one message: ``answer`` to show (for "answer" and "more"), or the
    clarification ``text`` (``kind`` "clarify"), with the resolution that led to it."""

    kind: Literal["answer", "more", "clarify"]
    resolution: Resolution
    answer: Answer | None = None
    text: str = ""

    @property
    def reply_text(self) -> str:
        return self.answer.text if self.answer is not None else self.text


def _list_lines(answer: Answer) -> tuple[str, list[str]]:
    """A list answer's heading and one line per item: the answer's own lines when it has one
    per item ("1. 古山镇（…）"), else the item labels."""
    lines = answer.text.split("\n")
    items = lines[1:]
    if len(items) == len(answer.items) and all(line.startswith(f"{n}. ") for n, line in enumerate(items, 1)):
        return lines[0], items
    return lines[0] if len(lines) > 1 else "", [f"{n}. {item.label}" for n, item in enumerate(answer.items, 1)]


def list_page(answer: Answer, start: int, size: int) -> Answer:
    """Items ``start``… (at most ``size``; 0 = all) of a list answer, as an Answer citing only
    the articles of those items, with a hint when more follow."""
    head, lines = _list_lines(answer)
    total = len(answer.items)
    end = total if size <= 0 else min(total, start + size)
    if start >= total:
        return replace(answer, text=f"以上已列出全部 {total} 项。", items=(), citations=())
    page = lines[start:end]
    first = [head] if start == 0 and head else [f"{CONTINUED}第 {start + 1}–{end} 项，共 {total} 项："]
    tail = [f"……还有 {total - end} 项，发送“还有呢”查看。"] if end < total else []
    items = answer.items[start:end]
    return replace(answer, text="\n".join(first + page + tail), items=items, citations=cited_articles(items))


def continuation(answer: Answer, shown: int, size: int = CONTINUE_SENTENCES) -> tuple[Answer, int]:
    """"还有呢" after a sentence answer: the next ``size`` sentences of its cited passage after the
    quoted one(s), past the ``shown`` already continued; returns the Answer and how many it shows."""
    citation = (answer.items[0].citations[:1] if answer.items else ()) or answer.citations[:1]
    if not citation:
        return replace(answer, text=PASSAGE_DONE, items=(), citations=()), 0
    sentences = chunk_sentences(citation[0].text)
    quoted = answer.items[0].evidence if answer.items else answer.text
    last = max((n for n, sentence in enumerate(sentences) if sentence in quoted), default=-1)
    following = sentences[last + 1 + shown : last + 1 + shown + size]
    if not following:
        return replace(answer, text=PASSAGE_DONE, items=(), citations=()), 0
    text = f"{CONTINUED}《{citation[0].title}》：\n" + "".join(following)
    return replace(answer, text=text, items=(), citations=citation), len(following)


def respond(asker: AsksQuestions, lexicon: Lexicon, state: DialogueState | None, message: str, now: float,
            *, ttl: float = DEFAULT_TTL, page: int = 0, tagged: Tagger | None = None) -> tuple[Turn, DialogueState | None]:
    """Reply to ``message``; returns the turn and the state to keep (the old one, unchanged
    but touched, after a clarification). ``page`` > 0 shows long lists that many at a time.
    ``tagged`` is the index tokenizer's tagging, which knows the lexicon's names (by default a
    tokenizer over ``lexicon``)."""
    tagged = tagged or default_tagger(lexicon)
    if state is not None and state.expired(now, ttl):
        state = None
    resolution = resolve(state, message, lexicon, tagged)
    if resolution.action == "clarify":
        return Turn("clarify", resolution, text=resolution.message), touched(state, now) if state else None
    if resolution.action == "more":
        assert state is not None and state.answer is not None
        if state.answer.kind != "list":  # a sentence answer goes on with its passage
            more, count = continuation(state.answer, state.shown)
            return Turn("more", resolution, more), touched(state, now, state.shown + count)
        shown = list_page(state.answer, state.shown, page)
        return Turn("more", resolution, shown), touched(state, now, state.shown + len(shown.items))
    full = asker.ask(resolution.question)
    if full.question != message:
        full = replace(full, question=message)
    shown, count = full, len(full.items) if full.kind == "list" else 0  # a sentence answer: none continued yet
    if full.kind == "list" and full.found and page > 0 and len(full.items) > page:
        shown, count = list_page(full, 0, page), page
    gave = answered(resolution.question, full, lexicon, tagged)
    return Turn("answer", resolution, shown), next_state(state, resolution.question, full, lexicon, now, count, gave,
                                                          resolution.entity, resolution.kind)


class Conversation:
    """One conversation (the console, an evaluated dialogue): state kept between messages,
    forgotten after ``ttl`` seconds of silence or on :meth:`clear`. ``lexicon`` and ``tagger``
    are read at every message (an index may be swapped between two)."""

    def __init__(self, asker: AsksQuestions, lexicon: Callable[[], Lexicon], *, ttl: float = DEFAULT_TTL,
                 page: int = 0, clock: Callable[[], float] = time.monotonic,
                 tagger: Callable[[], Tagger] | None = None) -> None:
        self.asker, self.lexicon, self.ttl, self.page, self.clock = asker, lexicon, ttl, page, clock
        self.tagger = tagger
        self.state: DialogueState | None = None

    def reply(self, message: str) -> Turn:
        tagged = self.tagger() if self.tagger is not None else None
        turn, self.state = respond(self.asker, self.lexicon(), self.state, message, self.clock(),
                                   ttl=self.ttl, page=self.page, tagged=tagged)
        return turn

    def clear(self) -> None:
        self.state = None
