"""The training loop: resumable, checkpointed, bf16 autocast where the CPU has it.

State lives in one run folder: ``config.json`` (the run's settings; a resume must match),
``features.npz`` (the labelled windows, made once), ``checkpoint.pt`` (trained weights,
optimiser, scheduler, step; replaced atomically every ``checkpoint_minutes``) and, at the end,
``reader.safetensors`` (packed weights). Killing the process at any point loses at most the
steps since the last checkpoint; running the same command again resumes.

Each epoch keeps every answer window and a seeded random ``negative_keep`` share of the
no-answer windows, so "no answer" is learned without paying for every empty window.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from retrieval.read.torch_model import ReaderModel, cpu_has_bf16
from training.reader.features import Features

log = logging.getLogger(__name__)
CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    epochs: float = 2.0
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.06  # share of all steps
    negative_keep: float = 0.6  # share of no-answer windows seen each epoch
    hidden_dropout: float = 0.1
    seed: int = 42
    checkpoint_minutes: float = 8.0
    max_tokens: int = 256
    stride: int = 96


def epoch_order(features: Features, config: TrainConfig, epoch: int) -> np.ndarray:
    """Window indices for ``epoch``: all answer windows and a share of the rest, shuffled (seeded)."""
    rng = np.random.default_rng(config.seed + epoch)
    keep = (features.start > 0) | (rng.random(len(features)) < config.negative_keep)
    order = np.flatnonzero(keep)
    rng.shuffle(order)
    return order


def steps_per_epoch(features: Features, config: TrainConfig) -> int:
    expected = int((features.start > 0).sum() + config.negative_keep * (features.start == 0).sum())
    return max(1, expected // config.batch_size)


def batch_tensors(features: Features, rows: np.ndarray) -> dict[str, torch.Tensor]:
    width = int(features.lengths[rows].max())
    ids = torch.from_numpy(features.input_ids[rows, :width].astype(np.int64))
    mask = (torch.arange(width)[None, :] < torch.from_numpy(features.lengths[rows].astype(np.int64))[:, None]).long()
    return {"input_ids": ids, "attention_mask": mask,
            "start": torch.from_numpy(features.start[rows].astype(np.int64)),
            "end": torch.from_numpy(features.end[rows].astype(np.int64))}


def make_optimizer(model: ReaderModel, config: TrainConfig, total_steps: int):
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)
    warm = max(1, int(config.warmup * total_steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def save_checkpoint(run_dir: Path, model: ReaderModel, optimizer, scheduler, step: int) -> None:
    tmp = run_dir / (CHECKPOINT + ".tmp")
    torch.save({"model": model.trained_state(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "step": step, "saved": time.time()}, tmp)
    os.replace(tmp, run_dir / CHECKPOINT)  # atomic: a kill leaves the old or the new checkpoint


def train(model: ReaderModel, features: Features, config: TrainConfig, run_dir: Path,
          progress: bool = True, max_steps: int | None = None) -> ReaderModel:
    """Train ``model`` in place on ``features``, resuming from ``run_dir/checkpoint.pt`` if present.
    ``max_steps`` stops early (for tests); the schedule is still the full run's."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model.freeze_word_embeddings()
    per_epoch = steps_per_epoch(features, config)
    total = math.ceil(per_epoch * config.epochs)
    optimizer, scheduler = make_optimizer(model, config, total)
    step = 0
    ckpt_path = run_dir / CHECKPOINT
    if ckpt_path.is_file():
        state = torch.load(ckpt_path, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        log.info("resumed at step %d of %d", step, total)
    autocast = cpu_has_bf16()
    log.info("training: %d windows, %d steps/epoch, %d steps, bf16 autocast %s", len(features), per_epoch, total,
             "on" if autocast else "off")
    model.train()
    last_save = time.monotonic()
    bar = tqdm(total=total, initial=step, disable=not progress, unit="step", dynamic_ncols=True, mininterval=5)
    started, done_here = time.monotonic(), 0
    loss_avg = None
    while step < total and (max_steps is None or done_here < max_steps):
        epoch, within = divmod(step, per_epoch)
        order = epoch_order(features, config, epoch)
        rows = order[within * config.batch_size : (within + 1) * config.batch_size]
        if len(rows) == 0:  # this epoch's sample came out shorter than expected
            step = (epoch + 1) * per_epoch
            continue
        batch = batch_tensors(features, np.sort(rows))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            start_logits, end_logits = model(batch["input_ids"], batch["attention_mask"])
        loss = (torch.nn.functional.cross_entropy(start_logits, batch["start"])
                + torch.nn.functional.cross_entropy(end_logits, batch["end"])) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        done_here += 1
        value = float(loss.detach())
        loss_avg = value if loss_avg is None else 0.98 * loss_avg + 0.02 * value
        rate = done_here * config.batch_size / (time.monotonic() - started)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_avg:.3f}", features_per_s=f"{rate:.1f}", epoch=epoch, refresh=False)
        if time.monotonic() - last_save > config.checkpoint_minutes * 60 or step == total:
            save_checkpoint(run_dir, model, optimizer, scheduler, step)
            last_save = time.monotonic()
            log.info("checkpoint at step %d/%d, loss %.3f, %.1f features/s", step, total, loss_avg, rate)
    bar.close()
    model.eval()
    return model


def write_config(run_dir: Path, config: TrainConfig, extra: dict) -> None:
    """Record the run's settings; refuse to resume a run made with other settings."""
    path = Path(run_dir) / "config.json"
    wanted = {**dataclasses.asdict(config), **extra}
    if path.is_file():
        had = json.loads(path.read_text(encoding="utf-8"))
        # a setting added to the trainer after the run started counts as unchanged
        changed = sorted(k for k in set(had) | set(wanted) if had.get(k, wanted.get(k)) != wanted.get(k, had.get(k)))
        if changed:
            raise SystemExit(f"{run_dir} was started with other settings ({', '.join(changed)}); "
                             "use a new --run-dir")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
