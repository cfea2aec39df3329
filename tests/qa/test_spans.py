"""Typed answer spans found in a sentence, with no model."""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.qa.spans import Span, find_spans, meets

TOKENIZER = WordTokenizer(Lexicon(("朱志杰",), ("古山镇",)))
SENTENCE = ("21日上午，市长朱志杰带队前往古山镇开展“三服务”活动。2019年7月31日，华为公司与浙江大学在杭州"
            "签署合作协议，金额达3200万元，增长12.5%，共有三百多人参加第23届中国五金博览会。")


def _spans(kind: str) -> list[str]:
    return [s.text for s in find_spans(SENTENCE, kind, TOKENIZER.tagged(SENTENCE), frozenset({"朱志杰"}),
                                       frozenset({"古山镇"}))]


@pytest.mark.parametrize(("kind", "present", "absent"), [
    ("number", ["3200万元", "12.5%", "三百多人"], ["2019年", "21日"]),  # dates are not amounts
    ("date", ["2019年7月31日", "21日上午"], ["前往"]),
    ("person", ["朱志杰"], ["古山镇"]),
    ("role", ["市长"], ["朱志杰"]),
    ("place", ["古山镇", "杭州"], ["朱志杰"]),
    ("organization", ["华为公司", "浙江大学"], ["朱志杰"]),
    ("name", ["“三服务”", "中国五金博览会"], []),
])
def test_spans_of_each_kind(kind: str, present: list[str], absent: list[str]) -> None:
    spans = _spans(kind)
    assert all(p in spans for p in present), spans
    assert not any(a in spans for a in absent), spans


def test_roles_beyond_local_government_titles() -> None:
    sentence = "最高人民法院原院长肖扬逝世；她现在是沈阳机床集团的产品线经理。"
    spans = [s.text for s in find_spans(sentence, "role", TOKENIZER.tagged(sentence))]
    assert any(s.endswith("院长") for s in spans) and any(s.endswith("经理") for s in spans), spans


def test_untyped_kinds_have_no_spans() -> None:
    assert _spans("yesno") == [] and _spans("description") == []


def test_spans_are_in_order_with_true_offsets() -> None:
    for kind in ("number", "date", "place", "organization"):
        spans = find_spans(SENTENCE, kind, TOKENIZER.tagged(SENTENCE))
        assert [s.start for s in spans] == sorted(s.start for s in spans)
        assert all(SENTENCE[s.start : s.start + len(s.text)] == s.text for s in spans)


@pytest.mark.parametrize(("text", "unit", "ok"), [
    ("276亿元", "亿", True),
    ("7200万人次", "亿元", False),  # another unit: not the amount asked for
    ("77具", "人", True),  # bodies count people
    ("3200万元", "元", True),  # 万 is a magnitude
    ("13.25%", "", True),  # no unit asked: any amount
    ("25.7万件", "件", True),  # a magnitude between the number and its unit
    ("1.95亿人次", "人次", True),
])
def test_meets_unit(text: str, unit: str, ok: bool) -> None:
    assert meets(Span(text, 0, "number"), unit) is ok


@pytest.mark.parametrize(("text", "precision", "ok"), [
    ("2019年4月", "年", True),
    ("20日", "年", False),  # a day does not say which year
    ("5月1日", "日", True),
    ("12号", "日", True),
    ("5月", "日", False),
])
def test_meets_date_precision(text: str, precision: str, ok: bool) -> None:
    assert meets(Span(text, 0, "date"), precision) is ok


def test_amounts_keep_a_magnitude_before_their_unit() -> None:
    sentence = "全年办理案件25.7万件，接待游客1.95亿人次，投资3万多元。"
    spans = find_spans(sentence, "number", TOKENIZER.tagged(sentence))
    assert [s.text for s in spans] == ["25.7万件", "1.95亿人次", "3万多元"]
