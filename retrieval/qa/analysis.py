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
from retrieval.text import HAN_RUN, word_offsets

AnswerType = Literal["number", "date", "person", "role", "place", "organization", "name", "yesno",
                     "description"]

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
# 7月, 7、8月份, 1-7月 and 3月到5月 (ranges): the months named, with the year they follow, if any.
_MONTHS = re.compile(r"(?<!\d)((?:\d{1,2}\s*[、,，和及]\s*)*\d{1,2})(?:\s*(?:月份?)?\s*[-—至到~]\s*(\d{1,2}))?\s*月")
_MONTH_CN = re.compile(r"([一二三四五六七八九十]{1,2})月份?")
_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}
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
    (亿, 件, 岁), or the precision of an asked date (年, 月, 日); "" if any; ``cue``: the interrogative the type was read from (哪家, 多少; "" if
    none)."""

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


def years_in(text: str) -> list[str]:
    """The years ("2022") a text names as 2022年."""
    return _YEAR.findall(text)


def years_agree(years: tuple[str, ...], sentence: str, context: str) -> bool:
    """Whether an answer sentence meets the question's years: each asked year is in the sentence
    or its context (headline, date), and the sentence does not speak of other years only
    ("2022年的交付量" is not answered by a sentence about 2021)."""
    if not years:
        return True
    if not all(y in sentence or y in context for y in years):
        return False
    named = years_in(sentence)
    return not named or any(y in named for y in years)


def month_days(text: str) -> tuple[tuple[int, int], ...]:
    """Every "3月23日" / "9月29号" in ``text`` as (month, day), Arabic digits only (the archive
    writes dates so), in order."""
    found: list[tuple[int, int]] = []
    for at, ch in enumerate(text):
        if ch != "月":
            continue
        start = at
        while start > 0 and text[start - 1].isdigit() and at - start < 2:
            start -= 1
        end = at + 1
        while end < len(text) and text[end].isdigit() and end - at <= 2:
            end += 1
        if start < at and at + 1 < end and end < len(text) and text[end] in "日号":
            month, day = int(text[start:at]), int(text[at + 1 : end])
            if 1 <= month <= 12 and 1 <= day <= 31:
                found.append((month, day))
    return tuple(dict.fromkeys(found))


def months_agree(months: tuple[int, ...], sentence: str, headline: str, dateline: str, iso_date: str) -> bool:
    """Whether an answer meets the months the question names (5月初, 7、8月份, 1-7月): a sentence
    that names months names an asked one; one that names none has it in its headline, or its
    article is dated in an asked month ("5月初…死亡多少人" is not answered by a sentence of an
    article dated 4月21日). An article with no readable month is given the benefit of the doubt."""
    if not months:
        return True
    named = months_in(sentence)
    if named:
        return any(m in months for m in named)
    if any(m in months for m in months_in(headline)):
        return True
    if iso_date[4:5] == "-" and iso_date[5:7].isdigit():
        return int(iso_date[5:7]) in months
    printed = months_in(dateline)
    return not printed or any(m in months for m in printed)


def lead_days(lead: str, iso_date: str) -> tuple[tuple[int, int], ...]:
    """The dates an article's lead names, as (month, day): "5月4日", and "4日" with the month of
    the article's date (the month before when the day is later than the article's: news is
    dated the day after the event)."""
    found = list(month_days(lead))
    if iso_date[4:5] == "-" and iso_date[5:7].isdigit() and iso_date[8:10].isdigit():
        month, today = int(iso_date[5:7]), int(iso_date[8:10])
        for at, ch in enumerate(lead):
            start = at
            while start > 0 and lead[start - 1].isdigit() and at - start < 2:
                start -= 1
            if ch not in "日号" or start == at or (start > 0 and lead[start - 1] in "月0123456789"):
                continue
            day = int(lead[start:at])
            if 1 <= day <= 31:
                found.append((month if day <= today else (month - 2) % 12 + 1, day))
    return tuple(found)


def days_agree(days: tuple[tuple[int, int], ...], sentence: str, dateline: str, iso_date: str,
               lead: str = "") -> bool:
    """Whether an answer meets the dates the question names: the sentence names each asked
    date, or names no date of its own and its article is dated that day (the ISO date, or a
    printed dateline: "3月23日晚", or "23日晚" with the month left out) or its lead says the
    story happened that day ("4日，…" in an article dated 5月5日). "3月23日晚…举行了什么活动"
    is not answered by a sentence about 3月24日."""
    if not days:
        return True
    named = month_days(sentence)
    told = lead_days(lead, iso_date) if not named else ()
    for month, day in days:
        if (month, day) in named or (month, day) in told:
            continue
        if named:
            return False
        if iso_date[4:5] == "-" and iso_date[5:7].isdigit() and iso_date[8:10].isdigit():
            if (int(iso_date[5:7]), int(iso_date[8:10])) != (month, day):
                return False
            continue
        printed = month_days(dateline)
        if printed and (month, day) not in printed:
            return False
        day_only = dateline.split("日", 1)[0] if "日" in dateline else ""
        if not printed and not (day_only.isdigit() and int(day_only) == day):
            return False
    return True


def months_in(text: str) -> tuple[int, ...]:
    """The months a text names (7月, 7、8月份, 1-7月 as 1…7, 五月), each once, in order."""
    months: list[int] = []
    for listed, until in _MONTHS.findall(text):
        named = [int(n) for n in re.findall(r"\d+", listed)]
        months += list(range(named[0], int(until) + 1)) if until and len(named) == 1 else named
        if until and len(named) > 1:
            months.append(int(until))
    months = [m for m in months if 1 <= m <= 12]
    months += [_CN_MONTHS[m] for m in _MONTH_CN.findall(text) if m in _CN_MONTHS]
    return tuple(dict.fromkeys(months))


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
