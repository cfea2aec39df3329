"""``python -m tests.read.toy_train RUN_DIR``: train the tiny reader on a handful of examples
with a checkpoint after every step (for the SIGKILL resume test). Prints ``TOTAL <steps>``,
``START <step>`` (the step it starts from) and ``DONE <step>``."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from retrieval.read.torch_model import load_base
from retrieval.read.windows import WindowMaker
from tests.read.tiny import write_tiny_base
from training.reader.data import Example
from training.reader.features import make_features
from training.reader.train import CHECKPOINT, TrainConfig, steps_per_epoch, train

EXAMPLES = [
    Example("a", "GDP多少", "永康上半年全市GDP为276亿元，同比增长8.5%。", (("276亿元", 13),), "x"),
    Example("b", "和谁签约了", "星月集团和古山镇签约了。", (("古山镇", 5),), "y"),
    Example("c", "去过哪个镇", "朱志杰去过古山镇。", (("古山镇", 5),), "z"),
    Example("d", "GDP多少", "星月集团和古山镇签约了。", (), "y"),
]


def main(run_dir: Path) -> None:
    torch.set_num_threads(1)
    base = write_tiny_base(run_dir / "base") if not (run_dir / "base" / "config.json").is_file() else run_dir / "base"
    features = make_features(WindowMaker.from_folder(base), EXAMPLES * 4)
    ckpt = run_dir / CHECKPOINT
    config = TrainConfig(epochs=60, batch_size=4, lr=1e-3, checkpoint_minutes=0, negative_keep=1.0)
    print("TOTAL", steps_per_epoch(features, config) * 60, flush=True)
    print("START", torch.load(ckpt, weights_only=False)["step"] if ckpt.is_file() else 0, flush=True)
    train(load_base(base), features, config, run_dir, progress=False)
    print("DONE", torch.load(ckpt, weights_only=False)["step"], flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
