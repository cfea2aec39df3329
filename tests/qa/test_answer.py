"""Answers through NewsQA.ask on the seed index (retrieval.qa.answer / aggregate / evidence).

Factoid answers and declines depend on the embedding model (the dense cosine is part of the
evidence), so those tests use the real model and are ``slow``. List answers and the handling of
invalid input never consult the vectors: they run with the hashing encoder (``any_seed_service``)
and again with the real model in the slow run. The rules on their own: test_question.py,
test_lists.py, test_support.py.
"""

from __future__ import annotations

import pytest

from retrieval.models import Answer
from retrieval.qa.answer import NOT_FOUND
from retrieval.service import NewsQA
from tests.paths import CORPUS_DIR

CORPUS_FILES = {p.name for p in CORPUS_DIR.glob("*.txt")}
HU_HEADLINE = "胡勇春"


def _articles_text(service: NewsQA) -> list[str]:
    return [a.headline + "\n" + a.text for a in service.index.articles]


def _assert_well_formed(answer: Answer, question: str) -> None:
    assert answer.question == question
    assert isinstance(answer.text, str) and answer.text.strip()
    assert answer.kind in ("factoid", "list", "none", "invalid")
    assert answer.took_ms >= 0
    if answer.found:
        assert answer.citations, "a found answer always has sources"
        assert answer.kind in ("factoid", "list")
    else:
        assert answer.kind in ("none", "invalid")
        assert not answer.citations


# -- list (aggregate) questions ----------------------------------------------------------------


def test_towns_visited_by_a_person(any_seed_service: NewsQA) -> None:
    question = "朱志杰去过哪些镇"
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.found and answer.kind == "list"
    labels = [item.label for item in answer.items]
    assert sorted(labels) == ["古山镇", "舟山镇"]
    assert "方岩镇" not in answer.text
    hu_ids = {a.id for a in any_seed_service.index.articles if HU_HEADLINE in a.title}
    assert hu_ids, "the seed pages hold 胡勇春's article"
    cited = []
    for item in answer.items:
        assert item.citations, item.label
        first = item.citations[0]
        article = any_seed_service.index.article_by_id[first.article_id]
        # each town is shown by its own article, where 朱志杰 goes there
        assert item.label in article.headline and "朱志杰" in article.headline
        assert first.source in CORPUS_FILES
        assert item.label in answer.text and first.title in answer.text
        assert not {c.article_id for c in item.citations} & hu_ids
        cited.append(first.article_id)
    assert len(set(cited)) == 2, "each town cites a different article"
    assert not {c.article_id for c in answer.citations} & hu_ids
    assert answer.text.index("古山镇") < answer.text.index("舟山镇")


def test_activities_of_a_person(any_seed_service: NewsQA) -> None:
    question = "章旭升参加了哪些活动"
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.found and answer.kind == "list"
    assert len(answer.items) == 2
    assert "永商会客厅" in answer.text
    assert "五整治五提升" in answer.text
    articles = {item.citations[0].article_id for item in answer.items}
    assert len(articles) == 2


def test_traditional_list_question(any_seed_service: NewsQA) -> None:
    answer = any_seed_service.ask("朱志傑去過哪些鎮")
    assert answer.found and answer.kind == "list"
    assert sorted(i.label for i in answer.items) == ["古山镇", "舟山镇"]


# -- factoids ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("古山镇为破解疑难问题搞了什么新机制", "周末难题会诊"),
        ("金台铁路铺轨的照片是在哪个村拍的", "申亭村"),
        ("烈士纪念日的公祭活动在什么地方举行", "刘英烈士陵园"),
        # a role: the title the archive writes beside the name, not the question's words
        ("章旭升担任什么职位", "市委书记"),
        ("胡勇春的职务是什么", "市长"),
    ],
)
def test_factoid_is_an_archive_sentence_with_sources(seed_service: NewsQA, question: str, expected: str) -> None:
    answer = seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.found and answer.kind == "factoid"
    assert expected in answer.text
    quoted = answer.items[0].evidence  # the sentence, after an optional "答：<span>" line
    assert answer.text.endswith(quoted)
    assert any(quoted in text for text in _articles_text(seed_service)), "answer must be verbatim"
    if answer.text.startswith("答："):  # the short answer is a span of the quoted sentence
        assert answer.items[0].label in quoted and answer.text.split("\n", 1)[0] == "答：" + answer.items[0].label
    assert answer.citations[0].source in CORPUS_FILES
    assert all(c.source in CORPUS_FILES for c in answer.citations)
    assert quoted in answer.citations[0].text, "the first source holds the answer sentence"


# -- declining ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "永康市的市长多大年纪",
        "舟山镇的人口是多少",
        "章旭升的妻子是谁",
        "王小明参加了哪些活动",
        "金台铁路的总投资是多少",
        "刘德华来永康开演唱会了吗",
        "王小二担任什么职务",  # a role of someone the archive never names
        "今年上半年永康的财政总支出是多少亿元",  # a same-topic sentence on 财政总收入 is no answer
    ],
)
def test_unanswerable_questions_are_declined(seed_service: NewsQA, question: str) -> None:
    answer = seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert not answer.found, f"answered {question!r} with {answer.text!r}"
    assert answer.text == NOT_FOUND == "没有找到相关报道。"
    assert answer.kind == "none"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", " ", "   \t\n ", "\u3000", "\x00\x00"])
def test_empty_input_is_invalid_with_a_hint(any_seed_service: NewsQA, question: str) -> None:
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.kind == "invalid" and not answer.found
    assert "请输入" in answer.text


def test_very_long_question_is_truncated_with_a_note(any_seed_service: NewsQA) -> None:
    question = "朱志杰去过哪些镇" + "？" * 4992
    assert len(question) == 5000
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert str(any_seed_service.max_question_chars) in answer.note and "过长" in answer.note
    assert answer.found and answer.kind == "list"


@pytest.mark.parametrize("question", ["😀", "😀🎉👍", "🇨🇳🇨🇳", "？？？", "……", "*_", "<>"])
def test_no_searchable_text_gets_a_sensible_reply(any_seed_service: NewsQA, question: str) -> None:
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert not answer.found
    assert answer.kind in ("invalid", "none")


@pytest.mark.parametrize(
    "question",
    [
        "<b>朱志杰去过哪些镇</b>",
        "</code>朱志杰去过哪些镇",
        "朱志杰去过哪些镇 &amp; &lt;script&gt;",
        "*_朱志杰去过哪些镇_*",
        "`朱志杰去过哪些镇`",
        "[朱志杰去过哪些镇](http://example.com)",
        "\x00朱志杰\x07去过\x1b[31m哪些镇\x7f",
    ],
)
def test_markup_and_control_characters_do_not_break_answers(any_seed_service: NewsQA, question: str) -> None:
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.found and answer.kind == "list"
    assert sorted(i.label for i in answer.items) == ["古山镇", "舟山镇"]


@pytest.mark.parametrize("question", ["</code>", "&amp;", "<b></b>", "*_", "\x00\x1b[0m"])
def test_markup_only_does_not_raise(any_seed_service: NewsQA, question: str) -> None:
    _assert_well_formed(any_seed_service.ask(question), question)


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u2060"], ids=["zwsp", "soft-hyphen", "word-joiner"])
def test_invisible_character_inside_a_name(any_seed_service: NewsQA, invisible: str) -> None:
    """Names pasted from web pages often carry zero-width characters."""
    answer = any_seed_service.ask(f"朱{invisible}志杰去过哪些镇")
    assert answer.found and answer.kind == "list"
    assert sorted(i.label for i in answer.items) == ["古山镇", "舟山镇"]


@pytest.mark.parametrize(
    "question",
    ["请问 Zhu Zhijie 朱志杰去过哪些镇", "朱志杰去过哪些镇? please list them", "Mayor 朱志杰 去过哪些镇"],
)
def test_mixed_chinese_english(any_seed_service: NewsQA, question: str) -> None:
    answer = any_seed_service.ask(question)
    _assert_well_formed(answer, question)
    assert answer.found and answer.kind == "list"
    assert sorted(i.label for i in answer.items) == ["古山镇", "舟山镇"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("金台铁路铺轨的照片(photo)是在哪个村拍的", "申亭村"),
        ("Please tell me: 古山镇为破解疑难问题搞了什么新机制?", "周末难题会诊"),
    ],
)
def test_mixed_chinese_english_factoid(seed_service: NewsQA, question: str, expected: str) -> None:
    """English filler words are not evidence that the archive is silent."""
    answer = seed_service.ask(question)
    assert answer.found, f"declined {question!r}: {answer.extra.get('evidence')}"
    assert expected in answer.text
