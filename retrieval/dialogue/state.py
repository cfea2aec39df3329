"""What a conversation remembers between two messages: plain, immutable records.

A :class:`DialogueState` is made from the last self-contained question and its Answer
(:func:`next_state`); the resolver reads it, the session replaces it after every reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from retrieval.dialogue.referents import ANY_PLACE, Answered
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
    and when the last message came (a clock reading, seconds).
    ``people``: the people the last answer listed (他们); ``unclear``: the kind of place (* for
    any) the last question asked for and its answer did not settle, which no older place stands for."""

    question: str
    person: str = ""
    places: tuple[str, ...] = ()
    answer: Answer | None = None
    shown: int = 0
    updated: float = 0.0
    labels: tuple[str, ...] = field(default=())
    people: tuple[str, ...] = ()
    unclear: str = ""

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.answer.citations if self.answer is not None else ()

    def expired(self, now: float, ttl: float) -> bool:
        return ttl > 0 and now - self.updated > ttl

    def place_of_kind(self, kind: str) -> str:
        """The newest remembered place of ``kind`` (a suffix such as 镇; "" or * for any place),
        or "" — also when the last answer left that kind unclear."""
        if self.unclear and (self.unclear == ANY_PLACE or kind in ("", ANY_PLACE, self.unclear)):
            return ""
        for place in self.places:
            if kind in ("", ANY_PLACE) or place.endswith(kind):
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
               now: float, shown: int, gave: Answered | None = None, entity: str = "",
               entity_kind: str = "") -> DialogueState:
    """The state after ``question`` was answered with ``answer`` (``shown`` list items shown):
    people and places named in the question replace older ones; others are kept. The
    ``entity`` a reference in it was resolved to (``entity_kind`` person or place) stays the
    newest of its kind: it is what the question is about ("这个城市是新西兰第几大城市" is about
    the city, not 新西兰). What the
    answer ``gave`` comes last: the person or place a who/where question was answered with
    (or, answered with none, that kind of referent is unclear) and the people it listed."""
    gave = gave or Answered()
    person = previous.person if previous else ""
    places = list(previous.places) if previous else []
    for m in mentions(question, lexicon):
        if m.kind == "person":
            person = m.name
        else:
            places = [m.name, *[p for p in places if p != m.name]]
    if entity and entity_kind == "place":
        places = [entity, *[p for p in places if p != entity]]
    elif entity and entity_kind == "person":
        person = entity
    unclear = ""
    if gave.asked == "person":
        person = gave.person  # "" when the answer named nobody: 他 then asks back
    elif gave.asked == "place" and gave.place:
        places = [gave.place, *[p for p in places if p != gave.place]]
    elif gave.asked == "place":
        unclear = gave.place_kind
    places = places[:MAX_PLACES]
    labels = tuple(item.label for item in answer.items)
    return DialogueState(question, person, tuple(places), answer, shown, now, labels, gave.people, unclear)


def touched(state: DialogueState, now: float, shown: int | None = None) -> DialogueState:
    """The same state, seen again at ``now`` (and with ``shown`` items shown, if given)."""
    return replace(state, updated=now, shown=state.shown if shown is None else shown)
