"""The reader end to end on a tiny random model: packed weights, the torch and ONNX backends,
one span per passage, batching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from retrieval.read.reader import Reader, load_reader
from retrieval.read.torch_model import load_base, pack_state, save_packed, torch_logits, unpack_state
from retrieval.read.torch_model import load_reader as load_torch
from retrieval.read.windows import WindowMaker
from tests.read.tiny import write_tiny_base

PASSAGES = ["永康上半年全市GDP为276亿元，同比增长8.5%。", "", "星月集团和古山镇签约了。", "朱志杰去过古山镇"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(base folder, packed weights) of a tiny random reader."""
    root = tmp_path_factory.mktemp("tiny-reader")
    base = write_tiny_base(root / "base")
    torch.manual_seed(1)
    model = load_base(base)
    with torch.no_grad():
        model.qa_outputs.weight.normal_(std=1.0)  # spread the logits so spans differ
    save_packed(model, root / "reader.safetensors")
    return base, root / "reader.safetensors"


def test_packed_weights_leave_out_the_frozen_embeddings_and_round_trip(tiny: tuple[Path, Path]) -> None:
    base, _ = tiny
    state = load_base(base).trained_state()
    assert "encoder.embeddings.word_embeddings.weight" not in state
    back = unpack_state(pack_state(state))
    assert set(back) == set(state)
    for name, value in state.items():
        err = np.abs(back[name] - value.numpy()).max()
        assert err <= np.abs(value.numpy()).max() / 100 + 1e-3, name  # int8 rows, float16 vectors


def exact_reader(base: Path, weights: Path) -> Reader:
    """The torch backend in float32 (the registry's autocasts to bf16 on CPUs that have it)."""
    return Reader(torch_logits(load_torch(base, weights), bf16=False), WindowMaker.from_folder(base))


def test_one_span_per_passage_holding_the_passage_text(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    base, weights = tiny
    reader = load_reader(tmp_path, "torch", weights, base_dir=base)
    spans = reader.read("GDP多少", PASSAGES)
    assert len(spans) == len(PASSAGES) and spans[1] is None
    for passage, span in zip(PASSAGES, spans, strict=True):
        if span is not None:
            assert 0 <= span.start < span.end <= len(passage) and span.text == passage[span.start : span.end]
            assert np.isfinite(span.score)


def test_batching_windows_does_not_change_the_answers(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    base, weights = tiny
    reader = exact_reader(base, weights)
    one_by_one = Reader(reader.logits, reader.maker, max_windows=1)
    long = [p * 6 for p in PASSAGES]  # several windows each
    a, b = reader.read("GDP多少", long), one_by_one.read("GDP多少", long)
    assert [(s.start, s.end) if s else None for s in a] == [(s.start, s.end) if s else None for s in b]
    assert all(s is None or abs(s.score - t.score) < 1e-3 for s, t in zip(a, b, strict=True) if t)


def test_no_passages_no_spans(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    base, weights = tiny
    assert load_reader(tmp_path, "torch", weights, base_dir=base).read("问题", []) == []


@pytest.mark.slow  # exports in a child process (~10 s of imports)
def test_the_onnx_graph_reads_as_torch_does(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    base, weights = tiny
    torch_reader = exact_reader(base, weights)
    onnx_reader = load_reader(tmp_path, "onnx", weights, base_dir=base)  # exported in a child process
    assert list(tmp_path.glob("reader-*/reader-fp32.onnx"))
    batch = torch_reader.maker.make("GDP多少", PASSAGES)
    ts, te = torch_reader.logits(batch.input_ids, batch.attention_mask)
    os_, oe = onnx_reader.logits(batch.input_ids, batch.attention_mask)
    live = batch.attention_mask == 1
    assert np.abs(ts[live] - os_[live]).max() < 2e-2 and np.abs(te[live] - oe[live]).max() < 2e-2


def test_unknown_backend_and_missing_weights_fail_clearly(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    base, _ = tiny
    with pytest.raises(ValueError, match="unknown reader backend"):
        load_reader(tmp_path, "tensorflow", base_dir=base)
    with pytest.raises(FileNotFoundError, match="reader weights not found"):
        load_reader(tmp_path, "torch", tmp_path / "nope.safetensors", base_dir=base)
