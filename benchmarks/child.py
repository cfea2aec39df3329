"""Run one benchmark phase in a fresh Python process and measure it from outside.

The child writes JSON objects to stdout, one a line (events such as ``{"event": "ready"}``
and a final result); the parent stamps each with the seconds since spawn, and reads the
child's own peak RSS from ``os.wait4`` (so figures never include the parent's memory).
stderr goes to a log file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ChildRun:
    """What one child process did. ``events`` carry ``at`` (seconds since spawn)."""

    events: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mib: float = 0.0
    returncode: int = 0

    @property
    def result(self) -> dict:
        """The last event (the child's final summary)."""
        return self.events[-1] if self.events else {}

    def event(self, name: str) -> dict:
        return next((e for e in self.events if e.get("event") == name), {})


def run_child(module: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> ChildRun:
    """``python -m module *args`` in a new process; raise RuntimeError if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    run = ChildRun()
    started = time.perf_counter()
    with log.open("a", encoding="utf-8") as err:
        err.write(f"\n=== {time.strftime('%F %T')} python -m {module} {' '.join(args)}\n")
        err.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=err,
            text=True, env={**os.environ, **(env or {})},
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                event = json.loads(line)
                event["at"] = round(time.perf_counter() - started, 3)
                run.events.append(event)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
    run.seconds = time.perf_counter() - started
    run.peak_rss_mib = usage.ru_maxrss / 1024  # Linux reports KiB
    if run.returncode != 0:
        raise RuntimeError(f"python -m {module} failed with exit code {run.returncode}; see {log}")
    return run


def emit(**event: object) -> None:
    """Child side: one JSON line on stdout, flushed at once so the parent can time it."""
    print(json.dumps(event, ensure_ascii=False), flush=True)
