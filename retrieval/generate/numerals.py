"""Numbers and dates in Chinese text, normalised so a rewrite can be compared with its sources.

A generated answer may write "三百多人" where the passage says "300多人", "二〇一九年" for
"2019年" or "百分之五" for "5%". :func:`normalise` turns Chinese numerals into Arabic ones (with
``cn2an``) and full-width forms into half-width ones (NFKC); :func:`facts` then lists the numbers
(with their 万/亿 magnitude applied) and the dates a text states.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

import cn2an

from retrieval.lexicon.words import word_list

# The Chinese numeral alphabet: a closed set of characters, like HAN in retrieval/text.py.
CN_DIGITS = "〇零一二两三四五六七八九"
CN_NUMERALS = CN_DIGITS + "十百千万亿"
_POSITIONAL = frozenset("十百千万亿")
_DIGIT_VALUE = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "两": "2"}
_DATE_UNITS = ("年", "月", "日", "号")
_CN_RUN = re.compile(f"百分之[{CN_NUMERALS}]+(?:点[{CN_DIGITS}]+)?|[{CN_NUMERALS}]+(?:点[{CN_DIGITS}]+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MAGNITUDE = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_CITATION = re.compile(r"[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】]")
# Dates, most specific first; each match claims its span so its parts are not read again.
_DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月"),
    re.compile(r"(?<![\d.])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"),
)


@cache
def _units() -> tuple[str, ...]:
    """Measure words after which a single Chinese numeral is a quantity (三个, 五天), longest first."""
    return tuple(sorted({*word_list("units"), *_DATE_UNITS}, key=len, reverse=True))


def _digits_only(run: str) -> str:
    return "".join(_DIGIT_VALUE[c] for c in run)


def _convert(run: str, after: str) -> str | None:
    """Arabic form of one Chinese numeral run, or None to leave it as written.

    Single characters are numbers only before a measure word (三个, 五月): 一 alone is mostly
    an article or part of a word (一些, 统一, 一线), so it counts only in dates (一月, 一日).
    A run of bare digits (二〇一九, 一九) is read digit by digit only before 年 or with a zero in it;
    elsewhere (三四个) it is a range, left alone."""
    if run.startswith("百分之"):
        inner = _convert(run[3:], "%")
        return f"{inner}%" if inner is not None else None
    if run[0] in "万亿" or set(run) <= _POSITIONAL - {"十"}:
        return None  # 万众一心, 千万: a magnitude word, not a number
    if len(run) == 1:
        if run == "一":
            return "1" if after[:1] in _DATE_UNITS else None
        if not any(after.startswith(u) for u in _units()):
            return None
    if "点" not in run and not _POSITIONAL & set(run) and len(run) > 1:
        return _digits_only(run) if (after.startswith("年") or set(run) & {"〇", "零"}) else None
    try:
        value = cn2an.cn2an(run, "smart")
    except (ValueError, KeyError, IndexError):
        return None  # not a well-formed numeral (十四五): compared as written
    return _plain(Decimal(str(value)))


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def normalise(text: str) -> str:
    """NFKC (full-width digits, letters and brackets to half-width), thousands separators dropped,
    Chinese numerals as Arabic ones ("三百多人" → "300多人", "百分之五" → "5%")."""
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text))
    out: list[str] = []
    last = 0
    for m in _CN_RUN.finditer(text):
        converted = _convert(m.group(0), text[m.end() : m.end() + 4])
        if converted is not None:
            out += [text[last : m.start()], converted]
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def strip_citations(text: str) -> str:
    """The text without its [n] markers (a space in their place, so words are not joined)."""
    return _CITATION.sub(" ", text)


def citation_numbers(text: str) -> list[int]:
    """Every passage number cited as [1], [1, 2], [1，2] or 【1】, in order (NFKC applied first)."""
    found = []
    for m in _CITATION.finditer(unicodedata.normalize("NFKC", text)):
        found += [int(n) for n in re.findall(r"\d+", m.group(0))]
    return found


@dataclass(frozen=True)
class DateFact:
    """A date as written: any of year, month, day (None when the text leaves it out)."""

    text: str
    year: int | None
    month: int | None
    day: int | None


@dataclass(frozen=True)
class NumberFact:
    """A number as written ("3.6万") and its value with the magnitude applied (36000)."""

    text: str
    value: Decimal


@dataclass(frozen=True)
class Facts:
    numbers: tuple[NumberFact, ...]
    dates: tuple[DateFact, ...]


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def facts(normalised: str) -> Facts:
    """Dates (at least two of year, month, day) and the other numbers in a :func:`normalise`\\ d
    text whose citation markers are already stripped."""
    claimed = [False] * len(normalised)
    dates: list[DateFact] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(normalised):
            if any(claimed[m.start() : m.end()]):
                continue
            groups = m.groupdict()
            month, day = _int(groups.get("m")), _int(groups.get("d"))
            if not (month and 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
                continue
            dates.append(DateFact(m.group(0), _int(groups.get("y")), month, day))
            claimed[m.start() : m.end()] = [True] * (m.end() - m.start())
    numbers: list[NumberFact] = []
    for m in _NUMBER.finditer(normalised):
        if any(claimed[m.start() : m.end()]):
            continue
        try:
            value = Decimal(m.group(0))
        except InvalidOperation:  # pragma: no cover - the pattern only matches decimals
            continue
        magnitude = normalised[m.end() : m.end() + 1]
        text = m.group(0)
        if magnitude in _MAGNITUDE:
            value, text = value * _MAGNITUDE[magnitude], text + magnitude
        numbers.append(NumberFact(text, value))
    return Facts(tuple(numbers), tuple(dates))


def source_values(normalised: str) -> set[Decimal]:
    """Every number a source states, both as written and with its magnitude (3.6万 → 3.6 and
    36000), date parts included: a rewrite may quote a date's year or day on its own."""
    values: set[Decimal] = set()
    for m in _NUMBER.finditer(normalised):
        value = Decimal(m.group(0))
        values.add(value)
        magnitude = normalised[m.end() : m.end() + 1]
        if magnitude in _MAGNITUDE:
            values.add(value * _MAGNITUDE[magnitude])
    return values
