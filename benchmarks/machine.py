"""The machine a figure came from, and timestamped progress lines (stderr, readable under nohup)."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def cpu_info(path: Path = Path("/proc/cpuinfo")) -> dict[str, object]:
    model, flags = "unknown", set[str]()
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    return {"cpu": model, "avx512_vnni": "avx512_vnni" in flags, "avx2": "avx2" in flags}


def header_line(info: dict[str, object]) -> str:
    def yes(flag: str) -> str:
        return "yes" if info[flag] else "no"

    return (f"CPU {info['cpu']} (avx512_vnni {yes('avx512_vnni')}, avx2 {yes('avx2')}) · "
            f"model {info['model']} · backend {info['backend']} · {info['date']}")



def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
