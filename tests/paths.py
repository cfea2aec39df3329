"""Where the tests find the repository, the bundled corpus and ../shared."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIR = REPO / "corpus"
SHARED = REPO.parent / "shared"
DEV_SET = SHARED / "eval" / "dev.jsonl"
