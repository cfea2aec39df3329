"""What the last answer gave that a follow-up may point back to.

After "被誉为第二代大庆新铁人的是谁" the next "他" means the person the answer named, not anyone
in the question; after "…在哪个县" the next "当地" means the county answered. So a who/where
question's answer replaces the conversation's person or place, and when the answer names none
(not found) or several, that referent becomes unclear and a follow-up pointing at it asks back
rather than guessing. A list of people is what "他们" means next.

Pure functions over the question, its Answer, the corpus lexicon and the index tokenizer's
tagging (which knows the corpus's names, so 谢彬蓉 is one word where it was mined).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.models import Answer
from retrieval.qa.analysis import PERSON_TAGS, analyze
from retrieval.qa.evidence import reads_as_name
from retrieval.qa.question import PLACE_KINDS
from retrieval.text import HAN_RUN, word_offsets

Tagger = Callable[[str], list[tuple[str, str]]]
Asked = Literal["", "person", "place"]

ANY_PLACE = "*"
# The last character of a place noun names its kind (城市 → 市, 岛国 → 国, 县 → 县).
_KIND_CHARS = "国省市县州区镇村乡"
_PLACE_TAGS = ("ns", "nrt", "nz")
# Single characters that end a name rather than continue it (王毅说, 金政在): a lone one of
# these after a name is never read as the name's last character.
_AFTER_NAME = frozenset("说在是的和与及等为对向从也都就还已曾将被把给让到去来会要表称指同跟而则又并于时")


@lru_cache(maxsize=4)
def default_tagger(lexicon: Lexicon) -> Tagger:
    """The tagging an index with ``lexicon`` uses, for callers that do not pass the index's own
    (tests, a console without an index): same class, same names, so the same cuts."""
    return WordTokenizer(lexicon).tagged


@dataclass(frozen=True)
class Answered:
    """``asked``: what the question asked for ("person", "place", or "" for anything else);
    ``person`` / ``place``: the one the answer gave ("" when it gave none or several, and the
    referent of that kind is then unclear); ``place_kind``: the kind of place asked for
    (国, 县, 镇 …, or * for any); ``people``: the people of a list answer (for 他们)."""

    asked: Asked = ""
    person: str = ""
    place: str = ""
    place_kind: str = ANY_PLACE
    people: tuple[str, ...] = ()


def focus_kind(focus: str) -> str:
    """The kind of place a focus noun asks for: 城市 → 市, 国家 → 国, 街道 → 街道; * for any."""
    kinds = PLACE_KINDS.get(focus)
    if kinds:
        return kinds[0]
    if focus and focus[-1] in _KIND_CHARS:
        return focus[-1]
    return ANY_PLACE


def place_kind(name: str) -> str:
    """The kind of a place by its name alone: a country 国, a province 省, else its suffix
    character (曲周县 → 县), "" when the name says nothing."""
    if find_countries(name) and find_countries(name)[0] == (0, name):
        return "国"
    if find_provinces(name) and find_provinces(name)[0] == (0, name):
        return "省"
    for suffix in ("街道", "社区"):
        if name.endswith(suffix):
            return suffix
    return name[-1] if len(name) >= 3 and name[-1] in _KIND_CHARS else ""


def _reads_as_person(name: str, lexicon: Lexicon, tagged: Tagger) -> bool:
    if name in lexicon.people or reads_as_name(name):
        return True
    words = tagged(name)
    return len(words) == 1 and words[0][1] in PERSON_TAGS


def _reads_as_place(name: str, kind: str, focus: str, lexicon: Lexicon, tagged: Tagger) -> bool:
    """A place of ``kind`` by name: known (lexicon, countries, provinces) or tagged as a place,
    never one that only describes (大城市 for 哪个城市: it holds the noun asked about)."""
    if not HAN_RUN.fullmatch(name) or len(name) < 2 or (len(focus) >= 2 and focus in name):
        return False
    own = place_kind(name)
    if kind not in (ANY_PLACE, own) and not (own == "" and name in lexicon.places):
        return False
    if name in lexicon.places or own in ("国", "省"):
        return True
    # an unknown name with a place suffix (曲周县): its first word a noun or name, not 大/新/第一
    words = tagged(name)
    return bool(own) and bool(words) and words[0][1].startswith(("n", "x"))


def complete_name(name: str, text: str, tagged: Tagger) -> str:
    """``name`` as the text writes it in full: a two-character span the tagger cut short
    (谢彬 of 谢彬蓉: 谢彬/蓉) gets its third character when a lone character follows it and
    follows it wherever the text names it. "" when the text reads it otherwise everywhere."""
    if name not in text:
        return name
    words = tagged(text)
    offsets = word_offsets(text, words)
    for (word, tag), start in zip(words, offsets, strict=True):
        if start < 0 or not text.startswith(name, start):
            continue
        if word != name:  # the tagger knows the longer name (a mined one): take it
            return word if word.startswith(name) and tag in PERSON_TAGS and len(word) <= 4 else name
        after = text[start + len(name): start + len(name) + 1]
        nexts = {text[m.end(): m.end() + 1] for m in re.finditer(re.escape(name), text)}
        lone = next((w for (w, _), s in zip(words, offsets, strict=True)
                     if s == start + len(name)), "")
        if len(name) == 2 and lone == after and HAN_RUN.fullmatch(after or "x") is not None \
                and after not in _AFTER_NAME:
            return name + after if nexts == {after} else ""
        return name
    return name


def _list_people(answer: Answer, asks_person: bool, lexicon: Lexicon, tagged: Tagger) -> tuple[str, ...]:
    """The people a list answer gave: its items when the question asked for people (伊姆兰·汗 is
    one though no name rule reads it), else only items that each read as a name."""
    labels = [item.label for item in answer.items]
    if len(labels) >= 2 and (asks_person or all(_reads_as_person(label, lexicon, tagged) for label in labels)):
        return tuple(labels)
    return ()


def _answer_sentence(answer: Answer) -> str:
    """The quoted archive text of a factoid answer (without its "答：…" line)."""
    lines = answer.text.split("\n")
    return "\n".join(lines[1:]) if lines[0].startswith("答：") and len(lines) > 1 else answer.text


def _place_in(sentence: str, question: str, kind: str, focus: str, lexicon: Lexicon,
              tagged: Tagger) -> str:
    """The one place of ``kind`` the sentence names and the question does not; "" for none
    or several. Besides known names, "…城市克赖斯特彻奇": a name right after the noun asked for."""
    found: set[str] = set()
    words = tagged(sentence)
    for n, (word, tag) in enumerate(words):
        if word in question:
            continue
        appositive = bool(focus) and n > 0 and words[n - 1][0].endswith(focus) \
            and tag.startswith(_PLACE_TAGS) and len(word) >= 2 and HAN_RUN.fullmatch(word) is not None
        if appositive or _reads_as_place(word, kind, focus, lexicon, tagged):
            found.add(word)
    return found.pop() if len(found) == 1 else ""


def answered(question: str, answer: Answer, lexicon: Lexicon, tagged: Tagger) -> Answered:
    """What ``answer`` gave for ``question``, as a follow-up may refer to it."""
    analysis = analyze(question, tagged(question))
    kind = focus_kind(analysis.focus)
    listed = answer.found and answer.kind == "list"
    people = _list_people(answer, analysis.answer_type == "person", lexicon, tagged) if listed else ()
    # "什么乡镇" asks what kind of town (a description); "哪个县", "是谁", "叫什么" ask which one
    if analysis.answer_type in ("person", "name") and analysis.cue != "什么" and (
            analysis.answer_type == "person" or people):
        asked: Asked = "person"
    elif analysis.answer_type == "place" and "哪" in analysis.cue:
        asked = "place"
    else:
        return Answered(people=people)
    if not answer.found:
        return Answered(asked, place_kind=kind)
    if answer.kind == "list":
        labels = [item.label for item in answer.items]
        one = labels[0] if len(labels) == 1 else ""
        if asked == "person":
            return Answered(asked, person=one if one and _reads_as_person(one, lexicon, tagged) else "",
                            people=people)
        place = one if one and _reads_as_place(one, kind, analysis.focus, lexicon, tagged) else ""
        return Answered(asked, place=place, place_kind=kind)
    # where the reader named the short answer (ANSWER_READER=hybrid), the rules' span of the asked
    # type, or none: a follow-up's 他/那里 needs an entity whose type is known, and the reader's
    # span has none
    short = str(answer.extra["typed_answer"] if "typed_answer" in answer.extra
                else answer.extra.get("short_answer", ""))
    sentence = _answer_sentence(answer)
    if asked == "person":
        if not short or not _reads_as_person(short, lexicon, tagged) or short in question:
            return Answered(asked)
        return Answered(asked, person=complete_name(short, sentence, tagged))
    if short and short not in question and _reads_as_place(short, kind, analysis.focus, lexicon, tagged):
        return Answered(asked, place=short, place_kind=kind)
    return Answered(asked, place=_place_in(sentence, question, kind, analysis.focus, lexicon, tagged),
                    place_kind=kind)
