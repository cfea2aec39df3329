"""EMBEDDING_DEVICE (auto / cpu / cuda / mps): resolved by retrieval.embed.backends.resolve_device and
passed through to sentence-transformers' ``device=`` with the torch backend; ``auto`` keeps the
CPU default (int8 ONNX for the bundled model) when there is no GPU. Nothing is downloaded: the
model here is a recording stand-in, or a tiny random BERT folder made on the spot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import retrieval.embed.backends as backends
from bot.runtime import make_service
from bot.settings import Settings
from retrieval.embed.backends import DeviceUnavailableError, resolve_device
from retrieval.embed.default_model import DEFAULT_MODEL

# imports torch and sentence-transformers: ~4 s, run by the full suite (CI)
pytestmark = pytest.mark.slow


class Recorded:
    def __init__(self, kind: str, path: str, options: backends.BackendOptions) -> None:
        self.kind, self.path, self.options = kind, path, options
        self.dim, self.prompts = 8, {}

    def encode(self, texts: Any, prefix: str, batch_size: int, progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[Recorded]:
    made: list[Recorded] = []
    for kind in list(backends.BACKENDS):
        def factory(path: str, options: backends.BackendOptions, kind: str = kind) -> Recorded:
            made.append(Recorded(kind, path, options))
            return made[-1]
        monkeypatch.setitem(backends.BACKENDS, kind, (factory, backends.BACKENDS[kind][1]))
    return made


def _settings(**kw: Any) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def _gpu(monkeypatch: pytest.MonkeyPatch, available: bool) -> None:
    monkeypatch.setattr(backends, "cuda_available", lambda: available)


def test_this_machine_resolves_auto_to_cpu() -> None:
    # the CI box has a CPU-only torch build: decided from torch/version.py, no GPU probing
    assert backends._torch_build_has_gpu() is False
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _gpu(monkeypatch, False)
    with pytest.raises(DeviceUnavailableError, match=r"EMBEDDING_DEVICE=cuda.*torch\.cuda\.is_available"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="unknown embedding device"):
        resolve_device("tpu")


@pytest.mark.parametrize(("setting", "gpu", "device", "backend"), [
    ("auto", False, "cpu", "onnx-int8"),  # today's default, unchanged
    ("cpu", True, "cpu", "onnx-int8"),
    ("auto", True, "cuda", "torch"),
    ("cuda", True, "cuda", "torch"),
])
def test_the_setting_reaches_the_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, recorded: list[Recorded],
                                       setting: str, gpu: bool, device: str, backend: str) -> None:
    _gpu(monkeypatch, gpu)
    monkeypatch.setattr(backends.importlib.util, "find_spec", lambda name: object())  # "onnxruntime is installed"
    monkeypatch.setattr("retrieval.embed.encoder.resolve_model_path", lambda name, cache: str(tmp_path / "model"))
    service = make_service(_settings(embedding_device=setting, model_cache_dir=tmp_path, index_dir=tmp_path / "i"))
    embedder = service.encoder.loaded
    (model,) = recorded
    assert (model.kind, model.options.device) == (backend, device)
    assert (embedder.device, embedder.backend) == (device, backend)
    assert service.encoder.name == DEFAULT_MODEL


def test_an_onnx_backend_is_refused_on_a_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             recorded: list[Recorded]) -> None:
    _gpu(monkeypatch, True)
    service = make_service(_settings(embedding_device="cuda", embedding_backend="onnx-int8", model_cache_dir=tmp_path))
    with pytest.raises(ValueError, match="只能在 CPU 上运行"):
        _ = service.encoder.loaded
    assert recorded == []


def test_sentence_transformers_gets_the_device(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The real torch backend over a tiny random BERT folder: ``device=`` arrives at
    SentenceTransformer (recorded, then run on the CPU this machine has)."""
    import sentence_transformers

    from tests.embed.test_encoder import _tiny_bert_folder

    real = sentence_transformers.SentenceTransformer
    asked: list[str] = []

    def recording(*args: Any, device: str | None = None, **kw: Any) -> Any:
        asked.append(str(device))
        return real(*args, device="cpu", **kw)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", recording)
    _gpu(monkeypatch, True)
    folder = _tiny_bert_folder(tmp_path / "tiny")
    service = make_service(_settings(embedding_model=str(folder), embedding_device="cuda", model_cache_dir=tmp_path))
    vectors = service.encoder.encode_queries(["朱志杰"])
    assert asked == ["cuda"] and service.encoder.loaded.backend == "torch"
    assert vectors.shape == (1, 32)
