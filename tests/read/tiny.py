"""A tiny random reader for unit tests: a character-level tokenizer (every character one piece,
so offsets are exact) and a 2-layer BERT of width 32. Its answers are random but well-formed,
which is all the pre- and post-processing tests need."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Regex, Tokenizer, models, pre_tokenizers

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
ALPHABET = "永康上半年全市GDP为亿元同比增长星月集团和谁签约了古山镇胡公文化园在哪个朱志杰去过些问题？。，的是有0123456789abcdefghijklmnopqrstuvwxyz "


def char_tokenizer() -> Tokenizer:
    vocab = {tok: i for i, tok in enumerate(SPECIALS + sorted(set(ALPHABET)))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    return tok


def write_tiny_base(folder: Path, seed: int = 0) -> Path:
    """A BERT-layout model folder (config, random weights, tokenizer.json), as the converted
    e5-small is, but tiny."""
    import torch
    from transformers import BertConfig, BertModel

    folder.mkdir(parents=True, exist_ok=True)
    tok = char_tokenizer()
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=1)
    BertModel(config, add_pooling_layer=False).save_pretrained(str(folder))
    (folder / "tiny.json").write_text(json.dumps({"seed": seed}), encoding="utf-8")
    return folder
