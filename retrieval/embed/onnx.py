"""ONNX Runtime backends (``onnx``, ``onnx-int8``): export a sentence-transformers folder once,
then embed without torch.

A sentence-transformers folder made of Transformer → mean Pooling (→ Normalize) is
exported with ``torch.onnx`` (pooling and normalisation inside the graph) and its BERT
blocks fused by ONNX Runtime's transformer optimizer (Attention, SkipLayerNorm, BiasGelu).
For ``onnx-int8`` the MatMuls outside attention become ``MatMulNBits``: int8 weights with
one scale per block of 128, multiplied in int8 against activations quantised per block too
(``accuracy_level=4``), and the embedding table is stored as uint8. Blocks keep activation
outliers local, so vectors stay at cosine ≥ 0.999 to torch, where ordinary dynamic int8 (one
activation scale per tensor per batch) fell to 0.988 and moved RGB rankings. The files are cached in ``<model folder>/onnx/``, written to a
temporary folder and renamed into place under a lock, so they are built once and never seen
half-written. Exporting needs torch, ``onnx`` and ``onnx-ir``; embedding needs only
``onnxruntime`` and ``tokenizers``. Measurements: docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval.embed.quiet import quiet_model_loading
from retrieval.fs import locked, remove_stale, staging_dir

OnnxBackend = Literal["onnx", "onnx-int8"]
ONNX_BACKENDS: tuple[OnnxBackend, ...] = ("onnx", "onnx-int8")
# Bump when the exported graphs change, so old cached files are not reused (and are removed).
EXPORT_VERSION = 3
ONNX_DIR = "onnx"
INT8_BLOCK = 128  # weights (and activations) per int8 scale

log = logging.getLogger(__name__)


class UnsupportedModelError(ValueError):
    """The folder is not a plain Transformer → mean Pooling (→ Normalize) stack."""


def onnx_file(model_dir: Path, backend: OnnxBackend) -> Path:
    """Where ``backend``'s graph for ``model_dir`` is cached."""
    kind = "fp32" if backend == "onnx" else f"int8-b{INT8_BLOCK}"
    return Path(model_dir) / ONNX_DIR / f"model-{kind}-v{EXPORT_VERSION}.onnx"


def read_stack(model_dir: Path) -> dict:
    """The folder's prompts and max_seq_length; raises UnsupportedModelError unless the
    modules are Transformer → mean Pooling (with the prompt) (→ Normalize)."""
    model_dir = Path(model_dir)
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModelError(f"{model_dir}: no readable modules.json") from exc
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModelError(f"{model_dir}: modules {kinds} are not Transformer/Pooling/Normalize")
    pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"} or not pooling.get("include_prompt", True):
        raise UnsupportedModelError(f"{model_dir}: pooling {sorted(modes)} is not plain mean pooling")
    st_config, bert_config = model_dir / "config_sentence_transformers.json", model_dir / "sentence_bert_config.json"
    prompts = json.loads(st_config.read_text(encoding="utf-8")).get("prompts", {}) if st_config.is_file() else {}
    max_len = json.loads(bert_config.read_text(encoding="utf-8")).get("max_seq_length") if bert_config.is_file() else None
    return {"prompts": prompts or {}, "max_seq_length": max_len}


def export(model_dir: Path, backend: OnnxBackend) -> Path:
    """Build ``onnx_file(model_dir, backend)`` if missing (offline, ~30–90 s); return its path.
    The int8 graph is made from the fp32 one, which is exported (and kept) first."""
    target = onnx_file(model_dir, backend)
    if target.is_file():
        return target
    read_stack(model_dir)  # fail before the slow part
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.parent / f".{target.name}.lock"):
        if target.is_file():
            return target
        prefix = f".export-{target.stem}-"
        remove_stale(target.parent, prefix + "*")  # a builder of this file died holding the lock
        with staging_dir(target.parent, prefix) as tmp:
            started = time.perf_counter()
            log.info("exporting the embedding model to ONNX (%s), once; this takes about a minute", backend)
            if backend == "onnx-int8":
                fp32 = export(model_dir, "onnx")
                with quiet_exporters():
                    quantize_int8(fp32, tmp / target.name)
            else:
                with quiet_exporters():
                    _fused_fp32(Path(model_dir), tmp).rename(tmp / target.name)
            marker = {"backend": backend, "export_version": EXPORT_VERSION,
                      "seconds": round(time.perf_counter() - started, 1)}
            (tmp / target.name).with_suffix(".json").write_text(json.dumps(marker) + "\n", encoding="utf-8")
            (tmp / target.name).with_suffix(".json").replace(target.with_suffix(".json"))
            (tmp / target.name).replace(target)
            for old in [*target.parent.glob("model-*"), *target.parent.glob(".model-*.lock")]:
                if f"-v{EXPORT_VERSION}." not in old.name:  # files of earlier export versions
                    old.unlink(missing_ok=True)
    return target


@contextlib.contextmanager
def quiet_exporters() -> Iterator[None]:
    """Keep the exporters' chatter out of the user's terminal and logs: torch's tracer warnings
    and onnxruntime's per-node INFO lines (hundreds), and undo the ``logging.basicConfig`` its
    quantisation modules run at import, which would otherwise switch on INFO/DEBUG output of
    every library for the rest of the process."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    disabled = logging.root.manager.disable
    logging.disable(logging.WARNING)  # WARNING and below: the quantizer's advice goes through root
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(disabled)
        root.handlers[:] = handlers
        root.setLevel(level)


def _fused_fp32(model_dir: Path, work: Path) -> Path:
    """torch → ONNX (eager attention, so the optimizer recognises it) → fused BERT graph.
    The graph ends in mean pooling and L2 normalisation: one unit vector per text."""
    import torch
    from sentence_transformers import SentenceTransformer

    with quiet_model_loading():
        st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True,
                                 model_kwargs={"attn_implementation": "eager"})
    transformer = st[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)  # Embedder always normalises

    raw = work / "raw.onnx"
    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            Pooled().eval(), (dummy, dummy), str(raw), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "embedding": {0: "batch"}},
        )
    config = transformer.config
    return fuse_bert_graph(raw, work / "fused.onnx", config.num_attention_heads, config.hidden_size)


def fuse_bert_graph(raw: Path, out: Path, num_heads: int, hidden_size: int) -> Path:
    """ONNX Runtime's transformer optimizer over an exported BERT graph (Attention,
    SkipLayerNorm, BiasGelu, EmbedLayerNormalization); ``raw`` is removed."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=num_heads,
                                     hidden_size=hidden_size, opt_level=0)
    fused.save_model_to_file(str(out))
    raw.unlink()
    return out


def quantize_int8(fp32: Path, out: Path) -> None:
    """Block-wise int8 (``MatMulNBits``, 8 bits, symmetric) for every plain MatMul, then the
    word-embedding table to uint8 (``QEmbedLayerNormalization``): 250k × 384 floats are most
    of the file, and as uint8 they cut serving memory by ~300 MB for ~1e-4 of cosine."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(onnx.load(str(fp32)), bits=8, block_size=INT8_BLOCK, is_symmetric=True,
                                     accuracy_level=4)  # 4: int8 activations, per block
    quantizer.process()
    blockwise = out.with_name("blockwise.onnx")
    quantizer.model.save_model_to_file(str(blockwise))
    quantize_dynamic(blockwise, out, op_types_to_quantize=["EmbedLayerNormalization"], weight_type=QuantType.QUInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    blockwise.unlink()


class OnnxSentenceEncoder:
    """Embeds already-prefixed texts with an exported graph; thread-safe."""

    def __init__(self, model_dir: Path, backend: OnnxBackend, max_seq_length: int | None,
                 threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        stack = read_stack(model_dir)
        self.prompts: dict[str, str] = stack["prompts"]
        self.path = export(Path(model_dir), backend)
        limit = max_seq_length or stack["max_seq_length"] or 512
        self.tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self.tokenizer.enable_truncation(limit)
        pad_id = self.tokenizer.token_to_id("<pad>")
        pad_id = pad_id if pad_id is not None else self.tokenizer.token_to_id("[PAD]") or 0
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=self.tokenizer.id_to_token(pad_id))
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Idle pool threads sleep instead of spinning: on a busy 2-core machine spinning halved
        # single-query speed (7.3 → 3.5 ms p50) for ~10% more batch throughput.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.dim = int(self.encode(["x"], "", 1).shape[1])

    def encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress: bool = False) -> np.ndarray:
        """(n,) texts → (n, dim) float32 unit vectors, in order, ``prefix`` put before each;
        batches as given (sort by length beforehand). ``progress`` is accepted and ignored."""
        out: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch([prefix + t for t in texts[start : start + batch_size]])
            feed = {
                "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            }
            out.append(self.session.run(None, feed)[0].astype(np.float32, copy=False))
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
