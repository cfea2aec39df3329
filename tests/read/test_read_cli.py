"""`newsqa read --json -` in-process, with the tiny random reader behind the real pre- and
post-processing (the shipped weights are exercised by the slow test in test_shipped.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import retrieval.read.reader
from bot.cli import cli
from retrieval.read.reader import Reader
from retrieval.read.torch_model import load_base, save_packed
from tests.read.tiny import write_tiny_base


@pytest.fixture(scope="module")
def tiny_reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    root = tmp_path_factory.mktemp("tiny-cli")
    base = write_tiny_base(root / "base")
    torch.manual_seed(3)
    save_packed(load_base(base), root / "reader.safetensors")
    return retrieval.read.reader.load_reader(root, "torch", root / "reader.safetensors", base_dir=base)


def run(tiny_reader: Reader, lines: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        margin: str | None = None, *args: str) -> list[dict]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(retrieval.read.reader, "load_reader", lambda *a, **k: tiny_reader)
    env = {"DATA_DIR": str(tmp_path / "data"), "READER_MARGIN": margin}
    result = CliRunner().invoke(cli, ["read", "--json", *args, "-"], input="\n".join(lines) + "\n", env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


CONTEXT = "永康上半年全市GDP为276亿元，同比增长8.5%。"


def test_one_answer_per_line_in_order_with_its_offset(tiny_reader: Reader, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    lines = [json.dumps({"question": q, "context": CONTEXT, "id": n}, ensure_ascii=False)
             for n, q in enumerate(["GDP多少", "增长多少", "哪个市"] * 7)]  # more than one batch
    out = run(tiny_reader, lines, monkeypatch, tmp_path)
    assert [o["id"] for o in out] == list(range(21))
    for o in out:
        assert set(o) == {"answer", "found", "score", "start", "id"}
        assert o["answer"] and CONTEXT[o["start"] : o["start"] + len(o["answer"])] == o["answer"]
        assert o["found"] == (o["score"] > 0.0)


def test_the_margin_decides_found(tiny_reader: Reader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    line = json.dumps({"question": "GDP多少", "context": CONTEXT}, ensure_ascii=False)
    assert run(tiny_reader, [line], monkeypatch, tmp_path, "-1000")[0]["found"] is True
    out = run(tiny_reader, [line], monkeypatch, tmp_path, "1000")[0]
    assert out["found"] is False and out["answer"]  # the best span is still given


def test_bad_lines_are_reported_and_the_batch_goes_on(tiny_reader: Reader, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    good = json.dumps({"question": "GDP多少", "context": CONTEXT}, ensure_ascii=False)
    out = run(tiny_reader, ["not json", good, "[1, 2]", json.dumps({"question": "问", "id": 7}), good],
              monkeypatch, tmp_path)
    assert len(out) == 5
    assert [("error" in o) for o in out] == [True, False, True, True, False]
    assert out[3]["id"] == 7 and out[0]["found"] is False and out[0]["start"] == -1
    assert out[1]["answer"] and out[4]["answer"] == out[1]["answer"]


def test_an_empty_context_has_no_answer(tiny_reader: Reader, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = run(tiny_reader, [json.dumps({"question": "GDP多少", "context": ""})], monkeypatch, tmp_path)
    assert out == [{"answer": "", "found": False, "score": None, "start": -1}]
