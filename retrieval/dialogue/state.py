"""What a conversation remembers between two messages: plain, immutable records.

A :class:`DialogueState` is made from the last self-contained question and its Answer
(:func:`next_state`); the resolver reads it, the session replaces it after every reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.words import word_list
from retrieval.models import Answer, Citation

MAX_PLACES = 5  # places remembered, newest first


@dataclass(frozen=True)
class Mention:
    """A person or place named in a text, at ``start``."""

    name: str
    kind: Literal["person", "place"]
    start: int


@dataclass(frozen=True)
class DialogueState:
    """The last question (as asked, self-contained), the people and places the conversation
    has named so far (newest wins), the last Answer, how many of its list items were shown,
    and when the last message came (a clock reading, seconds)."""

    question: str
    person: str = ""
    places: tuple[str, ...] = ()
    answer: Answer | None = None
    shown: int = 0
    updated: float = 0.0
    labels: tuple[str, ...] = field(default=())

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.answer.citations if self.answer is not None else ()

    def expired(self, now: float, ttl: float) -> bool:
        return ttl > 0 and now - self.updated > ttl

    def place_of_kind(self, suffix: str) -> str:
        """The newest remembered place ending in ``suffix`` ("" for any place), or ""."""
        for place in self.places:
            if place.endswith(suffix):
                return place
        return ""


def place_suffixes() -> tuple[str, ...]:
    return tuple(sorted(word_list("place_suffixes"), key=len, reverse=True))


def mentions(text: str, lexicon: Lexicon) -> list[Mention]:
    """People and places of the lexicon named in ``text``, longest name first at each place,
    never overlapping, in text order."""
    found: list[Mention] = []
    taken: set[int] = set()
    names = [(n, "person") for n in lexicon.people] + [(n, "place") for n in lexicon.places]
    names.sort(key=lambda item: -len(item[0]))
    for name, kind in names:
        start = text.find(name)
        while start >= 0:
            span = set(range(start, start + len(name)))
            if not span & taken:
                taken |= span
                found.append(Mention(name, kind, start))  # type: ignore[arg-type]
            start = text.find(name, start + 1)
    return sorted(found, key=lambda m: m.start)


def next_state(previous: DialogueState | None, question: str, answer: Answer, lexicon: Lexicon,
               now: float, shown: int) -> DialogueState:
    """The state after ``question`` was answered with ``answer`` (``shown`` list items shown):
    people and places named in the question replace older ones; others are kept."""
    person = previous.person if previous else ""
    places = list(previous.places) if previous else []
    for m in mentions(question, lexicon):
        if m.kind == "person":
            person = m.name
        else:
            places = [m.name, *[p for p in places if p != m.name]]
    labels = tuple(item.label for item in answer.items)
    return DialogueState(question, person, tuple(places[:MAX_PLACES]), answer, shown, now, labels)


def touched(state: DialogueState, now: float, shown: int | None = None) -> DialogueState:
    """The same state, seen again at ``now`` (and with ``shown`` items shown, if given)."""
    return replace(state, updated=now, shown=state.shown if shown is None else shown)
