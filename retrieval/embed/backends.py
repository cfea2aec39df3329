"""Embedding backends behind one registry: ``torch`` (sentence-transformers), ``onnx`` and
``onnx-int8`` (ONNX Runtime, ``retrieval.embed.onnx``).

A backend turns a model (a local folder or a hub name) into a :class:`SentenceBackend`;
:class:`retrieval.embed.encoder.Embedder` picks one by name and adds prefixes and ordering.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.embed.quiet import quiet_model_loading

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class SentenceBackend(Protocol):
    """A loaded model. ``encode``: (n,) texts → (n, dim) float32 unit vectors, in order, with
    ``prefix`` put before each text; batches as given (callers sort by length beforehand)."""

    dim: int
    prompts: dict[str, str]

    def encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress: bool) -> np.ndarray: ...


@dataclass(frozen=True)
class BackendOptions:
    """What every backend is told. ``max_seq_length`` caps tokens per text (None: the model's
    own limit); ``threads`` caps CPU threads (None: one per core)."""

    device: str = "cpu"
    max_seq_length: int | None = 512
    threads: int | None = None
    local_files_only: bool = True


BackendFactory = Callable[[str, BackendOptions], SentenceBackend]
BACKENDS: dict[str, tuple[BackendFactory, int]] = {}


def register_backend(name: str, factory: BackendFactory, batch_size: int) -> None:
    """Make ``name`` selectable (EMBEDDING_BACKEND); ``batch_size`` is its best default on CPU."""
    BACKENDS[name] = (factory, batch_size)


DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(RuntimeError):
    """EMBEDDING_DEVICE asks for hardware this machine (or its torch build) does not have."""


def _torch_build_has_gpu() -> bool:
    """Whether the installed torch is a CUDA/ROCm build, read from ``torch/version.py`` without
    importing torch (a CPU build, the default here, then costs nothing at start-up)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text(encoding="utf-8")
    except OSError:
        return True  # unusual layout: ask torch itself
    return bool(re.search(r"^(cuda|hip)\b[^=\n]*=\s*['\"]", text, re.MULTILINE))


def cuda_available() -> bool:
    """``torch.cuda.is_available()``, without importing torch when its build has no GPU support."""
    if not _torch_build_has_gpu():
        return False
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(requested: str) -> str:
    """EMBEDDING_DEVICE → the device the model runs on: ``auto`` is ``cuda`` when torch sees a
    GPU, else ``cpu`` (today's default: int8 ONNX for the bundled model); ``cuda`` and ``mps``
    raise DeviceUnavailableError with a hint when the GPU is not there."""
    device = (requested or "auto").strip().lower()
    if device not in DEVICES:
        raise ValueError(f"unknown embedding device {requested!r}; expected one of {DEVICES}")
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cuda" and not cuda_available():
        raise DeviceUnavailableError(
            "EMBEDDING_DEVICE=cuda，但 torch 没有检测到可用的 CUDA GPU（torch.cuda.is_available() 为 False）。"
            "请安装带 CUDA 的 torch（见 README「GPU 嵌入」），或改用 EMBEDDING_DEVICE=auto / cpu。")
    if device == "mps" and not mps_available():
        raise DeviceUnavailableError(
            "EMBEDDING_DEVICE=mps，但 torch 没有检测到 Apple MPS。请改用 EMBEDDING_DEVICE=auto / cpu。")
    return device


def default_backend(name: str, device: str = "cpu") -> str:
    """``onnx-int8`` for :data:`DEFAULT_MODEL` on CPU when onnxruntime is installed, else ``torch``.

    The default model's int8 vectors agree with torch's at cosine ≥ 0.999 (indexes stay
    interchangeable and the model name does not change; RGB hit@5 and dev-set results are
    unchanged) and embed about 3× faster than plain torch encode on 2 cores, with a third of the
    memory. Other models keep torch unless asked, since their quantisation error has not been
    measured (docs/benchmarks.md)."""
    if name == DEFAULT_MODEL and device == "cpu" and importlib.util.find_spec("onnxruntime"):
        return "onnx-int8"
    return "torch"


class TorchBackend:
    """A sentence-transformers model run by torch."""

    def __init__(self, path: str, options: BackendOptions) -> None:
        self.model = _load_sentence_transformer(path, options.device, options.local_files_only)
        if options.max_seq_length is not None:
            self.model.max_seq_length = options.max_seq_length
        # renamed in sentence-transformers 6; the project still allows 5.x
        get_dim = getattr(self.model, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else self.model.get_sentence_embedding_dimension()
        if dim is None:  # unusual module stacks do not report it; measure instead
            dim = int(self.model.encode(["x"], convert_to_numpy=True).shape[1])
        self.dim = int(dim)
        self.prompts: dict[str, str] = dict(getattr(self.model, "prompts", None) or {})
        self.tokenizer = self.model.tokenizer  # the Hugging Face tokenizer, as the ONNX backends expose theirs

    def encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress: bool) -> np.ndarray:
        return self.model.encode(
            list(texts),
            prompt=prefix,  # explicit, so the model's default_prompt_name never sneaks in
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )


def _load_sentence_transformer(path: str, device: str, local_files_only: bool) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        with quiet_model_loading():
            return SentenceTransformer(path, device=device, local_files_only=local_files_only)
    except OSError as exc:
        if not local_files_only or Path(path).exists():
            raise
        # the usual cause on an offline box: a hub name that was never downloaded
        raise OSError(
            f"embedding model {path!r} is neither a local folder nor in the Hugging Face cache; "
            "download it on a connected machine first, pass local_files_only=False, "
            f"or use the built-in {DEFAULT_MODEL!r}"
        ) from exc


def _onnx(kind: str) -> BackendFactory:
    def load(path: str, options: BackendOptions) -> SentenceBackend:
        from retrieval.embed.onnx import OnnxSentenceEncoder

        if not Path(path).is_dir():
            raise ValueError(f"the {kind} backend needs a local model folder, not {path!r}")
        return OnnxSentenceEncoder(Path(path), kind, options.max_seq_length, options.threads)  # type: ignore[arg-type]

    return load


register_backend("torch", TorchBackend, batch_size=32)
# On CPU ONNX Runtime ran 1.3x faster with batches of 8 than of 32.
register_backend("onnx", _onnx("onnx"), batch_size=8)
register_backend("onnx-int8", _onnx("onnx-int8"), batch_size=8)
