"""Pure rendering of answers as Telegram HTML: escaping, splitting, inline texts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram import render
from bot.telegram.ratelimit import SlidingWindowLimiter
from bot.telegram.reindex_job import progress_text, summary_text
from retrieval.index.build import BuildReport
from retrieval.models import Answer, AnswerItem, Chunk, Citation, Hit, IngestProblem
from tests.telegram_html import MAX_MESSAGE_LENGTH, parse_telegram_html, utf16_len, validate_telegram_html

NASTY = ["<b>", "</code>", "&amp;", "*_", "a < b > c", "\x00\x01\x1f\x7f控制", "😀" * 3, "&#x27;", '"q"', "\r\n"]


def citation(title: str = "朱志杰赴舟山镇开展“三服务”", text: str = "舟山镇是永康的“大水缸”。",
             source: str = "001_4397dc98031408d7.txt", date: str = "7月31日") -> Citation:
    return Citation("a1", title, date, source, text, 0.5)


def assert_sendable(parts: list[str], limit: int = MAX_MESSAGE_LENGTH) -> None:
    assert parts
    for part in parts:
        assert validate_telegram_html(part) is None, (validate_telegram_html(part), part[:300])
        plain, _ = parse_telegram_html(part)
        assert plain.strip(), part
        assert utf16_len(part) <= limit


def plain_of(parts: list[str]) -> str:
    return "\n".join(parse_telegram_html(p)[0] for p in parts)


def test_found_answer_has_answer_and_sources() -> None:
    answer = Answer("舟山镇被比作什么", True, "他说，舟山镇是永康的“大水缸”。", citations=(citation(),))
    (message,) = render.render_answer(answer)
    assert_sendable([message])
    assert message.startswith("<b>答：</b>他说，舟山镇是永康的“大水缸”。")
    assert "<b>出处</b>" in message
    assert "1. 《朱志杰赴舟山镇开展“三服务”》 7月31日 · 📄 <code>001_4397dc98031408d7.txt</code>" in message


def test_a_short_answer_is_labelled_once() -> None:
    answer = Answer("哪天开工", True, "答：2016年7月1日\n金台铁路永康段自2016年7月1日开工建设。", citations=(citation(),))
    (message,) = render.render_answer(answer)
    assert message.startswith("<b>答：</b>2016年7月1日\n") and message.count("答：") == 1


def test_inline_title_labels_a_short_answer_once() -> None:
    answer = Answer("哪天开工", True, "答：2016年7月1日\n金台铁路永康段自2016年7月1日开工建设。")
    assert render.inline_answer_title(answer) == "回答：2016年7月1日"


def test_a_continued_passage_is_no_new_answer() -> None:
    answer = Answer("还有呢", True, "（续）《标题》：\n工程正稳步推进。", citations=(citation(),))
    (message,) = render.render_answer(answer)
    assert message.startswith("（续）《标题》：") and "答：" not in message


def test_not_found_shows_related_as_not_an_answer() -> None:
    answer = Answer("火星", False, "没有找到相关报道。", kind="none", related=(citation(), citation(source="x.txt")))
    (message,) = render.render_answer(answer)
    assert_sendable([message])
    assert render.RELATED_HEADING in message and "出处" not in message
    assert "大水缸" in message  # the snippet, in italics
    assert message.count("📄") == 2


def test_invalid_answer_and_note() -> None:
    answer = Answer("😀", False, "没有识别到可以检索的文字。", kind="invalid", note="问题过长，只使用了前 500 个字。")
    (message,) = render.render_answer(answer)
    assert_sendable([message])
    assert message.startswith("<i>（问题过长") and "没有识别到" in message


@pytest.mark.parametrize("nasty", NASTY)
def test_archive_text_is_escaped(nasty: str) -> None:
    c = citation(title=f"标题{nasty}", text=f"正文{nasty}", source=f"{nasty}.txt", date=nasty)
    for found in (True, False):
        answer = Answer(nasty, found, f"答案{nasty}", citations=(c,), related=(c,), note=nasty)
        parts = render.render_answer(answer)
        assert_sendable(parts)
        assert nasty.strip("\r\n\x00\x01\x1f\x7f") in plain_of(parts)
    assert_sendable([render.inline_answer_message(answer)])
    hit = Hit(Chunk(0, "a1", f"{nasty}.txt", nasty, nasty, nasty * 50), 1.0, 0)
    assert_sendable([render.passage_message(hit)])


def test_long_list_answer_is_split_between_lines() -> None:
    towns = [f"第{n}号镇" for n in range(120)]
    items = tuple(AnswerItem(t, f"朱志杰到{t}调研。", (citation(title=f"朱志杰到{t}调研", source=f"{n}.txt"),))
                  for n, t in enumerate(towns))
    lines = ["据报道，朱志杰去过的镇共 120 个："] + [f"{n}. {t}（《朱志杰到{t}调研》）" for n, t in enumerate(towns, 1)]
    answer = Answer("朱志杰去过哪些镇", True, "\n".join(lines), kind="list", items=items,
                    citations=tuple(c for i in items for c in i.citations))
    parts = render.render_answer(answer)
    assert len(parts) >= 2
    assert_sendable(parts)
    plain = plain_of(parts)
    positions = [plain.index(f"{n}. {t}（") for n, t in enumerate(towns, 1)]
    assert positions == sorted(positions)
    for part in parts:  # every part is made of whole lines
        for line in parse_telegram_html(part)[0].split("\n"):
            assert not line or line.startswith(("据报道", "出处", "另有")) or line[0].isdigit(), line
    assert "另有 70 篇报道未列出" in plain  # sources are capped at 50


def test_one_huge_paragraph_is_cut_at_sentences_then_characters() -> None:
    text = "。".join("长" * 700 for _ in range(10)) + "&" * 9000
    parts = render.render_answer(Answer("q", True, text, citations=(citation(),)))
    assert_sendable(parts)
    assert plain_of(parts).replace("\n", "").count("&") == 9000


def test_pack_gaps_and_limits() -> None:
    assert render.pack(["a", render.GAP, "b"]) == ["a\n\nb"]
    assert render.pack([render.GAP, "a", render.GAP]) == ["a"]
    assert render.pack(["aaaa", render.GAP, "bbbb"], limit=5) == ["aaaa", "bbbb"]
    with pytest.raises(ValueError):
        render.pack(["x" * 10], limit=5)
    one = render.pack_one(["a" * 3000, "b" * 3000])
    assert one.startswith("a" * 3000) and "b" not in one and "完整回答" in one
    footer = "<i>" + render.esc("…（内容较长，完整回答请私聊机器人）") + "</i>"
    for size in range(4096 - len(footer) - 4, 4096 - len(footer) + 2):  # right at the edge
        one = render.pack_one(["x" * size, "y" * 100])
        assert one.endswith(footer) and len(one) <= 4096


def test_help_and_usage_texts_are_valid() -> None:
    for username in ("newsqa_bot", None):
        for text in (render.help_text(username), render.ask_usage(username)):
            assert_sendable([text])
    assert "朱志杰去过哪些镇" in render.help_text("x") and "舟山镇被比作什么" in render.help_text("x")


def test_reindex_texts() -> None:
    report = BuildReport(added=["new<1>.jsonl"], unchanged=["a.txt"] * 5, articles_before=21, articles=22,
                         chunks_before=48, chunks=50, embedded=2, reused=48, seconds=3.21,
                         problems=[IngestProblem("/x/bad&.jsonl", "第 3 行不是 JSON <x>", 3)])
    text = summary_text(report)
    assert validate_telegram_html(text) is None
    plain = parse_telegram_html(text)[0]
    assert "新增 1，修改 0，删除 0" in plain and "21 → 22" in plain and "48 → 50" in plain
    assert "新计算 2 个，复用 48 个" in plain and "3.2 秒" in plain and "new<1>.jsonl" in plain
    assert "句子向量" not in plain  # none embedded: not mentioned
    with_sentences = parse_telegram_html(summary_text(replace(report, sentences_embedded=7)))[0]
    assert "句子向量：新计算 7 个" in with_sentences
    assert "无需更新" in summary_text(BuildReport(noop=True, articles=3, chunks=4))
    assert validate_telegram_html(progress_text("embed", 3, 10, 2.5)) is None
    assert "计算向量 3/10" in progress_text("embed", 3, 10, 2.5) and "已用时 2 秒" in progress_text("embed", 3, 10, 2.5)
    assert "句子向量" in progress_text("embed", 10, 10, 0) and "切分 7 个段落" in progress_text("chunk", 7, 7, 0)
    assert "句子向量 3/10" in progress_text("sentences", 3, 10, 0) and "关键词" in progress_text("sentences", 10, 10, 0)


def test_sliding_window_limiter() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 60.0, clock=lambda: now[0])
    assert limiter.hit("u") == 0 and limiter.hit("u") == 0
    assert limiter.hit("u") == pytest.approx(60.0)
    assert limiter.hit("v") == 0  # per user
    now[0] = 30.0
    assert limiter.hit("u") == pytest.approx(30.0)
    now[0] = 60.5
    assert limiter.hit("u") == 0
    now[0] = 500.0
    limiter.hit("w")
    assert len(limiter) == 1  # idle users are forgotten


# ------------------------------------------------------------------ properties
ANY_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("<>&;#x/b \n。！？abc\"'😀\x00\x7f\u200b")), max_size=600),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, title=ANY_TEXT, source=ANY_TEXT, date=ANY_TEXT, found=st.booleans(),
       kind=st.sampled_from(["factoid", "list", "none", "invalid"]), repeat=st.integers(1, 40))
def test_any_archive_text_renders_valid(text: str, title: str, source: str, date: str, found: bool,
                                        kind: str, repeat: int) -> None:
    c = citation(title=title, text=text, source=source, date=date)
    answer = Answer(text, found, text * repeat, kind=kind, note=title,  # type: ignore[arg-type]
                    citations=(c,) * 3, related=(c,) * 3)
    assert_sendable(render.render_answer(answer))
    assert_sendable([render.inline_answer_message(answer)])
    hit = Hit(Chunk(0, "a", source, title, date, text * repeat), 1.0, 0)
    assert_sendable([render.passage_message(hit)])
    for title_text in (render.inline_answer_title(answer), render.passage_title(hit)):
        assert 0 < len(title_text) <= 70


@settings(max_examples=200, deadline=None)
@given(text=ANY_TEXT, limit=st.integers(20, 400), before=st.sampled_from(["", "<i>", "<b>答：</b>"]))
def test_any_user_text_splits_into_valid_parts(text: str, limit: int, before: str) -> None:
    after = "</i>" if before == "<i>" else ""
    blocks = render.text_blocks(text * 5, before=before, after=after, limit=limit)
    parts = render.pack(blocks, limit)
    for part in parts:
        assert validate_telegram_html(part) is None and utf16_len(part) <= limit
    # nothing is lost or reordered: same text, up to whitespace between pieces and control characters
    plain = "".join(parse_telegram_html(p)[0] for p in parts).replace("答：", "")
    assert "".join(plain.split()) == "".join(render.clean(text * 5).replace("答：", "").split())
