"""Build the reader's serving graph once: packed weights + the base encoder → fused ONNX →
block-wise int8, cached in ``<model cache>/reader-<weights hash>-v<version>/``.

The export peaks at several GB (torch, the tracer and the 250k-row embedding table at once), so
a serving process never runs it itself: :func:`ensure_exported` starts
``python -m retrieval.read.export`` as a child process and waits. Files are written to a staging
folder and renamed into place under a lock, so a half-written graph is never seen.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from retrieval.fs import locked, remove_stale, staging_dir

# onnx-int8: dynamic int8 (MatMulInteger/QAttention, weights per output channel, activations per
# tensor): 2.3x faster than fp32 here. onnx-int8-block: the embedder's block-wise MatMulNBits,
# which measured no faster than fp32 for the reader's 256-token windows.
ReaderBackend = Literal["onnx", "onnx-int8", "onnx-int8-block"]
GRAPH_NAMES = {"onnx": "reader-fp32.onnx", "onnx-int8": "reader-int8.onnx", "onnx-int8-block": "reader-int8-block.onnx"}
EXPORT_VERSION = 1  # bump when the exported graph changes
TOKENIZER = "tokenizer.json"


def weights_id(weights: Path) -> str:
    """First 16 hex digits of the weights file's SHA-256."""
    return hashlib.sha256(Path(weights).read_bytes()).hexdigest()[:16]


def reader_folder(cache_dir: Path, weights: Path) -> Path:
    return Path(cache_dir) / f"reader-{weights_id(weights)}-v{EXPORT_VERSION}"


def graph_file(folder: Path, backend: ReaderBackend) -> Path:
    return Path(folder) / GRAPH_NAMES[backend]


def export(base_dir: Path, weights: Path, folder: Path, backend: ReaderBackend = "onnx-int8") -> Path:
    """Build ``graph_file(folder, backend)`` (and the fp32 graph it is made from) if missing."""
    from retrieval.embed.onnx import quiet_exporters

    target = graph_file(folder, backend)
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with locked(folder / f".{target.name}.lock"):
        if target.is_file():
            return target
        prefix = f".export-{target.stem}-"
        remove_stale(folder, prefix + "*")
        with staging_dir(folder, prefix) as tmp:
            started = time.perf_counter()
            with quiet_exporters():
                if backend == "onnx-int8-block":
                    from retrieval.embed.onnx import quantize_int8

                    quantize_int8(export(base_dir, weights, folder, "onnx"), tmp / target.name)
                elif backend == "onnx-int8":
                    _quantize_dynamic(export(base_dir, weights, folder, "onnx"), tmp / target.name)
                else:
                    _fused_fp32(Path(base_dir), Path(weights), tmp).rename(tmp / target.name)
            if not (folder / TOKENIZER).is_file():
                shutil.copyfile(Path(base_dir) / TOKENIZER, tmp / TOKENIZER)
                (tmp / TOKENIZER).replace(folder / TOKENIZER)
            marker = {"backend": backend, "export_version": EXPORT_VERSION, "weights": weights_id(weights),
                      "seconds": round(time.perf_counter() - started, 1)}
            (tmp / target.name).with_suffix(".json").write_text(json.dumps(marker) + "\n", encoding="utf-8")
            (tmp / target.name).with_suffix(".json").replace(target.with_suffix(".json"))
            (tmp / target.name).replace(target)
    return target


def _quantize_dynamic(fp32: Path, out: Path) -> None:
    """Weights int8 per output channel, activations quantised per tensor at run time
    (VNNI/AMX integer kernels); the word-embedding table as uint8 too."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, out, weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _fused_fp32(base_dir: Path, weights: Path, work: Path) -> Path:
    """torch → ONNX (eager attention, so the optimizer fuses it) → fused BERT graph with two
    outputs, ``start_logits`` and ``end_logits`` ``(batch, tokens)``."""
    import torch

    from retrieval.embed.onnx import fuse_bert_graph
    from retrieval.read.torch_model import load_reader

    model = load_reader(base_dir, weights, attn_implementation="eager")
    raw = work / "raw.onnx"
    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(model, (dummy, dummy), str(raw), input_names=["input_ids", "attention_mask"],
                          output_names=["start_logits", "end_logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "start_logits": axes,
                                        "end_logits": axes})
    config = model.encoder.config
    return fuse_bert_graph(raw, work / "fused.onnx", config.num_attention_heads, config.hidden_size)


def ensure_exported(base_dir: Path, weights: Path, cache_dir: Path, backend: ReaderBackend = "onnx-int8",
                    timeout: float = 1800) -> Path:
    """The cached graph for ``weights``; exported in a child process first if missing
    (~1–2 min and several GB once; the caller's memory is untouched)."""
    folder = reader_folder(cache_dir, weights)
    target = graph_file(folder, backend)
    if target.is_file():
        return target
    proc = subprocess.run([sys.executable, "-m", "retrieval.read.export", str(base_dir), str(weights),
                           str(folder), backend], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not target.is_file():
        raise RuntimeError(f"exporting the reader failed:\n{proc.stderr[-3000:]}")
    return target


if __name__ == "__main__":
    base, weights_file, out, kind = sys.argv[1:5]
    export(Path(base), Path(weights_file), Path(out), kind)  # type: ignore[arg-type]
