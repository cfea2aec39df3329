"""Question analysis on its own (retrieval.qa.question): no index, no model, no jieba.

Word lists and part-of-speech tags are given by hand, so each case pins one rule: what makes a
question a list question, which name it is about, what kind of item it asks for, whether that
name is the one acting, and which words and numbers must be found in the evidence.
"""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.qa.question import (
    Question,
    content_words,
    focus_noun,
    parse_question,
)

LEXICON = Lexicon(people=("张赤奎", "朱志", "朱志杰", "章旭升"), places=("古山镇", "舟山镇"))


def parse(text: str) -> Question:
    return parse_question(text, LEXICON)


# -- parse_question ------------------------------------------------------------------------------


def test_towns_a_person_visited_is_a_complete_list_question() -> None:
    q = parse("朱志杰去过哪些镇")
    assert (q.text, q.is_list, q.entity, q.entity_kind) == ("朱志杰去过哪些镇", True, "朱志杰", "person")
    assert (q.item_kind, q.actor_verb, q.place_suffixes) == ("镇", "去过", ("镇",))
    assert q.is_aggregate


def test_activities_a_person_took_part_in() -> None:
    q = parse("章旭升参加了哪些活动")
    assert (q.entity, q.item_kind, q.actor_verb) == ("章旭升", "活动", "参加")
    assert q.is_aggregate and q.place_suffixes == ()


def test_photos_a_photographer_took_are_authored_items() -> None:
    q = parse("张赤奎拍了哪些照片")
    assert (q.entity, q.item_kind, q.actor_verb) == ("张赤奎", "照片", "拍")
    assert q.is_aggregate


@pytest.mark.parametrize(("text", "kind", "suffixes"), [
    ("朱志杰去过哪里", "地方", ()),  # 去过 + 哪里 is a list question without 哪些
    ("朱志杰到过什么地方", "地方", ()),
    ("朱志杰去过哪些镇街", "镇街", ("镇", "街道")),  # the longest known kind, not 镇
    ("朱志杰去过哪些省份", "省份", ("省",)),
    ("朱志杰参加过几个会议", "会议", ()),  # 会议, not 会
])
def test_the_kind_of_item_asked_for(text: str, kind: str, suffixes: tuple[str, ...]) -> None:
    q = parse(text)
    assert q.is_list and q.item_kind == kind and q.place_suffixes == suffixes
    assert q.is_aggregate


def test_the_longest_name_wins_and_people_before_places() -> None:
    assert parse("朱志杰去过哪些镇").entity == "朱志杰"  # not its prefix 朱志, also a lexicon name
    q = parse("舟山镇的朱志杰去过哪些镇")
    assert (q.entity, q.entity_kind) == ("朱志杰", "person")  # a person is preferred to a place
    q = parse("古山镇有哪些企业")
    assert (q.entity, q.entity_kind) == ("古山镇", "place")
    assert q.is_list and not q.is_aggregate  # lists are only gathered for people


def test_a_single_answer_question_is_not_a_list() -> None:
    q = parse("朱志杰是什么职务")
    assert not q.is_list and q.entity == "朱志杰"
    assert not q.is_aggregate


def test_no_known_name_means_no_entity() -> None:
    q = parse("王小明去过哪些镇")
    assert (q.entity, q.entity_kind, q.actor_verb) == ("", "", "")
    assert q.is_list and not q.is_aggregate


def test_an_unknown_kind_of_item_is_not_gathered() -> None:
    q = parse("朱志杰去过哪些工厂")
    assert q.item_kind == "工厂" and q.actor_verb == "去过"
    assert not q.is_aggregate


@pytest.mark.parametrize("text", [
    "朱志杰，副市长，去过哪些镇",  # the verb is in a later clause
    "朱志杰和市里的其他几位领导一起去过哪些镇",  # more than ten characters after the name
])
def test_the_person_must_be_the_one_acting(text: str) -> None:
    q = parse(text)
    assert q.entity == "朱志杰" and q.is_list and q.item_kind == "镇"
    assert q.actor_verb == "" and not q.is_aggregate


def test_a_verb_close_behind_the_name_makes_it_the_actor() -> None:
    q = parse("朱志杰7、8月份去过哪些镇")
    assert q.actor_verb == "去过" and q.is_aggregate


# -- focus_noun ----------------------------------------------------------------------------------


def test_focus_of_an_age_question_is_years() -> None:
    assert focus_noun(["永康市", "市长", "多大", "年纪"]) == "岁"
    assert focus_noun(["他", "今年", "几岁"]) == "岁"


def test_focus_of_what_is_x_of_y() -> None:
    assert focus_noun(["永康市", "的", "市花", "是", "什么"]) == "市花"
    assert focus_noun(["古山镇", "的", "书记", "是", "谁"]) == "书记"


def test_focus_follows_the_question_word_past_measure_words() -> None:
    assert focus_noun(["他", "毕业", "于", "哪", "所", "大学"]) == "大学"
    assert focus_noun(["举办", "了", "几", "场", "演出"]) == "场"  # 场 is not a measure word here


def test_focus_skips_an_adjective_before_its_noun() -> None:
    tags = {"重要": "a", "会议": "n"}
    assert focus_noun(["召开", "了", "什么", "重要", "会议"], tags) == "会议"
    assert focus_noun(["召开", "了", "什么", "重要", "会议"]) == "重要"  # untagged: taken as it is


def test_focus_joins_a_distinguishing_word_to_its_noun() -> None:
    tags = {"副": "b", "市长": "n"}
    assert focus_noun(["哪位", "副", "市长", "陪同"], tags) == "副市长"


@pytest.mark.parametrize("words", [["朱志杰", "去", "古山镇"], ["这", "是", "什么"], []])
def test_no_focus(words: list[str]) -> None:
    assert focus_noun(words) == ""


# -- content_words -------------------------------------------------------------------------------


def test_content_words_keep_the_topic_in_order() -> None:
    words = ["古山镇", "为", "破解", "疑难", "问题", "搞", "了", "什么", "新", "机制", "？"]
    assert content_words(words, frozenset({"为", "了"})) == ["古山镇", "破解", "疑难", "问题", "新", "机制"]


def test_content_words_drop_question_words_fillers_and_punctuation() -> None:
    words = ["哪些", "哪里", "多少", "是否", "吗", "所", "是", "在", " ", "", "……", "“", "2019", "GDP", "增长"]
    assert content_words(words, frozenset()) == ["2019", "GDP", "增长"]


def test_content_words_use_the_given_stopwords() -> None:
    assert content_words(["永康", "五金"], frozenset({"永康"})) == ["五金"]
    assert content_words(["永康", "五金"], frozenset()) == ["永康", "五金"]


def test_content_words_strip_spaces() -> None:
    assert content_words([" 五金 ", "\t永康"], frozenset()) == ["五金", "永康"]


def test_content_words_drop_spoken_fillers() -> None:
    # chat words no article writes (咱们, 那个, 听说) must not weigh against a sentence
    words = ["咱们", "永康", "那个", "五金", "博览会", "听说", "开", "了", "多少", "届"]
    assert content_words(words, frozenset({"了"})) == ["永康", "五金", "博览会", "开", "届"]
