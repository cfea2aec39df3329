"""When a question or an answer is about: the years, months and days a text names, and whether
an answer sentence (with its headline, its article's date and lead) agrees with the ones a
question asks for. Pure string functions; the archive writes dates in Arabic digits.
"""

from __future__ import annotations

import re

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年")
# 7月, 7、8月份, 1-7月 and 3月到5月 (ranges): the months named, with the year they follow, if any.
_MONTHS = re.compile(r"(?<!\d)((?:\d{1,2}\s*[、,，和及]\s*)*\d{1,2})(?:\s*(?:月份?)?\s*[-—至到~]\s*(\d{1,2}))?\s*月")
_MONTH_CN = re.compile(r"([一二三四五六七八九十]{1,2})月份?")
_CN_MONTHS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}


def _iso_month_day(iso_date: str) -> tuple[int, int] | None:
    """(month, day) of an ISO date "2019-05-05", or None for anything else (a printed dateline)."""
    if iso_date[4:5] == "-" and iso_date[5:7].isdigit() and iso_date[8:10].isdigit():
        return int(iso_date[5:7]), int(iso_date[8:10])
    return None


def _digits_before(text: str, at: int) -> int:
    """Where the (at most two) digits right before ``text[at]`` start; ``at`` if there are none."""
    start = at
    while start > 0 and text[start - 1].isdigit() and at - start < 2:
        start -= 1
    return start


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
        start = _digits_before(text, at)
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
    dated = _iso_month_day(iso_date)
    if dated is not None:
        month, today = dated
        for at, ch in enumerate(lead):
            start = _digits_before(lead, at)
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
        dated = _iso_month_day(iso_date)
        if dated is not None:
            if dated != (month, day):
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
