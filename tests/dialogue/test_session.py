"""A conversation's turns: state kept and replaced, expiry, /new, and list pages for "还有呢"."""

from __future__ import annotations

import json
from pathlib import Path

from retrieval.dialogue import Conversation, list_page
from retrieval.dialogue.evaluate import evaluate_dialogues, load_dialogues
from retrieval.evaluate import is_dialogue_set
from retrieval.lexicon.mining import Lexicon
from retrieval.models import Answer, AnswerItem, Citation

LEXICON = Lexicon(("朱志杰", "章旭升"), ("古山镇", "舟山镇"))
TOWNS = [f"{c}镇" for c in "甲乙丙丁戊己庚辛"]


def town_list(question: str) -> Answer:
    items = tuple(AnswerItem(t, f"到了{t}", (Citation(f"a{n}", f"去{t}", "", "s.txt"),)) for n, t in enumerate(TOWNS))
    lines = [f"据报道，朱志杰去过的镇共 {len(items)} 个："] + [f"{n}. {t}（《去{t}》）" for n, t in enumerate(TOWNS, 1)]
    return Answer(question, True, "\n".join(lines), kind="list", items=items, citations=())


class Asker:
    """Records questions; lists towns for 去过哪些镇, else a factoid echoing the question."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, question: str) -> Answer:
        self.asked.append(question)
        if "哪些镇" in question:
            return town_list(question)
        if "唐先镇" in question:
            return Answer(question, False, "没有找到相关报道。", kind="none")
        return Answer(question, True, f"答：{question}", citations=(Citation("x", "标题", "", "s.txt"),))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_follow_up_expiry_and_new() -> None:
    asker, clock = Asker(), Clock()
    chat = Conversation(asker, lambda: LEXICON, ttl=600, clock=clock)
    assert chat.reply("他去了哪里").text == "您问的是哪位？" and asker.asked == []  # nothing was looked up
    chat.reply("朱志杰要求古山镇打造什么")
    assert chat.reply("那舟山镇呢").answer.text == "答：朱志杰要求舟山镇打造什么"  # type: ignore[union-attr]
    clock.now += 599
    assert chat.reply("他说了什么").resolution.question == "朱志杰说了什么"
    clock.now += 601
    assert chat.reply("他说了什么").kind == "clarify"  # ten minutes of silence: forgotten
    chat.reply("章旭升说了什么")
    chat.clear()
    assert chat.reply("他说了什么").kind == "clarify"


def test_more_pages_through_the_previous_list_without_asking_again() -> None:
    asker = Asker()
    chat = Conversation(asker, lambda: LEXICON, page=3)
    first = chat.reply("朱志杰去过哪些镇").answer
    assert first is not None and [i.label for i in first.items] == TOWNS[:3]
    assert "1. 甲镇" in first.text and "4. 丁镇" not in first.text and "还有 5 项" in first.text
    assert {c.title for c in first.citations} == {"去甲镇", "去乙镇", "去丙镇"}
    second = chat.reply("还有呢")
    assert second.kind == "more" and second.answer is not None
    assert "第 4–6 项" in second.answer.text and "4. 丁镇" in second.answer.text and "7. 庚镇" not in second.answer.text
    third, last = chat.reply("还有吗"), chat.reply("还有呢")
    assert third.answer is not None and "8. 辛镇" in third.answer.text and "还有" not in third.answer.text
    assert last.answer is not None and last.answer.text == "以上已列出全部 8 项。"
    assert asker.asked == ["朱志杰去过哪些镇"]
    assert Conversation(Asker(), lambda: LEXICON, page=0).reply("朱志杰去过哪些镇").answer.items == town_list("").items  # type: ignore[union-attr]


def test_more_after_a_sentence_answer_shows_the_rest_of_its_passage() -> None:
    passage = "甲句。乙句说了答案。丙句。丁句。戊句。己句。"
    cited = Citation("a1", "标题", "", "s.txt", passage)

    class Quoting(Asker):
        def ask(self, question: str) -> Answer:
            self.asked.append(question)
            return Answer(question, True, "答：乙\n乙句说了答案。", kind="factoid", citations=(cited,),
                          items=(AnswerItem("乙", "乙句说了答案。", (cited,)),))

    asker = Quoting()
    chat = Conversation(asker, lambda: LEXICON)
    chat.reply("谁说了答案")
    second = chat.reply("还有呢")
    assert second.kind == "more" and second.answer is not None
    assert second.answer.text == "（续）《标题》：\n丙句。丁句。戊句。" and second.answer.citations == (cited,)
    assert chat.reply("还有呢").answer.text == "（续）《标题》：\n己句。"  # type: ignore[union-attr]
    assert chat.reply("还有呢").answer.text == "这段报道的内容已全部列出。"  # type: ignore[union-attr]
    assert asker.asked == ["谁说了答案"]  # nothing asked again


def test_list_page_of_a_list_without_numbered_lines() -> None:
    answer = Answer("q", True, "据报道：甲镇、乙镇", kind="list", items=tuple(AnswerItem(t, "") for t in "甲乙丙"))
    assert list_page(answer, 1, 1).text == "（续）第 2–2 项，共 3 项：\n2. 乙\n……还有 1 项，发送“还有呢”查看。"


def test_dialogue_set_scoring(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "split": "tune", "turns": [
            {"q": "朱志杰要求古山镇打造什么", "type": "factoid", "answers": [["古山镇"]]},
            {"q": "那舟山镇呢", "type": "factoid", "answers": [["舟山镇"]], "resolved": "朱志杰要求舟山镇打造什么",
             "entity": "舟山镇"},
            {"q": "那唐先镇呢", "type": "unanswerable", "answers": [], "entity": "唐先镇"}]},
        {"id": "b", "split": "heldout", "turns": [
            {"q": "他说了什么", "type": "clarify", "answers": []},
            {"q": "朱志杰去过哪些镇", "type": "list", "answers": [["甲镇"], ["辛镇"]]},
            {"q": "还有呢", "type": "list", "answers": [["甲镇"], ["辛镇"]]},
            {"q": "他说了什么", "type": "clarify", "answers": [], "after_s": 700},
            {"q": "那章旭升呢", "type": "factoid", "answers": [["章旭升"]], "entity": "章旭升"}]},
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert is_dialogue_set(path) and not is_dialogue_set(Path(__file__).parents[2] / "eval" / "seeds_v2.jsonl")
    result = evaluate_dialogues(Asker(), LEXICON, load_dialogues(path), ttl=600, page=5)
    marks = [(r.dialogue, r.n, r.correct) for r in result.rows]
    assert marks == [("a", 1, True), ("a", 2, True), ("a", 3, True), ("b", 1, True), ("b", 2, False),
                     ("b", 3, True), ("b", 4, True), ("b", 5, False)]  # page 1 lacks 辛镇; 5: nothing to swap
    m = result.metrics()
    assert (m["turns"], m["follow_ups"], m["wrong_entity"]) == (8, 6, 0)
    assert m["follow_up_accuracy"] == 4 / 6 and result.metrics("tune")["turn_accuracy"] == 1.0
    assert "追问准确率" in result.summary() and "heldout" in result.summary()
    # details keep the held-out split unseen unless asked for; its figures are always there
    assert {r["split"] for r in result.to_json(details=True)["rows"]} == {"tune"}  # type: ignore[index]
    assert len(result.to_json(details=True, heldout=True)["rows"]) == 8  # type: ignore[arg-type]
    assert result.to_json()["metrics"]["heldout"]["turns"] == 5  # type: ignore[index]
