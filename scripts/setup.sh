#!/usr/bin/env bash
# Create .venv and install newsqa with its test tools. Idempotent: re-runs only when
# pyproject.toml changed. CPU torch is installed first, or pip would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ -f "$stamp" ]; then exit 0; fi
[ -d .venv ] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
# pip's config here lists extra local indexes that may be absent; their warnings are noise.
pip install -q torch==2.13.0 2> >(grep -v "is ignored" >&2)
# The ray extra only for its tests (tests/scale/test_ray_build.py); nothing else imports it.
pip install -q -e ".[test,ray]" 2> >(grep -v "is ignored" >&2)
python -c "import torch, faiss, sentence_transformers, telegram, bot.cli"
rm -f .venv/.installed-*
touch "$stamp"
