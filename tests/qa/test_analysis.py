"""Question analysis: the kind of answer asked for and the constraints, with no model."""

from __future__ import annotations

import pytest

from retrieval.lexicon.mining import Lexicon
from retrieval.lexicon.tokenizer import WordTokenizer
from retrieval.qa.analysis import analyze
from retrieval.qa.dates import years_agree

TOKENIZER = WordTokenizer(Lexicon(("朱志杰",), ("古山镇", "舟山镇")))


def _analyze(question: str):  # type: ignore[no-untyped-def]
    return analyze(question, TOKENIZER.tagged(question))


@pytest.mark.parametrize(("question", "kind"), [
    ("印控克什米尔地区寺庙踩踏事故死亡人数", "number"),  # no interrogative: the head noun decides
    ("2022年特斯拉的交付量是多少", "number"),
    ("古山镇规上工业总产值增长了多少？", "number"),
    ("第23届五金博览会什么时候开幕", "date"),
    ("第七届香港立法会议员宣誓仪式的时间", "date"),
    ("电影《长津湖》的编剧是谁", "person"),
    ("谁主持了会议", "person"),
    ("朱志杰是谁", "role"),
    ("章旭升的妻子是谁", "person"),  # names someone, asks for another person
    ("舟山镇有哪些特色资源", "description"),  # 资源 is asked for, not a town
    ("RCEP具体包括哪些国家", "place"),
    ("市委书记在哪个镇说了要打造工业强镇", "place"),
    ("和哪些公司签了协议", "organization"),
    ("这次活动叫什么", "name"),
    ("朱志杰去过古山镇吗", "yesno"),
    ("为什么说舟山镇很重要", "description"),
    ("去年出访了哪几个国家", "place"),  # 哪几 starts the cue; 几个 alone would ask for a count
    ("签署令公布了哪些行政法规", "name"),
])
def test_answer_type(question: str, kind: str) -> None:
    assert _analyze(question).answer_type == kind


def test_constraints() -> None:
    c = _analyze("2021年第23届博览会在古山镇7月份开了几天").constraints
    assert c.years == ("2021",)
    assert 7 in c.months
    assert c.identifiers == ("第23届",)
    assert "古山镇" in c.names


def test_a_question_without_constraints_has_none() -> None:
    c = _analyze("舟山镇被比作什么").constraints
    assert c.years == () and c.months == () and c.identifiers == ()


def test_role_question_keeps_its_subject() -> None:
    a = _analyze("朱志杰是谁")
    assert a.subject == "朱志杰"


@pytest.mark.parametrize(("question", "months"), [
    ("温家宝7、8月份去地方考察过哪些省", (7, 8)),
    ("古山镇1-7月规上工业总产值增长了多少", (1, 2, 3, 4, 5, 6, 7)),  # a range
    ("2019年4月习近平会见了哪些外国领导人", (4,)),
    ("五月份开了哪些会", (5,)),
    ("3月到5月，应邀访华的外国总理来自哪些国家", (3, 4, 5)),  # a range with 月 on both ends
    ("3月至5月间开了哪些会", (3, 4, 5)),
    ("3月31日至4月1日去了哪里", (3, 4)),  # two dates, not a month range past April
])
def test_months_named_or_ranged(question: str, months: tuple[int, ...]) -> None:
    assert _analyze(question).constraints.months == months


@pytest.mark.parametrize(("sentence", "context", "agrees"), [
    ("2022年交付量达131万辆。", "", True),
    ("2021年交付量达93万辆。", "", False),  # another year only: the asked fact is not here
    ("全年交付量达131万辆。", "2022年交付量创新高", True),  # the year is in the headline
    ("交付量达131万辆。", "", False),  # the year is nowhere
    ("2022年交付量达131万辆，比2021年增长40%。", "", True),
])
def test_years_agree(sentence: str, context: str, agrees: bool) -> None:
    assert years_agree(("2022",), sentence, context) is agrees
    assert years_agree((), sentence, context)  # no year asked: nothing to disagree with


@pytest.mark.parametrize(("question", "identifiers"), [
    ("第23届运动会在哪里举行", ("第23届",)),
    ("第十二届读书节什么时候开", ("第十二届",)),
    ("“三服务”活动", ()),
    ("古山镇1-7月规上工业总产值增长了多少", ()),  # a period, not an identifier
])
def test_identifiers(question: str, identifiers: tuple[str, ...]) -> None:
    assert _analyze(question).constraints.identifiers == identifiers


@pytest.mark.parametrize(("question", "unit"), [
    ("金台铁路总投资多少亿", "亿"),
    ("一共有多少件文物", "件"),
    ("永康市的市长多大年纪", "岁"),
    ("舟山镇的人口是多少", ""),
    ("巴科是哪一年当上校长的", "年"),  # a date's precision: a year, not 20日
    ("即位仪式是几月几号举行的", "日"),
    ("金台铁路什么时候开工", ""),  # any date answers
])
def test_unit(question: str, unit: str) -> None:
    assert _analyze(question).unit == unit



def test_month_days_are_read_as_numbers() -> None:
    from retrieval.qa.dates import month_days

    assert month_days("3月23日晚我市举行了什么活动") == ((3, 23),)
    assert month_days("9月29号和12月1日") == ((9, 29), (12, 1))
    assert month_days("13月2日、7月份、2019年") == ()  # no such month; a month alone is no day


@pytest.mark.parametrize(("sentence", "dateline", "iso", "agrees"), [
    ("3月23日晚，我市举行永商会客厅活动。", "", "", True),  # the sentence names the day
    ("3月24日上午，我市召开推进会。", "", "", False),  # another day: not this answer
    ("我市举行永商会客厅活动。", "23日晚", "", True),  # no date of its own: the article's dateline
    ("我市举行永商会客厅活动。", "3月24日", "", False),
    ("我市举行活动。", "", "2019-03-23", True),
    ("我市举行活动。", "", "2019-03-24", False),
])
def test_days_agree(sentence: str, dateline: str, iso: str, agrees: bool) -> None:
    from retrieval.qa.dates import days_agree

    assert days_agree(((3, 23),), sentence, dateline, iso) is agrees


@pytest.mark.parametrize(("months", "sentence", "headline", "iso_date", "agrees"), [
    ((5,), "世卫组织21日通报说，战事已经导致254人死亡", "利比亚战事", "2019-04-22", False),  # an April article
    ((5,), "5月份，全国CPI同比上涨2.7%", "统计局发布数据", "2019-06-10", True),  # reported in June
    ((5,), "战事已经导致443人死亡", "世卫组织：利比亚冲突", "2019-05-03", True),
    ((5,), "3月份，出口增长14.2%", "5月经济数据", "2019-05-15", False),  # the sentence speaks of March
    ((1, 2, 3, 4, 5, 6, 7), "1-7月，全市规上工业产值增长9%", "", "", True),
    ((7,), "会议审议了多项议题", "", "", True),  # no readable month: not held against it
    ((), "任何句子", "", "2019-04-22", True),
])
def test_months_agree(months: tuple[int, ...], sentence: str, headline: str, iso_date: str, agrees: bool) -> None:
    from retrieval.qa.dates import months_agree

    assert months_agree(months, sentence, headline, "", iso_date) is agrees


@pytest.mark.parametrize(("question", "kind"), [
    ("那架客机的机长叫什么名字", "person"),  # 机长: an agentive noun names a person
    ("开了30年邮车的幸福使者，他叫什么名字？", "person"),  # a pronoun for a person
    ("哈佛大学校长叫什么", "person"),
    ("哪位运动员拿了金牌", "person"),
    ("这个项目叫什么名字", "name"),  # a thing's name stays a name
    ("这次活动叫什么", "name"),
    ("一季度GDP增长是多少", "number"),  # a strong cue is not overridden
])
def test_person_nouns_by_word_formation(question: str, kind: str) -> None:
    assert _analyze(question).answer_type == kind


def test_a_fixed_cue_is_not_overridden_by_a_person_suffix() -> None:
    """增长 ends in 长 like 机长, but after 多少 the question asks for an amount, and 增长 is not
    what is measured (a measured noun must be in the answer sentence)."""
    analysis = _analyze("古山镇1-7月规上工业总产值增长了多少")
    assert analysis.answer_type == "number" and "长" not in analysis.focus


@pytest.mark.parametrize(("lead", "iso", "agrees"), [
    ("央视网消息：23日，我市举行永商会客厅活动。", "2019-03-24", True),  # news of the day before
    ("央视网消息：3月23日，我市举行活动。", "2019-03-25", True),
    ("央视网消息：22日，我市举行活动。", "2019-03-24", False),  # the lead tells another day
    ("央视网消息：我市举行活动。", "2019-03-24", False),  # the lead tells no day
])
def test_days_agree_reads_the_lead_of_an_article_dated_later(lead: str, iso: str, agrees: bool) -> None:
    from retrieval.qa.dates import days_agree

    assert days_agree(((3, 23),), "这座雕塑由吴为山创作。", "", iso, lead=lead) is agrees


def test_lead_days_take_the_month_from_the_article_date() -> None:
    from retrieval.qa.dates import lead_days

    assert lead_days("4日，一座雕塑被安放在蒙塔日。", "2019-05-05") == ((5, 4),)
    assert lead_days("31日晚，大会闭幕。", "2019-06-01") == ((5, 31),)  # the month before
    assert lead_days("123日、5月1日", "2019-05-02") == ((5, 1),)  # 123日 is no day
