"""Question analysis: the kind of answer a question asks for, and the constraints an answer
must meet (years, months, identifiers, the people and places it names).

Pure functions over the question's tagged words; the cue words are data files
(``retrieval/lexicon/data/answer_cues.tsv``, ``focus_types.tsv``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from retrieval.lexicon.words import word_list, word_table
from retrieval.qa.dates import month_days, months_in, years_in
from retrieval.text import HAN_RUN, word_offsets

AnswerType = Literal["number", "date", "person", "role", "place", "organization", "name", "yesno",
                     "description"]

# An identifier names one of a series: 第23届, 神舟十号.
_IDENTIFIER = re.compile(r"第\s*[\d一二三四五六七八九十百]+\s*[届次期批轮号]|[\u4e00-\u9fff]{2}[一二三四五六七八九十]+号")
_NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz"})
PERSON_TAGS = frozenset({"nr", "nrt", "nrfg"})


@dataclass(frozen=True)
class Constraints:
    """What an answer's evidence must agree with. ``years`` as "2022"; ``months`` 1–12, each
    month named or inside a named range (7、8月份, 1-7月); ``identifiers`` as written
    (第23届); ``names`` are the people, places and organisations the question names."""

    years: tuple[str, ...] = ()
    months: tuple[int, ...] = ()
    identifiers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    days: tuple[tuple[int, int], ...] = ()  # (month, day) of each 3月23日 the question names


@dataclass(frozen=True)
class Analysis:
    """``answer_type``: what the answer must contain; ``focus``: the noun asked for ("" if
    none); ``subject``: for "X是谁" the X asked about; ``unit``: the unit an amount must carry
    (亿, 件, 岁), or the precision of an asked date (年, 月, 日), "" if any; ``cue``: the
    interrogative the type was read from (哪家, 多少; "" if none)."""

    answer_type: AnswerType
    focus: str = ""
    subject: str = ""
    constraints: Constraints = Constraints()
    unit: str = ""
    cue: str = ""


def _cue(text: str) -> tuple[str, AnswerType | None]:
    """The longest interrogative cue in ``text`` and its type ("" and None if there is none).
    Yes/no cues count only when no other cue does (吗 only at the end)."""
    table = word_table("answer_cues")
    found = [cue for cue, kind in table.items() if kind != "yesno" and cue in text]
    if found:
        # The longest cue; of two as long, the one that starts first (哪几个国家: 哪几, not 几个).
        cue = min(found, key=lambda c: (-len(c), text.find(c)))
        return cue, table[cue]  # type: ignore[return-value]
    stripped = text.rstrip("？?。!！ ")
    for cue, kind in table.items():
        if kind == "yesno" and (stripped.endswith(cue) if len(cue) == 1 else cue in text):
            return cue, "yesno"
    return "", None


def _typed_noun(candidates: list[str], people: bool = False) -> tuple[str, AnswerType | None]:
    """The first of ``candidates`` (strings, most specific first) that names a known kind; else,
    with ``people`` (a cue that says little by itself: 叫什么, 哪位), the first 2–3 character one
    that word formation makes a person (机长, 运动员, 志愿者: ``person_suffixes``), or a pronoun
    for one (他叫什么名字). Never after a cue that fixes the kind: in 总产值增长了多少, 增长 is no
    person."""
    table = word_table("focus_types")
    for text in candidates:
        if text in table:
            return text, table[text]  # type: ignore[return-value]
    if not people:
        return "", None
    suffixes = tuple(word_list("person_suffixes"))
    for text in candidates:
        if text in ("他", "她") or (2 <= len(text) <= 3 and text.endswith(suffixes) and HAN_RUN.fullmatch(text)):
            return text, "person"
    return "", None


def _focus(text: str, cue: str, cue_type: str | None) -> tuple[str, AnswerType | None, bool]:
    """The noun asked for, its kind, and whether it follows the cue: right after the cue
    (哪个国家 → 国家), else right before it (交付量是多少 → 交付量), else at the end of a
    cue-less question (…死亡人数)."""
    at = text.find(cue) if cue else len(text.rstrip("？?。!！ "))
    after = text[at + len(cue) :].lstrip("个位家些种项座所条件名")
    before = text[:at].rstrip("是的为有在达了叫")
    # 什么重要会议 → 会议: after 什么/哪些, the longest known noun ending the first few characters;
    # after other cues only a noun right at the cue (哪个国家)
    heads = [after[:n][-m:] for n in range(4, 0, -1) for m in range(n, 0, -1)] if cue_type == "which" else []
    weak = cue_type in (None, "name", "which")
    noun, kind = _typed_noun(heads, people=weak)
    if kind is not None:
        return noun, kind, True
    if cue_type == "which" and after[:1] and "\u4e00" <= after[0] <= "\u9fff":
        # a noun follows 哪些/什么 but names no known kind (舟山镇有哪些特色资源): it is what is
        # asked for, so the noun before the cue (镇) says nothing about the answer
        return "", None, True
    noun, kind = _typed_noun([before[-n:] for n in range(5, 0, -1) if len(before) >= n], people=weak)
    return noun, kind, False


def constraints_of(text: str, words: list[tuple[str, str]]) -> Constraints:
    """Years, months, identifiers and names in a question."""
    years = tuple(dict.fromkeys(years_in(text)))
    identifiers = tuple(dict.fromkeys(m.group(0).replace(" ", "") for m in _IDENTIFIER.finditer(text)))
    names = tuple(dict.fromkeys(w for w, tag in words if tag in _NAME_TAGS and len(w) >= 2))
    return Constraints(years, months_in(text), identifiers, names, month_days(text))


def analyze(text: str, words: list[tuple[str, str]]) -> Analysis:
    """Analyse a normalised question given its (word, POS tag) pairs."""
    constraints = constraints_of(text, words)
    cue, cue_type = _cue(text)
    focus, focus_type, follows = _focus(text, cue, cue_type)
    for size in range(min(len(cue) - 1, 3), 0, -1):  # a cue that names its noun: 哪个村, 哪个国家
        if cue[-size:] in word_table("focus_types") and cue_type != "which":
            focus = cue[-size:]
            break
    subject = ""
    if cue == "是谁":
        subject = text[: text.find(cue)].strip()
        # "编剧是谁" asks for a person; "朱志杰是谁" (the subject is a name) asks for that person's
        # role; "章旭升的妻子是谁" names someone but asks for another person
        named = any(subject.endswith(name) for name, tag in words if tag in PERSON_TAGS)
        cue_type = "role" if named and focus_type in (None, "role") else "person"
    # A noun after the cue names the kind (哪个国家 → place); one before it only refines a cue
    # that says little by itself (什么, 多少 → 交付量是多少 stays a number).
    weak = cue_type in (None, "name", "which")
    if focus_type is not None and cue != "是谁" and (weak or (follows and cue_type != "number")):
        answer_type: AnswerType = focus_type
    else:
        answer_type = cue_type if cue_type not in (None, "which") else "description"  # type: ignore[assignment]
    if answer_type == "number":
        unit = _unit(text)
    else:  # a date asked by year, month or day (哪一年 → 年) must be given that precisely
        precisions = word_table("date_cues").items() if answer_type == "date" else ()
        unit = next((precision for asking, precision in precisions if asking in text), "")
    return Analysis(answer_type, focus, subject, constraints, unit, cue)


def _unit(text: str) -> str:
    """The unit an asked amount must carry: written after 多少/几 (多少亿元 → 亿元), or implied
    by the question (几岁, 年龄 → 岁); "" if the question leaves it open."""
    for cue, unit in word_table("unit_cues").items():
        if cue in text:
            return unit
    units = sorted(word_list("units"), key=len, reverse=True)
    for asking in ("多少", "几"):
        at = text.find(asking)
        if at >= 0:
            rest = text[at + len(asking) :]
            return next((u for u in units if rest.startswith(u)), "")
    return ""


_CLAUSE_BREAKS = "，,。；;：:？?！!、（）()"


def relation_nouns(text: str, words: list[tuple[str, str]], cue: str, skip: frozenset[str]) -> tuple[str, ...]:
    """The nouns right beside the interrogative ``cue`` (``Analysis.cue``), the nearest before it
    and the nearest after it (机长叫什么名字 → 机长; 总产值是多少 → 总产值): what the question asks
    about, as opposed to the topic it names. ``skip`` holds nouns that only name the kind of
    answer (国家, 公司, 时候)."""
    at = text.find(cue) if cue else -1
    if at < 0:
        return ()

    def asks(word: str, tag: str) -> bool:
        return len(word) >= 2 and tag in ("n", "vn") and word not in skip and word not in cue and cue not in word

    # Only the cue's own clause: "作风建设专项行动中，全市有多少支三服务队…" asks about 三服务队.
    start = max(text.rfind(p, 0, at) for p in _CLAUSE_BREAKS) + 1
    ends = [e for e in (text.find(p, at) for p in _CLAUSE_BREAKS) if e >= 0]
    end = min(ends) if ends else len(text)
    placed = [(s, w, t) for (w, t), s in zip(words, word_offsets(text, words), strict=True) if s >= 0]
    before = [w for s, w, t in placed if start <= s and s + len(w) <= at and asks(w, t)]
    after = [w for s, w, t in placed if s >= at + len(cue) and s + len(w) <= end and asks(w, t)]
    return tuple(dict.fromkeys(before[-1:] + after[:1]))
