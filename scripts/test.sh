#!/usr/bin/env bash
# Fresh clone → lint and the whole test suite (real model, real FAISS, real HTTP bot tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
ruff check .
python -m pytest -q "$@"
