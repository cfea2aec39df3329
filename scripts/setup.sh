#!/usr/bin/env bash
# Create .venv and install newsqa with its test tools, at exactly the versions in
# requirements.lock (the ones the whole suite passed with). Idempotent: re-runs only when
# pyproject.toml or the lock changed. CPU torch is installed first, or pip would pull a
# multi-GB CUDA build. Upgrading the lock: scripts/upgrade-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOCK=${NEWSQA_LOCK:-requirements.lock}
stamp=".venv/.installed-$(cat pyproject.toml "$LOCK" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then exit 0; fi
[ -d .venv ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip's config here lists extra local indexes that may be absent; their warnings are noise.
quiet() { "$@" 2> >(grep -v "is ignored" >&2); }
torch_pin=$(grep -E '^torch==' "$LOCK" || echo "torch==2.13.0")
quiet pip install -q "${torch_pin%%+*}"
# The ray extra only for its tests (tests/scale/test_ray_build.py); nothing else imports it.
quiet pip install -q -c "$LOCK" -e ".[test,ray]"
python -c "import torch, faiss, sentence_transformers, telegram, bot.cli"
rm -f .venv/.installed-*
touch "$stamp"
