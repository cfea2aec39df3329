"""Synthetic archive questions: which articles are used, and the span is where the question says."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from training.reader.synthetic import synthetic_examples

TEXT = ("央视网消息（新闻联播）：截至目前，全国已有302家国家5A级旅游景区，比上年增加22家。"
        "文化和旅游部今天发布了这一数据。各地景区将继续推进智慧旅游建设，提升游客体验，丰富假日文化供给。")


def archive(tmp_path: Path, items: list[dict]) -> Path:
    path = tmp_path / "xwlb.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    return path


def test_questions_point_at_their_span_and_skip_the_evaluation_windows(tmp_path: Path) -> None:
    items = [{"id": "first", "date": "20210101", "title": "甲", "text": TEXT},  # among the skipped first items
             {"id": "q2", "date": "20190501", "title": "乙", "text": TEXT},  # the 2019 sets' year
             {"id": "ok", "date": "20210105", "title": "5A级旅游景区", "text": TEXT}]
    found = list(synthetic_examples(archive(tmp_path, items), ("2021", "2023"), 10, skip_first=1))
    assert [ex.qid for ex in found] == ["syn:ok"]
    ex = found[0]
    (answer, at), = ex.answers
    assert ex.context.startswith("5A级旅游景区\n") and "央视网消息" not in ex.context
    assert ex.context[at : at + len(answer)] == answer and ex.context.count(answer) == 1
    assert answer not in ex.question and ex.question.endswith("？")
    assert any(word in ex.question for word in ("多少", "谁", "哪里", "哪个单位"))


def test_the_limit_and_the_year_range(tmp_path: Path) -> None:
    items = [{"id": str(i), "date": f"202{i % 4}0101", "title": "t", "text": TEXT} for i in range(12)]
    found = list(synthetic_examples(archive(tmp_path, items), ("2021", "2022"), 4, skip_first=0))
    assert len(found) == 4 and all(int(ex.qid.split(":")[1]) % 4 in (1, 2) for ex in found)


def test_terse_questions_keep_the_words_nearest_the_span() -> None:
    import random

    from training.reader.synthetic import terse_question

    rng = random.Random(0)
    asked = {terse_question("上半年，全市实现地区生产总值", "", "多少", rng) for _ in range(6)}
    # the light verb 实现 and the comma go; the nouns beside the amount stay
    assert {q.rstrip("？") for q in asked} <= {"上半年全市地区生产总值多少", "全市地区生产总值多少"}
    assert "中国" in terse_question("我国今年粮食产量达到", "", "多少", rng)
    assert "与谁签订" in terse_question("星月集团与", "签订战略合作协议", "谁", rng)


def test_terse_style_points_at_its_span(tmp_path: Path) -> None:
    items = [{"id": "ok", "date": "20210105", "title": "5A级旅游景区", "text": TEXT}]
    ex, = synthetic_examples(archive(tmp_path, items), ("2021", "2023"), 10, skip_first=0, style="terse")
    (answer, at), = ex.answers
    assert ex.qid == "syn-terse:ok" and ex.context[at : at + len(answer)] == answer
    assert answer not in ex.question and len(ex.question) < 30


def test_terse_amounts_ask_with_their_measure_word_and_subjects_may_come_last() -> None:
    import random

    from training.reader.synthetic import asked_amount, terse_question

    assert (asked_amount("10人"), asked_amount("31个"), asked_amount("2000亿元")) == ("多少人", "多少个", "多少")
    asked = {terse_question("", "起草一份文件", "哪个单位", random.Random(seed)).rstrip("？") for seed in range(12)}
    assert asked == {"哪个单位起草一份文件", "起草一份文件的是哪个单位"}


def test_only_believable_names_are_asked_about() -> None:
    from training.reader.synthetic import plausible_name

    assert plausible_name("王志军", "nr") and plausible_name("安东尼奥·古特雷斯", "nr")
    assert not plausible_name("严格执行", "nr") and not plausible_name("祝贺", "nr")
    assert plausible_name("国务院", "nt") and plausible_name("浙江大学", "nt")
    assert not plausible_name("新生事物", "nt")
    assert plausible_name("北京", "ns") and plausible_name("古山镇", "ns") and plausible_name("苏联", "ns") is False
    assert not plausible_name("依法治国", "ns") and not plausible_name("深度", "ns")
