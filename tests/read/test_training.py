"""The trainer survives SIGKILL: a killed run resumes from its last checkpoint and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from training.reader.train import CHECKPOINT

REPO = Path(__file__).resolve().parents[2]


def start(run_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.read.toy_train", str(run_dir)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def checkpoint_step(run_dir: Path) -> int:
    try:
        return int(torch.load(run_dir / CHECKPOINT, weights_only=False)["step"])
    except (FileNotFoundError, EOFError, RuntimeError):
        return 0


@pytest.mark.slow  # two training processes (~30 s)
def test_a_killed_run_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    first = start(tmp_path)
    deadline = time.monotonic() + 120
    while checkpoint_step(tmp_path) < 5 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    killed_at = checkpoint_step(tmp_path)
    assert killed_at >= 5, first.stderr.read() if first.stderr else ""
    second = start(tmp_path)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err[-2000:]
    lines = dict(line.split() for line in out.splitlines() if line.split()[0] in ("TOTAL", "START", "DONE"))
    assert int(lines["START"]) >= killed_at > 0  # resumed, not restarted
    assert int(lines["DONE"]) == int(lines["TOTAL"]) == checkpoint_step(tmp_path)


def test_repeat_sees_a_named_source_n_times_and_rejects_bad_values() -> None:
    from training.reader.__main__ import parse_repeats, repeated
    from training.reader.data import Example

    trial = Example("1", "问", "文", (("文", 0),), "a", source="cmrc2018_trial")
    drcd = Example("2", "问", "文", (("文", 0),), "b", source="DRCD_dev")
    repeats = parse_repeats(["cmrc2018_trial=3"])
    assert repeats == {"cmrc2018_trial": 3}
    assert repeated([trial, drcd], repeats) == [trial, trial, trial, drcd]
    for bad in ("cmrc2018_trial", "=2", "x=0", "x=two"):
        with pytest.raises(SystemExit):
            parse_repeats([bad])
