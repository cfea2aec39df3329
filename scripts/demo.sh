#!/usr/bin/env bash
# Fresh clone → answers: set up, index the bundled corpus, ask the flagship question.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
newsqa index
newsqa ask "朱志杰去过哪些镇"
