"""``python -m tests.embed.backend_runs OUT.npz MODEL_CACHE BACKEND``: load one embedding backend
of the default model and record everything tests/embed/test_backends.py compares.

Run in a child process, one backend per process, so the test process never holds torch or a
second ONNX graph: each backend's model, runtime arena and (for torch) the library itself take
0.6-1.2 GB that a Python process does not give back once freed. The child may not touch the
network, and may not export: the graphs must already be cached (conftest ``default_model_dir``),
so loading here also shows that a cached graph is loaded as it is.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import numpy as np

from retrieval.chunk import chunk_articles
from retrieval.embed import onnx as onnx_module
from retrieval.embed.encoder import Embedder
from retrieval.ingest.files import load_corpus
from tests.paths import CORPUS_DIR

QUERIES = ["朱志杰去过哪些镇", "古山镇1-7月规上工业总产值增长了多少？", "“三服务”活动", "小微企业园建设", "永康"]
PAD_ROWS = (0, 5, 12)


def seed_chunks() -> list[str]:
    """Every chunk of the seed pages, as the build embeds them (headline + text)."""
    return [c.index_text for c in chunk_articles(load_corpus(CORPUS_DIR).articles)]


def long_text(chunks: list[str]) -> str:
    return "passage: " + "".join(chunks)  # far past 512 tokens


def token_texts(chunks: list[str]) -> list[str]:
    """Inputs whose token ids must agree across backends (prefixes included, one too long)."""
    return ["passage: " + c for c in chunks[:10]] + ["query: " + q for q in QUERIES] + [long_text(chunks)]


def token_ids(embedder: Embedder, texts: list[str]) -> list[list[int]]:
    """The ids the backend's own tokenizer feeds its model, truncated at 512 like the model."""
    tokenizer = embedder.model.tokenizer  # type: ignore[attr-defined]
    if embedder.backend == "torch":  # Hugging Face tokenizer of sentence-transformers
        return [list(tokenizer(t, truncation=True, max_length=512)["input_ids"]) for t in texts]
    return [list(tokenizer.encode(t).ids) for t in texts]  # tokenizers.Tokenizer of the ONNX backends


def record(embedder: Embedder, chunks: list[str]) -> dict[str, np.ndarray]:
    texts = [*chunks[:12], "短"]  # lengths differ, so most rows are padded
    return {
        "passages": embedder.encode_passages(chunks),
        "queries": embedder.encode_queries(QUERIES),
        "cut": embedder.encode_passages([long_text(chunks).removeprefix("passage: ")[:600]])[0],  # ~512 tokens
        "batch": embedder.encode_passages(texts)[list(PAD_ROWS)],
        "alone": np.concatenate([embedder.encode_passages([texts[i]]) for i in PAD_ROWS]),
        "meta": np.array(json.dumps({"name": embedder.name, "key": embedder.key, "dim": embedder.dim,
                                     "backend": embedder.backend, "path": str(embedder.path),
                                     "tokens": token_ids(embedder, token_texts(chunks))})),
    }


def _local_only(sock: socket.socket, address: object, _connect=socket.socket.connect) -> None:  # type: ignore[no-untyped-def]
    if sock.family != socket.AF_UNIX:
        raise AssertionError(f"network access attempted: {address!r}")
    _connect(sock, address)


def _no_export(*args: object) -> None:
    raise AssertionError("a cached graph must load, not export again")


def main(argv: list[str]) -> None:
    out, cache, backend = Path(argv[0]), Path(argv[1]), argv[2]
    socket.socket.connect = _local_only  # type: ignore[method-assign]
    onnx_module._fused_fp32 = _no_export  # type: ignore[assignment]
    onnx_module.quantize_int8 = _no_export  # type: ignore[assignment]
    embedder = Embedder(cache_dir=cache, backend=backend)
    np.savez(out, **record(embedder, seed_chunks()))


if __name__ == "__main__":
    main(sys.argv[1:])
