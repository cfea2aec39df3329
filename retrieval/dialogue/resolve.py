"""Follow-up resolution: (conversation state, new message) → what to do with the message.

Pure functions over the state, the message and the corpus lexicon. A message becomes a
self-contained question (pronouns and place references replaced, an elliptical "那舟山镇呢" /
"7月份呢" filled into the last question), a request for the next items of the last list
("还有呢"), or a clarification when what it refers to is unknown: never a guess.
Word lists are in retrieval/lexicon/data/dialogue_*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from retrieval.dialogue.referents import ANY_PLACE, Tagger, default_tagger
from retrieval.dialogue.state import DialogueState, mentions, place_suffixes
from retrieval.dialogue.topic import is_time, replace_time, replace_topic, time_spans
from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.words import word_list, word_set, word_table

__all__ = ["ASK_WHAT_MORE", "ASK_WHERE", "ASK_WHICH_ARTICLE", "ASK_WHO", "Resolution", "is_time", "resolve",
           "time_spans"]

ASK_WHO = "您问的是哪位？"
ASK_WHERE = "您问的是哪个地方？"
ASK_WHICH_ARTICLE = "您问的是哪篇报道？"
ASK_WHAT_MORE = "您想继续了解什么？请把问题说完整一些。"

Action = Literal["ask", "more", "clarify"]
_END_PUNCT = "？?！!。.，,~～…　 \t"


@dataclass(frozen=True)
class Resolution:
    """``action`` "ask": ask ``question`` (self-contained; ``changed`` if it differs from the
    message); "more": show the next items of the last list, or the rest of the passage a
    sentence answer quoted; "clarify": reply ``message``.
    ``entity`` is the person or place the message was resolved to ("" if none), ``kind`` which
    of the two it is."""

    action: Action
    question: str = ""
    message: str = ""
    entity: str = ""
    changed: bool = False
    kind: Literal["", "person", "place"] = ""


def _longest_first(words: object) -> list[str]:
    return sorted(words, key=len, reverse=True)  # type: ignore[call-overload,no-any-return]


@cache
def _ref_words() -> tuple[str, ...]:
    """Every word that refers back (他, 该镇, 这篇报道) or only looks like one (其他)."""
    return (*word_list("dialogue_person_refs"), *word_list("dialogue_group_refs"), *word_table("dialogue_place_refs"),
            *word_list("dialogue_article_refs"), *word_list("dialogue_not_refs"))


def _strip_ellipsis(text: str) -> tuple[str, bool, bool]:
    """The message without its ellipsis markers ("那…呢"), and whether it had a leading and a
    closing one."""
    table = word_table("dialogue_ellipsis")
    rest, lead, close = text, False, False
    for word in _longest_first(w for w, pos in table.items() if pos == "prefix"):
        if rest.startswith(word) and len(rest) > len(word) and not rest.startswith(_ref_words()):
            rest, lead = rest[len(word):], True
            break
    for word in _longest_first(w for w, pos in table.items() if pos == "suffix"):
        if rest.endswith(word) and len(rest) > len(word):
            rest, close = rest[: -len(word)], True
            break
    return rest.strip(_END_PUNCT), lead, close


def _entity_kind(name: str, lexicon: Lexicon) -> str:
    """"person" / "place" for a bare name: from the lexicon, else by its shape (a place-name
    suffix, or a known surname and one or two more characters)."""
    if name in lexicon.people:
        return "person"
    if name in lexicon.places:
        return "place"
    if not re.fullmatch(r"[\u4e00-\u9fff]{2,12}", name) or any(w in name for w in _ref_words()):
        return ""  # 那里, 其他镇: a reference or a look-alike, not a name
    if any(name.endswith(s) and len(name) > len(s) + 1 for s in place_suffixes()):
        return "place"
    if 2 <= len(name) <= 3 and name[0] in word_set("surnames"):
        return "person"
    return ""


def _replace_slot(question: str, new: str, kind: str, lexicon: Lexicon) -> str | None:
    """``question`` with its newest person (or place) replaced by ``new``, or None if it names
    none of that kind."""
    same = [m for m in mentions(question, lexicon) if m.kind == kind]
    if not same:
        return None
    old = same[-1]
    return question[: old.start] + new + question[old.start + len(old.name):]


def _elliptical(rest: str, closed: bool, state: DialogueState | None, lexicon: Lexicon,
                tagged: Tagger) -> Resolution | None:
    """"那舟山镇呢" / "7月份呢": the last question with its place, person or time swapped.
    None when the message is a question of its own; a clarification when nothing to swap
    into is known, or when a closing "呢" asks about something that fills no slot."""
    if any(w in rest for w in word_list("dialogue_question_words")) or len(rest) > 12:
        return None
    kind = "time" if is_time(rest) else _entity_kind(rest, lexicon)
    if not kind and not closed:
        return None
    if not kind and closed and state is not None and (topical := replace_topic(state.question, rest, lexicon, tagged)):
        return Resolution("ask", topical, changed=True)
    if not kind or state is None:
        return Resolution("clarify", message=f"您想问{rest}的什么？请把问题说完整一些。")
    if kind == "time":
        return Resolution("ask", replace_time(state.question, rest), changed=True)
    question = _replace_slot(state.question, rest, kind, lexicon)
    if question is None:
        return Resolution("clarify", message=f"您想问{rest}的什么？请把问题说完整一些。")
    return Resolution("ask", question, entity=rest, changed=True, kind="person" if kind == "person" else "place")


def _find_refs(text: str, refs: list[str]) -> list[tuple[int, str]]:
    """(position, ref) for each reference word in ``text`` (longest first, no overlaps), skipping
    ones inside a word that only looks like one (其他, 吉他)."""
    blocked: set[int] = set()
    for word in word_list("dialogue_not_refs"):
        for m in re.finditer(re.escape(word), text):
            blocked |= set(range(*m.span()))
    found: list[tuple[int, str]] = []
    taken: set[int] = set(blocked)
    for ref in _longest_first(refs):
        for m in re.finditer(re.escape(ref), text):
            span = set(range(*m.span()))
            if not span & taken:
                taken |= span
                found.append((m.start(), ref))
    return sorted(found)


def _substitute(text: str, found: list[tuple[int, str]], value: str) -> str:
    for start, ref in sorted(found, reverse=True):
        text = text[:start] + value + text[start + len(ref):]
    return text


def _article_ref(text: str, state: DialogueState | None) -> Resolution | str:
    """"这篇报道里…": the last cited article's title in place of the reference."""
    found = _find_refs(text, list(word_list("dialogue_article_refs")))
    if not found:
        return text
    if state is None or not state.citations:
        return Resolution("clarify", message=ASK_WHICH_ARTICLE)
    title = state.citations[0].title
    for start, ref in sorted(found, reverse=True):
        end = start + len(ref)
        if text[end:end + 1] in {"里", "中", "上"}:  # 这篇报道里哪位… → 标题，哪位…
            end += 1
        before, after = text[:start].rstrip("在从据按，, "), text[end:].lstrip("的，, ")
        text = f"{before}{title}，{after}" if before else f"{title}，{after}"
    return text


def _group_ref(question: str, state: DialogueState | None, named: int) -> Resolution | str:
    """"他们分别是哪国的": the people the last answer listed in place of the group pronoun, or a
    clarification when it listed none (never the one person named last: 他们 is not 他)."""
    found = _find_refs(question, list(word_list("dialogue_group_refs")))
    if not found or named >= 2:
        return question
    if state is None or not state.people:
        return Resolution("clarify", message=ASK_WHO)
    return _substitute(question, found, "、".join(state.people))


def resolve(state: DialogueState | None, message: str, lexicon: Lexicon,
            tagged: Tagger | None = None) -> Resolution:
    """What to do with ``message`` given the conversation so far (``state`` is None when there
    is none, or it expired). Never substitutes anything it cannot find in the state.
    ``tagged`` is the index tokenizer's tagging (the lexicon's own when not given)."""
    tagged = tagged or default_tagger(lexicon)
    text = message.strip().rstrip(_END_PUNCT).strip() or message.strip()
    if text in word_set("dialogue_more"):
        # the next items of a list, or the rest of the passage a sentence answer quoted
        last = state.answer if state is not None else None
        if last is None or not last.found or (last.kind == "list" and not last.items):
            return Resolution("clarify", message=ASK_WHAT_MORE)
        return Resolution("more")
    rest, lead, close = _strip_ellipsis(text)
    if lead or close:
        ellipsis = _elliptical(rest, close, state, lexicon, tagged)
        if ellipsis is not None:
            return ellipsis
    named = mentions(text, lexicon)
    question = _article_ref(text, state)
    if isinstance(question, Resolution):
        return question
    entity, kind_of = "", ""
    places = dict(word_table("dialogue_place_refs"))
    for start, ref in reversed(_find_refs(question, list(places))):
        kind = places[ref]
        if any(m.kind == "place" and (kind == ANY_PLACE or m.name.endswith(kind)) for m in named):
            continue  # "舟山镇…该镇…": the message names the place itself
        place = state.place_of_kind(kind) if state else ""
        if not place:
            return Resolution("clarify", message=ASK_WHERE)
        question, entity, kind_of = _substitute(question, [(start, ref)], place), place, "place"
    question = _group_ref(question, state, sum(m.kind == "person" for m in named))
    if isinstance(question, Resolution):
        return question
    people = _find_refs(question, list(word_list("dialogue_person_refs")))
    if people and not any(m.kind == "person" for m in named):
        if state is None or not state.person:
            return Resolution("clarify", message=ASK_WHO)
        question, entity, kind_of = _substitute(question, people, state.person), state.person, "person"
    return Resolution("ask", question, entity=entity, changed=question != text,
                      kind="person" if kind_of == "person" else "place" if kind_of else "")
