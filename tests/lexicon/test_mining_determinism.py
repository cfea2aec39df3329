"""Lexicon mining gives the same places whatever else the process did with jieba first."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.paths import CORPUS_DIR, REPO

_SCRIPT = """
import json, sys
from pathlib import Path
if sys.argv[1] == "warm":
    import jieba
    jieba.initialize()  # what jieba.posseg.cut elsewhere in the process does on first use
from retrieval.lexicon.mining import mine_places
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[2]).glob("*.txt"))]
print(json.dumps(mine_places(texts), ensure_ascii=False))
"""


def _places(mode: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode, str(CORPUS_DIR)], cwd=REPO, check=True,
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_mined_places_do_not_depend_on_jieba_being_loaded_already() -> None:
    cold, warm = _places("cold"), _places("warm")
    assert cold == warm
    assert "古山镇" in cold and "舟山镇" in cold
