"""Typed answer spans in a sentence: amounts, dates, people, roles, places, organisations and
names of events or documents — what a question of that type can be answered with.

Spans come from jieba's part-of-speech tags (nr, ns, nt, m, t), the corpus lexicon and the
word lists in ``retrieval/lexicon/data/`` (units, organisation and name endings, titles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.lexicon.words import word_list, word_table
from retrieval.qa.analysis import PERSON_TAGS, Analysis
from retrieval.qa.question import PLACE_KINDS
from retrieval.text import word_offsets

_DIGITS = r"[0-9０-９][0-9０-９,，.．]*|[零〇一二两三四五六七八九十百千万亿]+(?:点[零一二三四五六七八九]+)?"
_DATE = re.compile(
    r"(?:(?:19|20)\d{2}年(?:\d{1,2}月(?:\d{1,2}[日号])?|[一二三四]季度|上半年|下半年)?"
    r"|\d{1,2}月\d{1,2}[日号](?:[上下]午|晚|凌晨)?|\d{1,2}月(?:[上中下]旬|份|底|初)?"
    r"|[一二三四五六七八九十]{1,3}月(?:[一二三四五六七八九十]{1,3}日)?|\d{1,2}[日号](?:[上下]午|晚|凌晨)?)"
)
_PLACE_TAGS = frozenset({"ns"})
_ORG_TAGS = frozenset({"nt"})
_NAME_PART_TAGS = frozenset({"n", "ns", "nt", "nz", "j", "eng", "vn"})
# Time words that name a time (上午, 今年), not other words jieba tags as time (前往).
_TIME_ENDINGS = tuple("年月日天午晚周季旬夜晨节")


@dataclass(frozen=True)
class Span:
    """A candidate answer: its text, offset in the sentence, and kind."""

    text: str
    start: int
    kind: str


_MAGNITUDES = ("万亿", "亿", "万", "千", "百")


@cache
def _amount() -> re.Pattern[str]:
    """A number with its unit, a magnitude between them allowed (25.7万件, 1.95亿人次)."""
    units = "|".join(map(re.escape, sorted(word_list("units"), key=len, reverse=True)))
    magnitude = "|".join(_MAGNITUDES)
    return re.compile(f"(?:{_DIGITS})\\s*(?:多|余)?(?:(?:{magnitude})(?:多|余)?(?:{units})?|(?:{units}))")


@cache
def _role_titles() -> tuple[str, ...]:
    """Titles a role answer ends with (市长, 产品线经理): those written before names in local news
    and the wider ones of ``role_titles.txt``; read once, not per sentence and word."""
    return tuple(dict.fromkeys(word_list("person_titles") + word_list("role_titles")))


def _ending_with(words: list[tuple[str, str]], endings: tuple[str, ...], text: str) -> list[Span]:
    """Multi-word names ending in one of ``endings`` (华为 公司 → 华为公司): the ending word and
    the nouns right before it."""
    spans: list[Span] = []
    offsets = word_offsets(text, words)
    for i, (word, tag) in enumerate(words):
        if offsets[i] < 0 or not word.endswith(endings) or tag[:1] not in ("n", "j"):
            continue
        j = i
        while j > 0 and words[j - 1][1] in _NAME_PART_TAGS and offsets[j - 1] >= 0 and i - j < 3:
            j -= 1
        start = offsets[j]
        name = text[start : offsets[i] + len(word)]
        if len(name) > len(word) or len(word) > max(map(len, endings)) + 1:
            spans.append(Span(name, start, ""))
    return spans


def find_spans(sentence: str, kind: str, words: list[tuple[str, str]], people: frozenset[str] = frozenset(),
               places: frozenset[str] = frozenset()) -> list[Span]:
    """Spans of ``kind`` in ``sentence`` (``words`` are its (word, tag) pairs; ``people`` and
    ``places`` the corpus lexicon), in order of appearance. Kinds without spans ("yesno",
    "description") give []."""
    found: list[Span] = []
    if kind == "number":
        dates = [(m.start(), m.end()) for m in _DATE.finditer(sentence)]
        found = [Span(m.group(0), m.start(), kind) for m in _amount().finditer(sentence)
                 if not any(s <= m.start() and m.end() <= e for s, e in dates)]
    elif kind == "date":
        found = [Span(m.group(0), m.start(), kind) for m in _DATE.finditer(sentence)]
        found += _tagged(sentence, words, lambda w, t: t == "t" and w.endswith(_TIME_ENDINGS), kind)
    elif kind == "person":
        found = _tagged(sentence, words, lambda w, t: (t in PERSON_TAGS and len(w) >= 2) or w in people, kind)
    elif kind == "role":
        titles = _role_titles()
        found = _tagged(sentence, words, lambda w, t: w.endswith(titles), kind)
    elif kind == "place":
        found = _tagged(sentence, words, lambda w, t: (t in _PLACE_TAGS and len(w) >= 2) or w in places, kind)
        found += [Span(n, at, kind) for at, n in find_provinces(sentence) + find_countries(sentence)]
    elif kind == "organization":
        found = _tagged(sentence, words, lambda w, t: t in _ORG_TAGS, kind)
        found += [Span(s.text, s.start, kind) for s in _ending_with(words, word_list("org_suffixes"), sentence)]
    elif kind == "name":
        found = [Span(m.group(0), m.start(), kind) for m in re.finditer(r"《[^》]{1,40}》|“[^”]{2,30}”", sentence)]
        found += [Span(s.text, s.start, kind) for s in _ending_with(words, word_list("name_suffixes"), sentence)]
    return sorted(found, key=lambda s: s.start)


def meets(span: Span, unit: str = "") -> bool:
    """Whether an amount carries the asked unit (亿 matches 276亿元; 万 is a magnitude, so 万元
    matches 元; 人 is counted as 名, 位, 具 too); any span meets an empty unit."""
    if not unit:
        return True
    stem = unit.lstrip("万亿千百") or unit
    alike = (stem, *word_table("unit_equivalents").get(stem, "").split())
    return unit in span.text or span.text.endswith(alike) or any(u in span.text for u in alike[1:])


def answer_spans(sentence: str, words_tagged: list[tuple[str, str]], analysis: Analysis, question: str,
                 question_words: list[str], measured: str = "", people: frozenset[str] = frozenset(),
                 places: frozenset[str] = frozenset()) -> tuple[Span, ...]:
    """Spans of the asked kind in ``sentence`` that can answer: not named by the question, with
    the asked unit, at the asked place level (哪个村 → a village, 哪个国家 →
    a country), in a sentence that names the ``measured`` noun of an amount (GDP does not
    answer 总投资); nearest to the question's words first."""
    if len(measured) >= 2 and measured not in sentence:
        return ()
    found = find_spans(sentence, analysis.answer_type, words_tagged, people, places)
    spans = [s for s in found if s.text not in question and meets(s, analysis.unit)]
    level = PLACE_KINDS.get(analysis.focus, ()) if analysis.answer_type == "place" else ()
    if level == ("国",):
        spans = [s for s in spans if find_countries(s.text)]
    elif level == ("省",):
        spans = [s for s in spans if find_provinces(s.text) or s.text.endswith("省")]
    elif level:
        spans = [s for s in spans if s.text.endswith(level)]
    return tuple(sorted(spans, key=lambda s: nearest_word(sentence, s, question_words)))


def nearest_word(sentence: str, span: Span, words: list[str]) -> int:
    """Characters between ``span`` and the nearest of ``words`` in ``sentence`` (large if none
    occurs): the span closest to what the question talks about is the likeliest answer."""
    best = 10_000
    for word in words:
        at = sentence.find(word)
        while at >= 0:
            gap = max(0, span.start - (at + len(word)), at - (span.start + len(span.text)))
            best = min(best, gap)
            at = sentence.find(word, at + 1)
    return best


def _tagged(sentence: str, words: list[tuple[str, str]], keep, kind: str) -> list[Span]:  # type: ignore[no-untyped-def]
    return [Span(word, at, kind) for (word, tag), at in zip(words, word_offsets(sentence, words), strict=True)
            if at >= 0 and keep(word, tag)]
