"""The shipped reader weights, as served (int8 ONNX exported offline in a child process), on
fixed examples: seed-page facts the hand-written rules missed, a paraphrase, and "no answer"
for a same-topic passage without the fact. Slow: the export takes a minute or two."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from retrieval.qa.reading import DEFAULT_MARGIN
from retrieval.read.reader import Reader, load_reader, shipped_weights
from retrieval.service import NewsQA

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shipped_weights().is_file(), reason="no reader weights shipped yet")]

GDP = "在全市上下的共同努力下，1-6月，我市实现GDP276亿元，财政总收入67.4亿元、增长9.1%。其中规上工业增长7.0%。"
PARK = "朱志杰一行详细了解胡公文化园建设、古山镇工业发展情况。胡公文化园位于古山镇，总投资约3亿元。"
OTHER = "今年以来，我市积极开展“三服务”活动，各级干部深入企业，帮助解决用工、融资等难题。"


@pytest.fixture(scope="module")
def reader(model_cache_dir: Path, default_model_dir: Path) -> Reader:
    with pytest.MonkeyPatch.context() as mp:
        def local_only(sock: socket.socket, address: object) -> None:
            raise AssertionError(f"network access attempted: {address!r}")

        mp.setattr(socket.socket, "connect", local_only)  # the export and load are offline
        return load_reader(model_cache_dir, "onnx-int8")


@pytest.mark.parametrize(("question", "context", "expected"), [
    ("永康上半年GDP多少", GDP, "276亿元"),
    ("财政总收入是多少", GDP, "67.4亿元"),
    ("胡公文化园在哪个镇", PARK, "古山镇"),
    ("胡公文化园花了多少钱", PARK, "3亿元"),
])
def test_reads_the_span(reader: Reader, question: str, context: str, expected: str) -> None:
    span = reader.read(question, [context])[0]
    assert span is not None and expected in span.text and span.score > DEFAULT_MARGIN
    assert context[span.start : span.end] == span.text


def test_a_same_topic_passage_without_the_fact_has_no_answer(reader: Reader) -> None:
    span = reader.read("永康上半年GDP多少", [OTHER])[0]
    assert span is None or span.score <= DEFAULT_MARGIN


def test_the_service_answers_through_the_shipped_reader(seed_service: NewsQA, reader: Reader) -> None:
    service = NewsQA(seed_service.index_root, lambda: seed_service.encoder.loaded, model_name=seed_service.model_name,
                     reader_factory=lambda: reader, reader_margin=DEFAULT_MARGIN)
    answer = service.ask("永康上半年GDP多少")
    assert answer.found and answer.text.startswith("答：") and "276亿元" in answer.text.split("\n")[0]
    assert answer.citations and "276亿元" in answer.citations[0].text.replace("\n", "")
