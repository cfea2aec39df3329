"""Embedding speed and agreement of the backends and settings, side by side in one run.

    python -m benchmarks.embedspeed [--shared ../shared] [--n 192] [--rounds 3] [--out docs/benchmarks.md]

Texts are real chunks of the first xwlb items (what a build embeds). Every variant embeds the
same block of texts in turn, round after round, so a change in machine load hits all alike;
speed is passages/s over all rounds and the ratio is against plain ``SentenceTransformer.encode``
(texts in the order given, batch 32: what the project did before). Agreement is the cosine of
each passage vector with the plain torch one (min and mean).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.scale_report import write_section
from benchmarks.workload import write_slice
from retrieval.chunk import chunk_articles
from retrieval.embed.encoder import Embedder
from retrieval.embed.onnx import OnnxSentenceEncoder, onnx_file
from retrieval.ingest.files import load_corpus

MODEL_CACHE = Path("data/models")
Encode = Callable[[list[str]], np.ndarray]


def sample_chunks(shared: Path, n: int) -> list[str]:
    """``n`` chunk texts spread evenly over the chunks of the first 1,000 items."""
    corpus = Path("data/bench/xwlb-1000/corpus/xwlb-1000.jsonl")
    write_slice(shared / "data/xwlb_articles.jsonl.gz", 1000, corpus)
    texts = [c.index_text for c in chunk_articles(load_corpus(corpus).articles)]
    step = len(texts) / n
    return [texts[int(i * step)] for i in range(n)]


def _dynamic_int8(exclude_ffn_out: bool) -> Encode:
    """A rejected recipe: onnxruntime's ``quantize_dynamic`` (per-channel int8 weights, one
    activation scale per tensor), optionally keeping every FFN output projection float32."""
    import onnx
    from onnxruntime import InferenceSession
    from onnxruntime.quantization import QuantType, quantize_dynamic

    emb = Embedder(cache_dir=MODEL_CACHE, backend="onnx-int8")
    fp32 = onnx_file(Path(emb.path), "onnx")
    out = Path("data/bench/embedspeed") / f"dynamic-int8{'-ffn-fp32' if exclude_ffn_out else ''}.onnx"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        nodes = [n.name for n in onnx.load(str(fp32), load_external_data=False).graph.node]
        keep = [n for n in nodes if exclude_ffn_out and n.endswith("/output/dense/MatMul") and "attention" not in n]
        quantize_dynamic(fp32, out, per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=keep,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    assert isinstance(emb.model, OnnxSentenceEncoder)
    emb.model.session = InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return emb.encode_passages


def variants() -> dict[str, Encode]:
    """name → encode(passages). Loaded up front, so loading is never timed."""
    torch_emb = Embedder(cache_dir=MODEL_CACHE, backend="torch")
    st = torch_emb.model.model  # the SentenceTransformer behind the torch backend

    def plain(texts: list[str]) -> np.ndarray:
        return st.encode(["passage: " + t for t in texts], batch_size=32, normalize_embeddings=True,
                         convert_to_numpy=True)

    def onnx_int8(**kw: int) -> Encode:
        return Embedder(cache_dir=MODEL_CACHE, backend="onnx-int8", **kw).encode_passages  # type: ignore[arg-type]

    return {
        "torch, plain encode (baseline)": plain,
        "torch, length-bucketed (Embedder)": torch_emb.encode_passages,
        "onnx (fp32, fused; batch 8)": Embedder(cache_dir=MODEL_CACHE, backend="onnx").encode_passages,
        "onnx-int8 (default: block-wise MatMulNBits, batch 8)": onnx_int8(),
        "onnx-int8 batch 32": onnx_int8(batch_size=32),
        "rejected: dynamic int8 (quantize_dynamic, per-channel)": _dynamic_int8(False),
        "rejected: dynamic int8, FFN output projections fp32": _dynamic_int8(True),
        "onnx-int8 batch 2": onnx_int8(batch_size=2),
        "onnx-int8 batch 16": onnx_int8(batch_size=16),
        "onnx-int8 1 thread": onnx_int8(threads=1),
        "onnx-int8 max_seq_length 256": onnx_int8(max_seq_length=256),
    }


def measure(texts: list[str], rounds: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    encoders = variants()
    seconds = dict.fromkeys(encoders, 0.0)
    vectors: dict[str, list[np.ndarray]] = {k: [] for k in encoders}
    block = len(texts) // rounds
    for r in range(rounds):
        part = texts[r * block : (r + 1) * block]
        for name, encode in encoders.items():
            t = time.perf_counter()
            vectors[name].append(encode(part))
            seconds[name] += time.perf_counter() - t
            print(f"round {r + 1}/{rounds} {name}: {len(part) / (time.perf_counter() - t):.1f}/s", flush=True)
    return seconds, {k: np.concatenate(v) for k, v in vectors.items()}


def render(seconds: dict[str, float], vectors: dict[str, np.ndarray], rounds: int, load: tuple[float, float]) -> str:
    names = list(seconds)
    base_name = names[0]
    n = len(vectors[base_name])
    rows = ["| variant | passages/s | vs plain encode | cosine to torch: min / mean |", "|---|---|---|---|"]
    for name in names:
        cos = (vectors[name] * vectors[base_name]).sum(axis=1)
        rows.append(f"| {name} | {n / seconds[name]:.1f} | {seconds[base_name] / seconds[name]:.2f}× | "
                    f"{cos.min():.4f} / {cos.mean():.4f} |")
    return (f"{n} xwlb chunks in {rounds} interleaved rounds; load average {load[0]:.1f} → {load[1]:.1f} "
            f"on {os.cpu_count()} cores.\n\n" + "\n".join(rows) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--n", type=int, default=192)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    a = ap.parse_args()
    texts = sample_chunks(a.shared, a.n)
    load0 = os.getloadavg()[0]
    seconds, vectors = measure(texts, a.rounds)
    body = render(seconds, vectors, a.rounds, (load0, os.getloadavg()[0]))
    print(body)
    write_section(a.out, body, "embed")


if __name__ == "__main__":
    main()
