"""``python -m training.reader``: prepare the data, train (resuming if the run folder has a
checkpoint), pack the weights and evaluate. See docs/reader.md for the recorded runs.

    nohup python -m training.reader --run-dir ~/.cache/newsqa/runs/reader-v1 > train.log 2>&1 &
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import random
import time
from pathlib import Path

from training.reader.data import Example
from training.reader.train import TrainConfig

DEFAULT_MRC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mrc"


def cpu_name() -> str:
    from benchmarks.machine import cpu_info

    return str(cpu_info()["cpu"])


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.reader", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True, help="run folder (checkpoints, features, weights)")
    p.add_argument("--mrc-dir", type=Path, default=DEFAULT_MRC, help="folder with the CMRC/DRCD json files")
    p.add_argument("--extra", type=Path, action="append", default=[],
                   help="more training examples (jsonl from training.reader.data.write_jsonl_examples)")
    p.add_argument("--extra-repeat", type=int, default=1, help="how many times each --extra example is seen per epoch")
    p.add_argument("--repeat", action="append", default=[], metavar="SOURCE=N",
                   help="see SOURCE's questions N times per epoch (e.g. cmrc2018_trial=3: the in-domain style)")
    p.add_argument("--mrc-share", type=float, default=1.0, help="share of the CMRC/DRCD training questions used")
    p.add_argument("--init", type=Path, help="start from these packed reader weights instead of the head-less base")
    p.add_argument("--negatives", type=float, default=0.5, help="share of questions given a hard-negative passage")
    p.add_argument("--cut-negatives", type=float, default=0.0,
                   help="share of questions also asked of their own passage with the answer's sentence cut out")
    p.add_argument("--cut-fill", action="store_true",
                   help="fill each cut with other articles' sentences, so a cut negative keeps its length")
    p.add_argument("--crop-positives", type=float, default=0.0,
                   help="share of answerable questions (MRC and --extra) also asked of a short cut of their "
                        "passage: the answer's sentence and up to one neighbour either side")
    p.add_argument("--validation", type=int, default=300, help="questions held out (whole articles) for validation")
    p.add_argument("--eval-only", action="store_true", help="skip training; evaluate run-dir/reader.safetensors")
    p.add_argument("--eval-limit", type=int, help="evaluate on the first N CMRC dev questions only")
    p.add_argument("--max-steps", type=int, help="stop after N steps in this process (tests)")
    p.add_argument("--threads", type=int, default=2)
    for field in dataclasses.fields(TrainConfig):
        p.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=field.default)
    return p.parse_args()


def parse_repeats(values: list[str]) -> dict[str, int]:
    """``["cmrc2018_trial=3"]`` → ``{"cmrc2018_trial": 3}``; a malformed value is an argparse-style error."""
    out = {}
    for value in values:
        source, _, times = value.partition("=")
        if not source or not times.isdigit() or int(times) < 1:
            raise SystemExit(f"--repeat wants SOURCE=N with N ≥ 1, got {value!r}")
        out[source] = int(times)
    return out


def repeated(examples: list[Example], repeats: dict[str, int]) -> list[Example]:
    """Each example ``repeats[example.source]`` times (once when its source is not named).
    Hard negatives are drawn before this, so a repeated question keeps one negative."""
    return [ex for ex in examples for _ in range(repeats.get(ex.source, 1))]


def main() -> None:
    import torch

    from retrieval.embed.default_model import DEFAULT_MODEL, default_cache_dir, resolve_model_path
    from retrieval.read.torch_model import load_base, load_reader, save_packed
    from retrieval.read.windows import WindowMaker
    from training.reader import data
    from training.reader.features import Features, make_features
    from training.reader.report import evaluate_all
    from training.reader.train import train, write_config

    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("training.reader")
    torch.set_num_threads(args.threads)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
    run_dir: Path = args.run_dir.expanduser()
    base = Path(resolve_model_path(DEFAULT_MODEL, default_cache_dir()))
    maker = WindowMaker.from_folder(base, max_tokens=config.max_tokens, stride=config.stride)

    mrc_train, validation = data.split_by_article(data.training_examples(args.mrc_dir), args.validation)
    if args.mrc_share < 1.0:  # a replay sample, when fine-tuning further on --extra examples
        rng = random.Random(config.seed)
        mrc_train = [ex for ex in mrc_train if rng.random() < args.mrc_share]
    repeats = parse_repeats(args.repeat)
    extra = [ex for path in args.extra for ex in data.read_jsonl_examples(path)] * args.extra_repeat
    weights = run_dir / "reader.safetensors"
    if not args.eval_only:
        write_config(run_dir, config, {"negatives": args.negatives, "cut_negatives": args.cut_negatives,
                                       "cut_fill": args.cut_fill, "crop_positives": args.crop_positives,
                                       "validation": args.validation,
                                       "extra": [str(p) for p in args.extra], "init": str(args.init or ""),
                                       "mrc_share": args.mrc_share, "extra_repeat": args.extra_repeat,
                                       "repeat": repeats})
        feature_file = run_dir / "features.npz"
        if feature_file.is_file():
            features = Features.load(str(feature_file))
        else:
            negatives = data.hard_negatives(mrc_train, args.negatives) if args.negatives > 0 else []
            negatives += (data.cut_negatives(mrc_train, args.cut_negatives, fill=args.cut_fill)
                          if args.cut_negatives > 0 else [])
            crops = data.crop_positives(mrc_train + extra, args.crop_positives) if args.crop_positives > 0 else []
            train_examples = repeated(mrc_train, repeats) + extra + crops
            features = make_features(maker, train_examples + negatives)
            features.save(str(run_dir / "features.tmp.npz"))
            (run_dir / "features.tmp.npz").replace(feature_file)
            log.info("%d questions, %d hard negatives, %d windows", len(train_examples), len(negatives), len(features))
        model = (load_reader(base, args.init, hidden_dropout=config.hidden_dropout) if args.init
                 else load_base(base, hidden_dropout=config.hidden_dropout))
        started = time.time()
        model = train(model, features, config, run_dir, max_steps=args.max_steps)
        from training.reader.train import steps_per_epoch

        if args.max_steps is not None and torch.load(run_dir / "checkpoint.pt", weights_only=False)["step"] < int(
                steps_per_epoch(features, config) * config.epochs):
            log.info("stopped after --max-steps; run again to resume")
            return
        save_packed(model, weights, metadata={"cpu": cpu_name(), "config": json.dumps(dataclasses.asdict(config)),
                                              "licence": "CC BY-SA 4.0 (trained on CC BY-SA 4.0 / 3.0 data)"})
        log.info("weights written to %s (this process trained %.0f s)", weights, time.time() - started)
    report = evaluate_all(base, weights, maker, validation, args.mrc_dir, args.eval_limit)
    report["cpu"] = cpu_name()
    (run_dir / "eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("evaluation: %s", json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
