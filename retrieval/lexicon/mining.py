"""The corpus's own names: people named after a title and places ending in 镇/村/街道/社区.

Generic jieba splits unseen local names (朱志杰 → 朱/志杰, 古山镇 → 古山/镇), which hurts both
keyword search and entity questions. We mine them at index time and teach them to the index's
tokenizer (``retrieval.lexicon.tokenizer``). The word lists these rules use are data files
(``retrieval/lexicon/data/``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from retrieval.lexicon.words import load_word_tags, word_list, word_set
from retrieval.text import HAN

PERSON_TITLES = word_list("person_titles")
PLACE_SUFFIXES = word_list("place_suffixes")
# Characters that make "X镇" generic (全镇, 该镇, 强镇) rather than a named place.
_PLACE_FUNCTION_CHARS = word_set("place_function_chars")
_PLACE_STEM_BLOCK = word_set("place_stem_block")
# A known common word of these classes before 镇/村 is a description (推进镇, 整治村), not a name.
_PLACE_OK_TAGS = frozenset({"ns", "nr", "nrt", "nz"})
# Common surnames (about 97% of the population): a title followed by one of these starts a name.
SURNAMES = word_set("surnames")
_NAME_BREAK = word_set("name_break_chars")
_PERSON_AFTER_TITLE = re.compile(
    "(?:" + "|".join(sorted(PERSON_TITLES, key=len, reverse=True)) + f")\\s*([{HAN}]{{2,3}})"
)
_PLACE_SUFFIX_RE = re.compile("|".join(PLACE_SUFFIXES))
# A person's name the dictionary knows is tagged nr* (or nz for a rare full name, 周铁农); a
# word after a title that the dictionary knows as another class is not one (主席 国家…, 委员长
# 强调…: 国, 强 are surnames, but 国家 is a noun and 强调 a verb).
_PERSON_OK_TAGS = ("nr", "nz")
#: Bumped when mining changes what it finds: an index mined by another version is brought up to
#: date by the next build even if no corpus file changed (vectors are reused; only the lexicon,
#: the tokens it touches and BM25 are redone).
MINING_VERSION = 2
_HAN_RE = re.compile(f"[{HAN}]")


@dataclass(frozen=True)
class Lexicon:
    """Names found in a corpus. ``people`` and ``places`` are sorted, unique."""

    people: tuple[str, ...] = ()
    places: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return self.people + self.places

    def to_json(self) -> dict[str, list[str]]:
        return {"people": list(self.people), "places": list(self.places)}

    @classmethod
    def from_json(cls, data: dict[str, list[str]]) -> Lexicon:
        return cls(tuple(data.get("people", ())), tuple(data.get("places", ())))


def mine_people(texts: Iterable[str]) -> list[str]:
    """People named right after a title. Between a 2- and 3-character reading
    (金政主持 vs 朱志杰带队) the 3-character one wins only if it is nearly as
    frequent in the corpus as its 2-character prefix."""
    corpus = "\n".join(texts)
    candidates: Counter[str] = Counter(m.group(1) for m in _PERSON_AFTER_TITLE.finditer(corpus))
    tags = load_word_tags()
    kept = [c for c in candidates if c[0] in SURNAMES and c[:2] not in PERSON_TITLES]
    counts = count_occurrences(corpus, [w for c in kept if len(c) == 3 for w in (c, c[:2])])
    people: set[str] = set()
    for cand in kept:
        two, three = cand[:2], cand[:3]
        if len(cand) == 3 and cand[2] not in _NAME_BREAK and counts[three] >= 0.6 * counts[two]:
            people.add(three)
        elif two[1] not in _NAME_BREAK:
            people.add(two)
    return sorted(p for p in people if tags.get(p, "nr").startswith(_PERSON_OK_TAGS))


def word_automaton(words: Iterable[str]) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton over the non-empty ``words`` (each its own value), ready to
    search a text for all of them in one pass; None when there are none."""
    automaton = ahocorasick.Automaton()
    for word in set(words):
        if word:
            automaton.add_word(word, word)
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def count_occurrences(text: str, words: Iterable[str]) -> Counter[str]:
    """How often each of ``words`` occurs in ``text`` (overlaps included), in one
    Aho-Corasick pass: thousands of ``str.count`` scans took 12 s on a 10k-article corpus."""
    automaton = word_automaton(words)
    return Counter(word for _, word in automaton.iter(text)) if automaton is not None else Counter()


def is_place_stem(stem: str, tags: dict[str, str]) -> bool:
    """Whether ``stem`` + 镇/村/街道/社区 reads as a named place (古山镇, 申亭村)."""
    if len(stem) != 2 or not all(_HAN_RE.fullmatch(c) for c in stem):
        return False
    if stem in _PLACE_STEM_BLOCK or stem[0] in _PLACE_FUNCTION_CHARS or stem[1] in _PLACE_FUNCTION_CHARS:
        return False
    tag = tags.get(stem)
    # A noun stem counts too (古山 is tagged n). This once also required the noun to be rare in
    # jieba's global dictionary, but that dictionary is only loaded if something else in the
    # process loaded it first, so mining gave different lexicons in different processes
    # (found when the generation guard, which uses jieba.posseg, ran before a build in the same
    # test session). Every index so far was mined without that check; blocked stems are data
    # (place_stem_block.txt).
    return tag is None or tag in _PLACE_OK_TAGS or tag == "n"


def find_places(text: str, tags: dict[str, str]) -> list[tuple[int, str]]:
    """Named places in ``text`` as (offset, name), in order of appearance.
    ``tags`` is ``load_word_tags()`` (or ``WordTokenizer.tags``)."""
    found: list[tuple[int, str]] = []
    for m in _PLACE_SUFFIX_RE.finditer(text):
        start = m.start()
        stem = text[max(0, start - 2) : start]
        if is_place_stem(stem, tags):
            found.append((start - 2, stem + m.group(0)))
    return found


def mine_places(texts: Iterable[str]) -> list[str]:
    """Places ending in 镇/村/街道/社区, minus generic words (全镇, 乡村, 强镇)."""
    tags = load_word_tags()
    return sorted({name for text in texts for _, name in find_places(text, tags)})


def mine_lexicon(texts: Iterable[str]) -> Lexicon:
    materialised = list(texts)
    return Lexicon(tuple(mine_people(materialised)), tuple(mine_places(materialised)))
