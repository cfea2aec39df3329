"""Tests for the pure line clean-up in retrieval.ingest.clean."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from retrieval.ingest.clean import (
    dedouble_line,
    ends_sentence,
    is_doubled,
    join_lines,
    normalise_spaces,
    strip_decoration,
)

# Characters that exercise the interesting paths: markers, ornaments, CJK punctuation.
NEWSY = "本报讯记者摄□■。，“”日月天谢看 \n"
newsy_text = st.text(alphabet=NEWSY, max_size=80)
cjk_chars = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
any_text = st.one_of(newsy_text, st.text(max_size=80), st.text(alphabet=cjk_chars, max_size=40))


# --- dedouble_line: real lines from the seed pages -----------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("■■实施实施““三服务三服务””提升获得感提升获得感", "■■实施“三服务”提升获得感"),
        ("2323条新政加快我市条新政加快我市", "23条新政加快我市"),
        ("英英烈士陵园烈士陵园，，开展开展烈烈", "英烈士陵园，开展烈"),
        ("记者记者 杨成栋杨成栋 摄摄", "记者 杨成栋 摄"),
        ("““两长两长”，”，市机关部门市机关部门", "“两长”，市机关部门"),
        ("部部长部部长、、政委政委，，法检法检", "部部长、政委，法检"),
        (" 政政、、朱志杰朱志杰、、陈美蓉陈美蓉、、", " 政、朱志杰、陈美蓉、"),
        (".............................农行视角农行视角", ".............................农行视角"),
        (
            " 引导鼓励企业主辅分离引导鼓励企业主辅分离 全面惠及四大服务业全面惠及四大服务业",
            " 引导鼓励企业主辅分离 全面惠及四大服务业",
        ),
        ("金台铁路铺轨金台铁路铺轨", "金台铁路铺轨"),
    ],
)
def test_dedouble_real_lines(line: str, expected: str) -> None:
    assert dedouble_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "天天",
        "谢谢",
        "看看",
        "高高兴兴",
        "天天向上",
        "再动员、再部署、再推进。会议要求，各镇",
        "切切实实破解了一批难题。下一步要",
        "本报讯 21日上午，市长朱志杰带",
        "",
        "   ",
        "■■",
    ],
)
def test_dedouble_leaves_ordinary_text_alone(line: str) -> None:
    assert dedouble_line(line) == line


def test_dedouble_is_guarded_against_double_doubling() -> None:
    # "哈哈哈哈" halves to "哈哈", which is not itself de-doubled again (one-char pieces only).
    once = dedouble_line("哈哈哈哈")
    assert dedouble_line(once) == once
    # A line whose halving is itself fully doubled is left unchanged.
    assert dedouble_line("金台金台金台金台") == "金台金台金台金台"


@given(any_text)
def test_dedouble_never_raises_and_is_idempotent(text: str) -> None:
    once = dedouble_line(text)
    assert dedouble_line(once) == once


@given(st.lists(cjk_chars, min_size=2, max_size=30, unique=True), st.data())
def test_doubling_runs_round_trips(chars: list[str], data: st.DataObject) -> None:
    """Doubling the runs of a string with distinct characters (so the split is unique)
    and at least one run of two or more characters is undone exactly."""
    base = "".join(chars)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(base) - 1), max_size=len(base) - 1)))
    runs = [base[a:b] for a, b in zip([0, *cuts], [*cuts, len(base)], strict=True)]
    assume(any(len(r) >= 2 for r in runs))
    assert not is_doubled(base)
    doubled = "".join(r + r for r in runs)
    assert dedouble_line(doubled) == base


@given(st.text(alphabet="天看谢日月", min_size=1, max_size=8), st.data())
def test_dedouble_output_is_a_valid_undoubling(base: str, data: st.DataObject) -> None:
    """With repeated characters several splits may exist; any answer must re-double to the input."""
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(base) - 1)), max_size=len(base))))
    cuts = [c for c in cuts if 0 < c < len(base)]
    runs = [base[a:b] for a, b in zip([0, *cuts], [*cuts, len(base)], strict=True)]
    doubled = "".join(r + r for r in runs)
    result = dedouble_line(doubled)
    if result != doubled:
        assert len(result) * 2 == len(doubled)
        assert sorted(result * 2) == sorted(doubled)


# --- strip_decoration ----------------------------------------------------------------------


def test_strip_decoration_keeps_text() -> None:
    assert strip_decoration("■■实施“三服务”提升获得感") == "实施“三服务”提升获得感"
    assert strip_decoration(" □首席记者 张赤奎") == " 首席记者 张赤奎"
    assert strip_decoration(".............................农行视角") == "农行视角"
    assert strip_decoration("全长35.6公里……二○一九年") == "全长35.6公里……二○一九年"
    assert strip_decoration("●★◆重要") == "重要"


@given(any_text)
def test_strip_decoration_only_removes_ornaments(text: str) -> None:
    stripped = strip_decoration(text)
    assert not any(ch in "■□●◆★" for ch in stripped)
    assert len(stripped) <= len(text)
    assert strip_decoration(stripped) == stripped or "." in stripped or "…" in stripped


# --- spaces and joining --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("街 区 的 47 个 行 政 村 ，全 线 要 求 在", "街区的47个行政村，全线要求在"),
        ("20 日，记者在金", "20日，记者在金"),
        ("长 35.6 公里，其中舟", "长35.6公里，其中舟"),
        ("的共同努力下，1-6 月，我市实现", "的共同努力下，1-6月，我市实现"),
        ("紧抓工业不放 打造工业强镇", "紧抓工业不放 打造工业强镇"),
        ("设“世界五金之都 品质活力永康”的必", "设“世界五金之都 品质活力永康”的必"),
        ("采用 PPP 模式 and open data", "采用 PPP 模式 and open data"),
        ("  9 月 30 日，  ", "9月30日，"),
    ],
)
def test_normalise_spaces(text: str, expected: str) -> None:
    assert normalise_spaces(text) == expected


def test_join_lines_rebuilds_paragraphs() -> None:
    lines = [
        "21日上午，市长朱志杰带",
        "队前往古山镇开展“三服务”活动，为",
        "该镇经济社会发展把脉，并要求古山",
        "镇紧抓工业不放，加快产业集聚和公",
        "共服务配套集聚，全力打造工业强镇。",
        "在原胡库管理处区块、农贸市场",
        "项目、世雅下街村路口粮站等地，朱",
        "志杰一行详细了解胡公文化园建设、",
        "方向。",
        "古山镇党政班子成员调整到位以",
        "来，全镇上下迅速进入角色。",
    ]
    paragraphs = join_lines(lines)
    assert paragraphs == [
        "21日上午，市长朱志杰带队前往古山镇开展“三服务”活动，为该镇经济社会发展把脉，"
        "并要求古山镇紧抓工业不放，加快产业集聚和公共服务配套集聚，全力打造工业强镇。",
        "在原胡库管理处区块、农贸市场项目、世雅下街村路口粮站等地，朱志杰一行详细了解胡公文化园建设、方向。",
        "古山镇党政班子成员调整到位以来，全镇上下迅速进入角色。",
    ]


def test_join_lines_letter_spacing_and_split_dates() -> None:
    assert join_lines(["本月 3月 22", "日，市委副书记"]) == ["本月3月22日，市委副书记"]
    assert join_lines(["open", "data", ""]) == ["open data"]
    assert join_lines([]) == []


def test_ends_sentence() -> None:
    assert ends_sentence("冲刺全年红”。")
    assert ends_sentence("方向。")
    assert not ends_sentence("推出“作风建设十大行动”“无简报市”")
    assert not ends_sentence("月规上工业总产值同比增长13.25%；")


@given(st.lists(any_text, max_size=12))
def test_join_lines_never_raises_and_keeps_characters(lines: list[str]) -> None:
    paragraphs = join_lines(lines)
    before = sorted(ch for line in lines for ch in line if not ch.isspace())
    after = sorted(ch for p in paragraphs for ch in p if not ch.isspace())
    assert before == after


@settings(max_examples=50)
@given(st.text(alphabet=cjk_chars, min_size=390, max_size=500))
def test_long_lines_are_bounded(text: str) -> None:
    assert dedouble_line(text + text) in {text, text + text}
