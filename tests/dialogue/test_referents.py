"""What the last answer gave as an antecedent (他/她 → the person answered, 当地/该国 → the place
answered, 他们 → the people listed), unclear antecedents asking back, and the topic swaps of
"那X呢" — all through the index tokenizer's tagging."""

from __future__ import annotations

import pytest

from retrieval.dialogue import Conversation, DialogueState, resolve
from retrieval.dialogue.referents import answered, complete_name, default_tagger, focus_kind, place_kind
from retrieval.dialogue.resolve import ASK_WHERE, ASK_WHO
from retrieval.dialogue.state import next_state
from retrieval.lexicon.mining import Lexicon
from retrieval.models import Answer, AnswerItem, Citation

LEXICON = Lexicon(("朱志杰", "章旭升", "金政"), ("古山镇", "舟山镇"))
TAGGED = default_tagger(LEXICON)
CITED = (Citation("a1", "标题", "2019-05-12", "s.txt"),)


def factoid(question: str, text: str, short: str = "", found: bool = True) -> Answer:
    extra: dict[str, object] = {"short_answer": short} if short else {}
    shown = f"答：{short}\n{text}" if short else text
    return Answer(question, found, shown if found else "没有找到相关报道。", kind="factoid" if found else "none",
                  citations=CITED if found else (), extra=extra)


def listing(question: str, labels: list[str]) -> Answer:
    items = tuple(AnswerItem(label, f"{label}……", CITED) for label in labels)
    return Answer(question, True, "据报道：" + "、".join(labels), kind="list", items=items, citations=CITED)


def state_after(question: str, answer: Answer, previous: DialogueState | None = None) -> DialogueState:
    return next_state(previous, question, answer, LEXICON, 0.0, 0, answered(question, answer, LEXICON, TAGGED))


def test_a_who_question_makes_the_answered_person_the_next_he() -> None:
    q = "被誉为第二代大庆新铁人的是谁"
    state = state_after(q, factoid(q, "今年已经82岁的王启民被誉为第二代大庆新铁人。", "王启民"))
    r = resolve(state, "他今年多大岁数了", LEXICON, TAGGED)
    assert (r.question, r.entity) == ("王启民今年多大岁数了", "王启民")


def test_the_answered_person_wins_over_the_person_the_question_named() -> None:
    q = "朱志杰调研时哪位副市长陪同"
    state = state_after(q, factoid(q, "副市长张三陪同调研。", "张三"))
    assert resolve(state, "他分管什么", LEXICON, TAGGED).question == "张三分管什么"


def test_a_who_question_answered_with_nobody_asks_back_instead_of_the_older_person() -> None:
    first = state_after("朱志杰去过哪些镇", listing("朱志杰去过哪些镇", ["古山镇", "舟山镇"]))
    q = "哪位副市长参加了督查"
    state = state_after(q, factoid(q, "", found=False), first)
    assert resolve(state, "他说了什么", LEXICON, TAGGED).message == ASK_WHO


def test_with_a_reader_named_short_answer_the_rules_typed_span_is_the_antecedent() -> None:
    q = "朱志杰调研时哪位副市长陪同"
    text = "副市长张三陪同调研，李四介绍了情况。"
    read = Answer(q, True, f"答：李四\n{text}", kind="factoid", citations=CITED,
                  extra={"short_answer": "李四", "typed_answer": "张三"})
    assert resolve(state_after(q, read), "他分管什么", LEXICON, TAGGED).question == "张三分管什么"
    untyped = Answer(q, True, f"答：李四\n{text}", kind="factoid", citations=CITED,
                     extra={"short_answer": "李四", "typed_answer": ""})
    assert resolve(state_after(q, untyped), "他分管什么", LEXICON, TAGGED).message == ASK_WHO


def test_a_name_the_tagger_cut_short_is_completed_from_the_text() -> None:
    text = "我们要为大家介绍一位支教老师谢彬蓉。谢彬蓉曾当过兵。"
    assert complete_name("谢彬", text, TAGGED) == "谢彬蓉"
    assert complete_name("金政", "市委书记金政主持召开会议。", TAGGED) == "金政"  # 主持 is a word of its own
    assert complete_name("王毅", "王毅说，合作共赢。", TAGGED) == "王毅"  # 说 ends the name


def test_a_where_question_makes_the_answered_place_the_next_there() -> None:
    q = "中国农大的第一个科技小院建在哪个县"
    state = state_after(q, factoid(q, "第一个科技小院建在河北曲周县。", "曲周县"))
    r = resolve(state, "当地的葡萄地里推广的是什么技术", LEXICON, TAGGED)
    assert (r.question, r.entity) == ("曲周县的葡萄地里推广的是什么技术", "曲周县")


def test_a_place_that_only_describes_is_not_taken_but_the_name_after_it_is() -> None:
    q = "新西兰那次恐怖袭击发生在哪个城市"
    state = state_after(q, factoid(q, "新西兰第二大城市克赖斯特彻奇15日发生恐怖袭击事件。", "大城市"))
    assert state.places[0] == "克赖斯特彻奇"
    r = resolve(state, "那里有几处清真寺遭到枪击", LEXICON, TAGGED)
    assert (r.question, r.entity) == ("克赖斯特彻奇有几处清真寺遭到枪击", "克赖斯特彻奇")


def test_the_place_a_reference_resolved_to_stays_the_newest() -> None:
    # "该镇比舟山镇大吗" resolved to 古山镇: the question is about 古山镇, though 舟山镇 comes later
    question = "古山镇比舟山镇大吗"
    later = next_state(None, question, factoid(question, "是。"), LEXICON, 1.0, 0, None, "古山镇", "place")
    assert later.places[:2] == ("古山镇", "舟山镇")
    assert next_state(None, question, factoid(question, "是。"), LEXICON, 1.0, 0).places[0] == "舟山镇"


def test_an_unanswered_where_question_leaves_there_unclear_but_not_other_kinds() -> None:
    first = state_after("朱志杰要求古山镇打造什么", factoid("朱志杰要求古山镇打造什么", "打造工业强镇。"))
    q = "3·21化工厂爆炸是在江苏哪个县"
    state = state_after(q, factoid(q, "", found=False), first)
    assert resolve(state, "当地的化工园区后来怎么处理了", LEXICON, TAGGED).message == ASK_WHERE
    assert resolve(state, "该镇有什么产业", LEXICON, TAGGED).question == "古山镇有什么产业"  # a town: still known


def test_what_kind_of_town_is_a_description_not_a_place_asked_for() -> None:
    q = "舟山镇成为全市首个什么乡镇"
    state = state_after(q, factoid(q, "", found=False))
    assert resolve(state, "当地有哪些特色资源", LEXICON, TAGGED).question == "舟山镇有哪些特色资源"


def test_several_answered_places_ask_back() -> None:
    q = "朱志杰去过哪些镇"
    state = state_after(q, listing(q, ["古山镇", "舟山镇"]), DialogueState("舟山镇被比作什么", places=("舟山镇",)))
    assert resolve(state, "当地有什么特产", LEXICON, TAGGED).message == ASK_WHERE
    assert place_kind("瓦努阿图") == "国" and place_kind("曲周县") == "县" and focus_kind("城市") == "市"


def test_they_are_the_people_of_the_last_list_never_the_last_person() -> None:
    q = "王岐山会见了哪两位外国领导人"
    state = state_after(q, listing(q, ["拉赫蒙", "伊姆兰·汗"]))
    assert resolve(state, "他们分别是哪国的", LEXICON, TAGGED).question == "拉赫蒙、伊姆兰·汗分别是哪国的"
    unlisted = state_after(q, factoid(q, "", found=False))
    assert unlisted.person == "" and resolve(unlisted, "他们分别是哪国的", LEXICON, TAGGED).message == ASK_WHO
    named = state_after("朱志杰去过哪些镇", listing("朱志杰去过哪些镇", ["古山镇", "舟山镇"]))
    assert named.person == "朱志杰" and resolve(named, "他们参加了哪些活动", LEXICON, TAGGED).message == ASK_WHO


@pytest.mark.parametrize(("last", "message", "question"), [
    ("一季度全国立案查处了多少起“扫黄打非”案件", "那刑事案件呢", "一季度全国立案查处了多少起刑事案件"),
    ("金台铁路的总投资是多少", "那工期呢", "金台铁路的工期是多少"),  # before the predicate, as before
])
def test_measured_noun_swaps(last: str, message: str, question: str) -> None:
    assert resolve(DialogueState(last), message, LEXICON, TAGGED).question == question


def test_resolution_uses_the_tagging_it_is_given() -> None:
    seen: list[str] = []

    def tagged(text: str) -> list[tuple[str, str]]:
        seen.append(text)
        return TAGGED(text)

    assert resolve(DialogueState("金台铁路的总投资是多少"), "那工期呢", LEXICON, tagged).question == "金台铁路的工期是多少"
    assert seen == ["金台铁路的总投资是多少"]
    calls: list[str] = []

    def counting(text: str) -> list[tuple[str, str]]:
        calls.append(text)
        return TAGGED(text)

    class Asker:
        def ask(self, question: str) -> Answer:
            return factoid(question, "今年已经82岁的王启民被誉为第二代大庆新铁人。", "王启民")

    chat = Conversation(Asker(), lambda: LEXICON, tagger=lambda: counting)
    chat.reply("被誉为第二代大庆新铁人的是谁")
    assert calls and chat.reply("他今年多大岁数了").resolution.question == "王启民今年多大岁数了"
