"""What a conversation remembers between two messages: plain, immutable records.

A :class:`DialogueState` is made from the last self-contained question and its Answer
(:func:`next_state`); the resolver reads it, the session replaces it after every reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from retrieval.dialogue.referents import ANY_PLACE, Answered, place_kind
from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.places import find_countries, find_provinces
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
    ``people``: the people the last answer listed (他们); ``kinds``: the kind of place each
    answered place was asked as (克赖斯特彻奇 → 市); ``unclear``: the kind of place (* for any)
    the last question asked for and its answer did not settle, which no older place stands for."""

    question: str
    person: str = ""
    places: tuple[str, ...] = ()
    answer: Answer | None = None
    shown: int = 0
    updated: float = 0.0
    labels: tuple[str, ...] = field(default=())
    people: tuple[str, ...] = ()
    kinds: tuple[tuple[str, str], ...] = ()
    unclear: str = ""

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.answer.citations if self.answer is not None else ()

    def expired(self, now: float, ttl: float) -> bool:
        return ttl > 0 and now - self.updated > ttl

    def place_of_kind(self, kind: str) -> str:
        """The newest remembered place of ``kind`` (a suffix such as 镇, 国 for a country, 省 for a
        province; "" or * for any place), or "" — also when the last answer left that kind unclear."""
        if self.unclear and (self.unclear == ANY_PLACE or kind in ("", ANY_PLACE, self.unclear)):
            return ""
        asked = dict(self.kinds)
        for place in self.places:
            if kind in ("", ANY_PLACE) or place.endswith(kind) or kind in (asked.get(place), place_kind(place)):
                return place
        return ""


def place_suffixes() -> tuple[str, ...]:
    return tuple(sorted(word_list("place_suffixes"), key=len, reverse=True))


def mentions(text: str, lexicon: Lexicon, *, closed: bool = False) -> list[Mention]:
    """People and places of the lexicon named in ``text``, longest name first at each place,
    never overlapping, in text order; with ``closed`` also the countries and provinces of the
    closed lists (which the corpus lexicon, mined from 镇/村 names, does not hold)."""
    found: list[Mention] = []
    taken: set[int] = set()
    names = [(n, "person") for n in lexicon.people] + [(n, "place") for n in lexicon.places]
    if closed:
        names += [(n, "place") for _, n in find_countries(text) + find_provinces(text)]
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
    kinds = dict(previous.kinds) if previous else {}
    for m in mentions(question, lexicon, closed=True):
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
        places, kinds[gave.place] = [gave.place, *[p for p in places if p != gave.place]], gave.place_kind
    elif gave.asked == "place":
        unclear = gave.place_kind
    places = places[:MAX_PLACES]
    labels = tuple(item.label for item in answer.items)
    return DialogueState(question, person, tuple(places), answer, shown, now, labels, gave.people,
                         tuple((p, k) for p, k in kinds.items() if p in places), unclear)


def touched(state: DialogueState, now: float, shown: int | None = None) -> DialogueState:
    """The same state, seen again at ``now`` (and with ``shown`` items shown, if given)."""
    return replace(state, updated=now, shown=state.shown if shown is None else shown)
