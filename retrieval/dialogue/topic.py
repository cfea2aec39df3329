"""The parts of a question an elliptical follow-up may swap: when it is about ("7月份呢") and
what it measures ("那工期呢" after "金台铁路的总投资是多少").

Pure functions over the question and the index tokenizer's tagging (``Tagger``), which
knows the corpus's names, so a name is never cut apart and swapped piecemeal.
"""

from __future__ import annotations

import re
from functools import cache

from retrieval.dialogue.referents import Tagger
from retrieval.dialogue.state import mentions
from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.words import word_table

_DIGIT = "[0-9０-９一二三四五六七八九十两]"
_RANGE = "[-—–~～到至、]"
_ASKING = ("哪", "什么", "多少", "几", "谁", "何", "啥")
_NOMINAL = ("n", "eng", "m", "q", "j")
# What may stand in a measured noun after the interrogative (多少起“扫黄打非”案件): nouns, idioms
# and abbreviations, verb-nouns, and the quotes around a name.
_AFTER_NOMINAL = ("n", "eng", "j", "i", "l", "vn")
_QUOTES = "“”\"‘’《》"


def _longest_first(words: object) -> list[str]:
    return sorted(words, key=len, reverse=True)  # type: ignore[call-overload,no-any-return]


@cache
def _time_pattern() -> re.Pattern[str]:
    table = word_table("dialogue_time_words")
    whens = "|".join(map(re.escape, _longest_first(w for w, k in table.items() if k == "when")))
    parts = "|".join(map(re.escape, _longest_first(w for w, k in table.items() if k == "part")))
    year = f"{_DIGIT}{{2,4}}年度?"
    month = f"{_DIGIT}{{1,2}}(?:{_RANGE}{_DIGIT}{{1,2}})?月份?"
    day = f"{_DIGIT}{{1,2}}(?:{_RANGE}{_DIGIT}{{1,2}})?[日号]"
    date = f"(?:{year}(?:{month})?(?:{day})?|{month}(?:{day})?|{day})"
    return re.compile(f"(?:{date}|{whens})(?:{parts})?")


def time_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` says when: 9月29日晚, 1到7月, 2019年, 去年 …"""
    return [m.span() for m in _time_pattern().finditer(text)]


def is_time(text: str) -> bool:
    return bool(_time_pattern().fullmatch(text))


def replace_time(question: str, when: str) -> str:
    spans = time_spans(question)
    if not spans:
        return when + question
    start, end = spans[0]
    return question[:start] + when + question[end:]


def _starts(words: list[tuple[str, str]], text: str) -> list[int]:
    """Each word's offset in ``text`` (the tagger drops blanks, so lengths alone drift)."""
    out, at = [], 0
    for word, _ in words:
        at = text.find(word, at)
        out.append(at)
        at += len(word)
    return out


def _topic_before(words: list[tuple[str, str]], starts: list[int], pred: int, question: str) -> tuple[int, int]:
    """The word range of the noun phrase right before the predicate (empty if none)."""
    times = [range(a, b) for a, b in time_spans(question)]
    end = pred
    while end > 0 and words[end - 1][1][:1] in ("d", "j", "p") and words[end - 1][0] != "的":
        end -= 1  # adverbs between topic and predicate stay (同比, 一共)
    start = end
    while start > 0:
        tag = words[start - 1][1]
        timely = tag == "t" or any(starts[start - 1] in t for t in times)
        if timely or not (tag.startswith(_NOMINAL) or tag.startswith("v")):
            break
        start -= 1
    while start < end and not words[start][1].startswith(_NOMINAL):
        start += 1  # a topic starts with a noun or a numeral, not a verb
    return start, end


def _topic_after(words: list[tuple[str, str]], pred: int) -> tuple[int, int]:
    """"多少起“扫黄打非”案件": the noun phrase the interrogative counts, after its classifier
    (empty when none follows)."""
    if not words[pred][0].startswith(_ASKING):
        return pred, pred
    start = pred + 1
    if start < len(words) and (words[start][1].startswith(("q", "m")) or len(words[start][0]) == 1):
        start += 1  # the classifier: 起, 个, 项
    end = start
    while end < len(words) and (words[end][1].startswith(_AFTER_NOMINAL) or words[end][0] in _QUOTES):
        end += 1
    if not any(words[i][1].startswith("n") for i in range(start, end)):
        return pred, pred
    return start, end


def replace_topic(question: str, new: str, lexicon: Lexicon, tagged: Tagger) -> str | None:
    """``question`` with its topic, the noun phrase right before what it asks (总投资 in
    "金台铁路的总投资是多少") or else the one the interrogative counts (案件 in "多少起…案件"),
    replaced by ``new`` ("那工期呢").
    None when no such phrase stands there (a time comes first), or when it names a person or
    place: those are swapped only for another of their kind."""
    words = tagged(question)
    starts = _starts(words, question)

    def asks(i: int) -> bool:
        word, tag = words[i]
        following = words[i + 1][1] if i + 1 < len(words) else ""
        verb = tag.startswith("v") and tag != "vn" and not following.startswith(("n", "eng", "j"))
        return word == "是" or verb or word.startswith(_ASKING)

    pred = next((i for i in range(len(words)) if asks(i)), None)
    if pred is None:
        return None
    start, end = _topic_before(words, starts, pred, question)
    if start == end:
        asking = next((i for i in range(pred, len(words)) if words[i][0].startswith(_ASKING)), pred)
        start, end = _topic_after(words, asking)
    if start == end:
        return None
    lo, hi = starts[start], starts[end - 1] + len(words[end - 1][0])
    # overlapping, not only starting inside: a tagger that does not know a name cuts it apart
    if any(m.start < hi and lo < m.start + len(m.name) for m in mentions(question, lexicon)):
        return None
    return question[:lo] + new + question[hi:]
