"""The shipped reader weights, as served (int8 ONNX exported offline in a child process), on
fixed examples: seed-page facts the hand-written rules missed, read from the seed index's own
passage that holds them (headline + chunk, as the service reads it), and "no answer" for a
same-topic passage without the fact. Slow: the export takes a minute or two."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from retrieval.models import Hit
from retrieval.qa.reading import DEFAULT_MARGIN, passage_of
from retrieval.read.reader import Reader, load_reader, shipped_weights
from retrieval.service import NewsQA

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shipped_weights().is_file(), reason="no reader weights shipped yet")]

OTHER = "今年以来，我市积极开展“三服务”活动，各级干部深入企业，帮助解决用工、融资等难题。"


@pytest.fixture(scope="module")
def reader(model_cache_dir: Path, default_model_dir: Path) -> Reader:
    with pytest.MonkeyPatch.context() as mp:
        def local_only(sock: socket.socket, address: object) -> None:
            raise AssertionError(f"network access attempted: {address!r}")

        mp.setattr(socket.socket, "connect", local_only)  # the export and load are offline
        return load_reader(model_cache_dir, "onnx-int8")


def served_passage(service: NewsQA, holding: str) -> str:
    """The seed index's passage (headline + chunk) whose text holds ``holding``."""
    chunk = next(c for c in service.index.chunks if holding in c.text)
    return passage_of(Hit(chunk, 1.0, 0))


@pytest.mark.parametrize(("question", "holding", "expected"), [
    ("永康上半年GDP多少", "GDP276亿元", "276亿元"),
    ("胡公文化园在哪个镇", "胡公文化园建设", "古山"),  # the town, with or without 镇
])
def test_reads_the_span(reader: Reader, seed_service: NewsQA, question: str, holding: str, expected: str) -> None:
    context = served_passage(seed_service, holding)
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


def test_the_default_settings_let_the_reader_pick_the_short_answer(seed_service: NewsQA, reader: Reader,  # exported
                                                                    model_cache_dir: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """ANSWER_READER unset: the rules decide and cite, the shipped reader names who signed."""
    from bot.runtime import make_service
    from bot.settings import Settings

    monkeypatch.delenv("ANSWER_READER", raising=False)
    settings = Settings(_env_file=None, index_dir=seed_service.index_root,  # type: ignore[call-arg]
                        model_cache_dir=model_cache_dir)  # the reader's graph is exported there already
    assert settings.answer_reader == "hybrid"
    service = make_service(settings)
    service.encoder = seed_service.encoder  # the session's loaded model
    answer = service.ask("星月集团和谁签约了")
    assert answer.found and answer.text.startswith("答：小米")
    assert "星月集团与小米" in answer.text.split("\n")[1]
