"""Pre-processing: windows, strides and character offsets (retrieval.read.windows), and the
training labels made from them (training.reader.features)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.read.windows import WindowMaker
from tests.read.tiny import ALPHABET, char_tokenizer
from training.reader.features import answer_tokens

TEXT = "永康上半年全市GDP为276亿元，同比增长8.5%。星月集团和古山镇签约了。"


@pytest.fixture(scope="module")
def maker() -> WindowMaker:
    return WindowMaker(char_tokenizer(), max_tokens=32, stride=8, max_question_tokens=8)


def test_a_short_passage_is_one_window_laid_out_as_a_pair(maker: WindowMaker) -> None:
    batch = maker.make("GDP多少", ["星月集团"])
    assert len(batch) == 1 and batch.passage.tolist() == [0]
    ids = batch.input_ids[0][batch.attention_mask[0] == 1].tolist()
    q = len("GDP多少")
    assert ids[0] == maker.bos and ids[q + 1 : q + 3] == [maker.eos, maker.eos] and ids[-1] == maker.eos
    spans = batch.offsets[0][batch.attention_mask[0] == 1]
    assert (spans[: q + 3] == -1).all() and (spans[-1] == -1).all()  # question and specials: no text
    assert [tuple(s) for s in spans[q + 3 : -1]] == [(i, i + 1) for i in range(4)]


def test_long_passages_overlap_by_the_stride_and_cover_every_character(maker: WindowMaker) -> None:
    batch = maker.make("GDP", [TEXT])
    assert len(batch) > 1 and batch.input_ids.shape[1] <= maker.max_tokens
    covered: set[int] = set()
    previous_end = None
    for w in range(len(batch)):
        spans = batch.offsets[w][batch.offsets[w, :, 0] >= 0]
        covered |= {int(a) for a, _ in spans}
        if previous_end is not None:
            assert previous_end - spans[0, 0] == maker.stride  # neighbours share `stride` pieces
        previous_end = int(spans[-1, 1])
    assert covered == set(range(len(TEXT)))


def test_long_questions_keep_their_end(maker: WindowMaker) -> None:
    batch = maker.make("胡公文化园在哪个镇胡公文化园在哪个镇", ["古山镇"])
    ids = batch.input_ids[0].tolist()
    kept = ids[1 : 1 + maker.max_question_tokens]
    assert ids[1 + maker.max_question_tokens] == maker.eos
    assert maker.tokenizer.decode(kept).replace(" ", "") == "公文化园在哪个镇"  # the interrogative end


def test_pairs_and_passages_of_one_question_agree(maker: WindowMaker) -> None:
    one = maker.make("GDP", [TEXT, "古山镇"])
    pairs = maker.make_pairs([("GDP", TEXT), ("GDP", "古山镇")])
    assert np.array_equal(one.input_ids, pairs.input_ids) and np.array_equal(one.passage, pairs.passage)


def test_an_empty_passage_still_gives_a_window_without_answer_tokens(maker: WindowMaker) -> None:
    batch = maker.make("GDP", [""])
    assert len(batch) == 1 and not (batch.offsets[0, :, 0] >= 0).any()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET.replace(" ", ""), min_size=1, max_size=80), st.data())
def test_labels_point_at_exactly_the_answer_characters(text: str, data: st.DataObject) -> None:
    maker = WindowMaker(char_tokenizer(), max_tokens=32, stride=8, max_question_tokens=8)
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, min(len(text), start + 10)))
    batch = maker.make("问题", [text])
    labelled = 0
    for w in range(len(batch)):
        i, j = answer_tokens(batch.offsets[w], start, end)
        if i:
            labelled += 1
            assert text[batch.offsets[w, i, 0] : batch.offsets[w, j, 1]] == text[start:end]
    assert labelled >= 1  # an answer no longer than the stride is whole in some window
