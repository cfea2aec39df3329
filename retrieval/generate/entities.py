"""Named things a text mentions: people, places, organisations and other proper nouns.

Two sources, because each misses what the other finds: jieba's part-of-speech tags (``nr*``
person, ``ns`` place, ``nt`` organisation, ``nz`` other proper noun) and the project's lexicon
rules (a surname right after a title such as 副市长, towns ending in 镇/村, the closed lists of
provinces and countries, names ending in an organisation suffix such as 协会 or 公司).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import jieba
import jieba.posseg

from retrieval.lexicon.mining import PERSON_TITLES, SURNAMES, find_places
from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.lexicon.words import load_word_tags, word_list
from retrieval.text import HAN

EntityKind = Literal["person", "place", "organisation", "name"]
_TAG_KIND: dict[str, EntityKind] = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place",
                                    "nt": "organisation", "nz": "name"}
_HAN_RE = re.compile(f"[{HAN}]")
_HAN_ONLY = re.compile(f"[{HAN}]+")


@dataclass(frozen=True)
class Entity:
    kind: EntityKind
    text: str


@cache
def _title_pattern() -> re.Pattern[str]:
    # Longest title first, so 市委副书记 wins over 副书记.
    titles = "|".join(sorted(PERSON_TITLES, key=len, reverse=True))
    return re.compile(f"(?:{titles})\\s*([{HAN}]{{2}})")


@cache
def _org_suffixes() -> tuple[str, ...]:
    return tuple(sorted(word_list("org_suffixes"), key=len, reverse=True))


def _people_after_titles(text: str) -> list[Entity]:
    """"副市长王建国" → 王建: the surname and first given character after a title. Two characters
    are enough to tell a name apart and do not depend on where jieba ends a three-character one.
    A common word there (书记强调 → 强调) is not a name."""
    tags = load_word_tags()
    found = []
    for m in _title_pattern().finditer(text):
        name = m.group(1)
        if name[0] in SURNAMES and tags.get(name, "nr").startswith("nr"):
            found.append(Entity("person", name))
    return found


def _organisations(words: list[tuple[str, str]]) -> list[Entity]:
    """A noun followed by an organisation suffix (五金 + 协会), or one word ending in one."""
    found = []
    suffixes = _org_suffixes()
    for i, (word, _) in enumerate(words):
        if word in suffixes and i > 0:
            before, tag = words[i - 1]
            if tag.startswith("n") and len(before) >= 2 and _HAN_ONLY.fullmatch(before):
                found.append(Entity("organisation", before + word))
        elif len(word) > 2 and word.endswith(suffixes) and _HAN_ONLY.fullmatch(word):
            found.append(Entity("organisation", word))
    return found


def entities(text: str) -> list[Entity]:
    """Every named thing in ``text`` (unique, in order of first mention). Single characters are
    left out: jieba tags lone surnames (李) and they tell nothing on their own."""
    words = [(p.word, p.flag) for p in jieba.posseg.cut(text)]
    found: list[Entity] = []
    for word, tag in words:
        kind = _TAG_KIND.get(tag)
        if kind is not None and len(word) >= 2 and _HAN_RE.search(word):
            found.append(Entity(kind, word))
    found += _people_after_titles(text)
    found += [Entity("place", name) for _, name in find_places(text, load_word_tags())]
    found += [Entity("place", name) for _, name in (*find_provinces(text), *find_countries(text))]
    found += _organisations(words)
    return list(dict.fromkeys(found))
