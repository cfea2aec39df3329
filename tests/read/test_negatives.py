"""Made "no answer" examples: the answer's sentence cut out of its own passage."""

from __future__ import annotations

from training.reader.data import Example, crop_positives, cut_negatives

PASSAGE = ("永康市召开经济形势分析会。上半年，全市实现地区生产总值276亿元，同比增长7.1%。"
           "会议要求各地各部门坚定信心，奋力完成全年目标任务。会上，市发改局汇报了有关情况。")


def example(answer: str, qid: str = "q1") -> Example:
    return Example(qid, "永康上半年GDP多少", PASSAGE, ((answer, PASSAGE.index(answer)),), "a1")


def test_the_answers_sentence_is_cut_and_the_rest_kept() -> None:
    cut, = cut_negatives([example("276亿元")])
    assert cut.qid == "q1#cut" and cut.answers == () and not cut.answerable
    assert "276亿元" not in cut.context and "同比增长" not in cut.context  # the whole sentence goes
    assert cut.context == ("永康市召开经济形势分析会。会议要求各地各部门坚定信心，奋力完成全年目标任务。"
                           "会上，市发改局汇报了有关情况。")
    assert cut.meta["answers_elsewhere"] == ["276亿元"]


def test_nothing_is_made_when_the_answer_is_still_there_or_too_little_is_left() -> None:
    twice = Example("q2", "q", "甲乙丙。276亿元。" + PASSAGE, (("276亿元", 4),), "a1")
    assert cut_negatives([twice]) == []
    assert cut_negatives([example("276亿元")], min_chars=len(PASSAGE)) == []
    no_answer = Example("q3", "q", PASSAGE, (), "a1")
    assert cut_negatives([no_answer]) == []


def test_the_fraction_is_a_seeded_sample() -> None:
    many = [example("276亿元", f"q{i}") for i in range(200)]
    first, again = cut_negatives(many, 0.3), cut_negatives(many, 0.3)
    assert first == again and 40 <= len(first) <= 80


OTHER = Example("o1", "别的问题", "市图书馆新增藏书三万册。周末开放时间延长到晚上九点。", (("三万册", 8),), "a2")


def test_a_filled_cut_keeps_the_passage_length_with_another_articles_sentences() -> None:
    plain, = cut_negatives([example("276亿元")])
    filled, = cut_negatives([example("276亿元"), OTHER], fill=True, fraction=1.0)[:1]
    assert filled.qid == "q1#cut" and filled.answers == ()
    assert "276亿元" not in filled.context and "同比增长" not in filled.context
    assert filled.context.startswith("永康市召开经济形势分析会。") and filled.context.endswith("汇报了有关情况。")
    assert len(filled.context) > len(plain.context)  # the cut is filled …
    assert "图书馆" in filled.context or "开放时间" in filled.context  # … from the other article only


def test_a_crop_keeps_the_answers_sentence_at_its_moved_offset() -> None:
    crops = crop_positives([example("276亿元", f"q{i}") for i in range(40)])
    assert crops and all(c.qid.endswith("#crop") for c in crops)
    for crop in crops:
        (text, start), = crop.answers
        assert crop.context[start : start + len(text)] == "276亿元"
        assert "上半年，全市实现地区生产总值276亿元，同比增长7.1%。" in crop.context
        assert len(crop.context) < len(PASSAGE) and PASSAGE.find(crop.context) >= 0  # a cut, in order
    assert {len(c.context) for c in crops} != {len(crops[0].context)}  # 0 or 1 neighbours, at random
