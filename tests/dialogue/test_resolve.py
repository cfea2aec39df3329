"""The pure follow-up resolver: pronouns, place references, ellipsis, "还有呢" and clarifications."""

from __future__ import annotations

import pytest

from retrieval.dialogue import DialogueState, resolve
from retrieval.dialogue.resolve import ASK_WHAT_MORE, ASK_WHERE, ASK_WHICH_ARTICLE, ASK_WHO, is_time
from retrieval.lexicon.mining import Lexicon
from retrieval.models import Answer, AnswerItem, Citation

LEXICON = Lexicon(("朱志杰", "章旭升", "金政"), ("古山镇", "舟山镇", "前村村"))
CITED = Citation("a1", "朱志杰在督查安全生产时要求 树立忧患意识", "2017-09-30", "002.txt")
ANSWER = Answer("朱志杰节前督查了什么工作", True, "9月30日，市长朱志杰带领相关部门负责人督查节前安全生产工作。",
                citations=(CITED,))
STATE = DialogueState("朱志杰要求古山镇打造什么", "朱志杰", ("古山镇", "前村村"), ANSWER)


@pytest.mark.parametrize(("message", "question", "entity"), [
    ("他说舟山镇是永康的什么", "朱志杰说舟山镇是永康的什么", "朱志杰"),
    ("她后来去了哪里？", "朱志杰后来去了哪里", "朱志杰"),
    ("该镇最大的优势是什么", "古山镇最大的优势是什么", "古山镇"),
    ("这个村在哪个镇", "前村村在哪个镇", "前村村"),
    ("当地有哪些特色资源", "古山镇有哪些特色资源", "古山镇"),
    ("那舟山镇呢", "朱志杰要求舟山镇打造什么", "舟山镇"),
    ("那金政呢？", "金政要求古山镇打造什么", "金政"),
    ("那唐先镇呢", "朱志杰要求唐先镇打造什么", "唐先镇"),  # not in the lexicon: a place by its suffix
])
def test_references_and_ellipsis_resolve_against_the_state(message: str, question: str, entity: str) -> None:
    r = resolve(STATE, message, LEXICON)
    assert (r.action, r.question, r.entity, r.changed) == ("ask", question, entity, True)


def test_time_ellipsis_replaces_or_adds_the_time() -> None:
    assert resolve(DialogueState("7月29日晚召开了什么会议"), "9月29日呢", LEXICON).question == "9月29日召开了什么会议"
    assert resolve(DialogueState("古山镇1到7月规上工业产值涨了多少"), "1-6月呢", LEXICON).question == \
        "古山镇1-6月规上工业产值涨了多少"
    assert resolve(DialogueState("朱志杰去过哪些镇"), "7月份呢", LEXICON).question == "7月份朱志杰去过哪些镇"
    assert is_time("9月29日晚") and is_time("去年") and is_time("2019年") and not is_time("舟山镇")


@pytest.mark.parametrize(("last", "message", "question"), [
    ("金台铁路的总投资是多少", "那工期呢", "金台铁路的工期是多少"),  # the noun phrase before the predicate
    ("上半年社会消费品零售总额增长了多少", "那出口呢", "上半年出口增长了多少"),  # the time stays
])
def test_topic_ellipsis_swaps_what_the_last_question_was_about(last: str, message: str, question: str) -> None:
    r = resolve(DialogueState(last), message, LEXICON)
    assert (r.action, r.question, r.entity) == ("ask", question, "")


def test_topic_ellipsis_never_swaps_a_name() -> None:
    # the topic of "朱志杰去过哪些镇" is a person: only another person takes its place
    r = resolve(DialogueState("朱志杰去过哪些镇", "朱志杰"), "那永康境内呢", LEXICON)
    assert r.action == "clarify"
    # nor a place the tagger cuts apart (古/山镇)
    assert resolve(DialogueState("古山镇打造什么"), "那永康境内呢", LEXICON).action == "clarify"


def test_article_reference_uses_the_last_cited_title() -> None:
    r = resolve(STATE, "这篇报道里哪位常务副市长参加了督查", LEXICON)
    assert r.question == "朱志杰在督查安全生产时要求 树立忧患意识，哪位常务副市长参加了督查"


@pytest.mark.parametrize(("state", "message", "reply"), [
    (None, "他后来去了哪里", ASK_WHO),
    (DialogueState("舟山镇被比作什么", places=("舟山镇",)), "他说了什么", ASK_WHO),  # no person so far
    (None, "该镇最大的优势是什么", ASK_WHERE),
    (DialogueState("朱志杰去过哪些镇", "朱志杰"), "这个村在哪", ASK_WHERE),  # no village so far
    (DialogueState("朱志杰要求舟山镇打造什么", "朱志杰", ("舟山镇",)), "该村有多少人", ASK_WHERE),
    (None, "这篇报道是谁写的", ASK_WHICH_ARTICLE),
    (None, "还有呢", ASK_WHAT_MORE),
    (DialogueState("朱志杰去过哪些镇", answer=Answer("q", False, "没有找到相关报道。", kind="none")), "还有呢",
     ASK_WHAT_MORE),  # nothing was found: nothing to go on with
    (None, "那舟山镇呢", "您想问舟山镇的什么？请把问题说完整一些。"),
    (STATE, "那永康境内呢", "您想问永康境内的什么？请把问题说完整一些。"),
])
def test_unresolvable_references_ask_back(state: DialogueState | None, message: str, reply: str) -> None:
    r = resolve(state, message, LEXICON)
    assert (r.action, r.message, r.question, r.entity) == ("clarify", reply, "", "")


def test_self_contained_messages_pass_unchanged() -> None:
    for message in ["朱志杰说他要打造什么", "其他镇有什么特色", "吉他多少钱", "那舟山镇有哪些村", "舟山镇的该镇"]:
        r = resolve(STATE, message, LEXICON)
        assert r.action == "ask" and not r.changed and r.question == message, r
    assert resolve(None, "朱志杰去过哪些镇", LEXICON).question == "朱志杰去过哪些镇"


def test_more_after_a_sentence_answer_goes_on_with_its_passage() -> None:
    assert resolve(STATE, "还有呢", LEXICON).action == "more"


def test_more_after_a_list() -> None:
    items = tuple(AnswerItem(f"{n}镇", "") for n in "一二三四五六")
    state = DialogueState("朱志杰去过哪些镇", "朱志杰", answer=Answer("q", True, "x", kind="list", items=items))
    for message in ["还有呢", "还有吗？", "继续"]:
        assert resolve(state, message, LEXICON).action == "more"
