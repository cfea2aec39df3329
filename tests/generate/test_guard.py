"""The fact guard as pure functions: numerals, full-width forms, dates, each entity kind, [n]."""

from __future__ import annotations

import pytest

from retrieval.generate.guard import GuardFailure, check
from retrieval.generate.numerals import citation_numbers, facts, normalise, strip_citations

PASSAGE = ("本报讯 2019年5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席开幕式。三天里，音乐节共吸引"
           "游客约3.6万人次，其中300多人来自外地，比去年增长5%。音乐节由市文化和广电旅游体育局主办。")
SOURCES = [PASSAGE, "林海峰出席了什么活动"]


def failures(text: str, passages: int = 1) -> list[GuardFailure]:
    return check(text, SOURCES, passages)


@pytest.mark.parametrize(("written", "normal"), [
    ("三百多人", "300多人"),
    ("二〇一九年", "2019年"),
    ("百分之五", "5%"),
    ("百分之三十五点二", "35.2%"),
    ("十点五公里", "10.5公里"),
    ("两百人", "200人"),
    ("五月一日", "5月1日"),
    ("１２３４５人", "12345人"),  # full-width digits
    ("1,234,567元", "1234567元"),
    ("统一一线", "统一一线"),  # 一 inside words is not a number
    ("一些人", "一些人"),
    ("万众一心", "万众一心"),
    ("三四个", "三四个"),  # a range, left alone
    ("三个镇", "3个镇"),
])
def test_normalise(written: str, normal: str) -> None:
    assert normalise(written) == normal


def test_facts_dates_claim_their_numbers_and_magnitudes_apply() -> None:
    stated = facts(normalise("2019年5月1日，游客3.6万人次，二〇二〇年6月增长百分之五"))
    assert [(d.year, d.month, d.day) for d in stated.dates] == [(2019, 5, 1), (2020, 6, None)]
    assert [(n.text, str(n.value)) for n in stated.numbers] == [("3.6万", "36000.0"), ("5", "5")]


def test_citation_markers() -> None:
    assert citation_numbers("甲[1]，乙［2］，丙[1，3]，丁【4】") == [1, 2, 1, 3, 4]
    assert "[" not in strip_citations("甲[1, 2]乙")


@pytest.mark.parametrize("text", [
    "据报道，2019年5月1日晚，首届星空音乐节在方岩景区开幕，副市长林海峰出席[1]。",
    "音乐节共吸引游客约三万六千人次[1]，其中三百多人来自外地，增长百分之五[1]。",
    "二〇一九年五月一日，星空音乐节开幕[1]。",
    "音乐节由市文化和广电旅游体育局主办，５月１日开幕［1］。",  # full-width
    "林海峰出席了星空音乐节开幕式[1]。",
])
def test_faithful_rewrites_pass(text: str) -> None:
    assert failures(text) == []


@pytest.mark.parametrize(("text", "kind", "item"), [
    ("音乐节共吸引游客约4.6万人次[1]。", "number", "4.6万"),
    ("其中四百多人来自外地[1]。", "number", "400"),
    ("比去年增长百分之八[1]。", "number", "8"),
    ("2019年5月3日晚，音乐节开幕[1]。", "date", "2019年5月3日"),
    ("2018年5月1日晚，音乐节开幕[1]。", "date", "2018年5月1日"),
    ("林海峰和王建国出席开幕式[1]。", "person", "王建国"),
    ("副市长陈晓东出席开幕式[1]。", "person", "陈晓"),
    ("音乐节在杭州市举行[1]。", "place", "杭州市"),
    ("音乐节在古山镇举行[1]。", "place", "古山镇"),
    ("音乐节在日本举行[1]。", "place", "日本"),
    ("音乐节由浙江大学主办[1]。", "organisation", "浙江大学"),
    ("音乐节由永康市五金协会主办[1]。", "organisation", "五金协会"),
])
def test_each_fabricated_item_is_named(text: str, kind: str, item: str) -> None:
    found = failures(text)
    assert any(f.kind == kind and item in f.text for f in found), found


def test_question_is_a_source() -> None:
    assert failures("林海峰出席了音乐节[1]。") == []
    assert check("张三出席[1]。", [PASSAGE, "张三出席了吗"], 1) == []


@pytest.mark.parametrize(("text", "passages", "expected"), [
    ("音乐节开幕[2]。", 1, [GuardFailure("citation", "[2]")]),
    ("音乐节开幕[0]。", 1, [GuardFailure("citation", "[0]")]),
    ("音乐节开幕。", 1, [GuardFailure("citation", "none")]),
    ("音乐节开幕[1][2]。", 2, []),
    ("   ", 1, [GuardFailure("empty", "")]),
])
def test_citations(text: str, passages: int, expected: list[GuardFailure]) -> None:
    assert failures(text, passages) == expected


def test_citation_can_be_optional() -> None:
    assert check("音乐节开幕。", SOURCES, 1, require_citation=False) == []
