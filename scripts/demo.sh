#!/usr/bin/env bash
# Fresh clone → answers: set up, index the bundled corpus, ask the flagship question, then a
# factoid that the trained reader reads (its graph is exported offline on first use, ~1–2 min).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
newsqa index
newsqa ask "朱志杰去过哪些镇"
newsqa ask "永康上半年GDP多少"
