#!/usr/bin/env bash
# Re-resolve every dependency to the newest versions pyproject.toml's ranges allow, run the
# whole suite against them in a separate venv, and only if it passes write them to
# requirements.lock. Nothing changes on failure: the lock and .venv stay as they were.
#   bash scripts/upgrade-deps.sh            # everything
#   bash scripts/upgrade-deps.sh -m "not slow"   # extra pytest arguments, for a quicker look
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH=${TORCH_VERSION:-2.13.0}  # the CPU wheel; a newer one must be asked for explicitly
venv=.venv-upgrade
rm -rf "$venv"
"$PY" -m venv "$venv"
. "$venv/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1
quiet() { "$@" 2> >(grep -v "is ignored" >&2); }
quiet pip install -q "torch==$TORCH"
quiet pip install -q --upgrade -e ".[test,ray]"
python scripts/versions.py
ruff check .
python -m pytest -q "$@"
candidate=$(mktemp)
{
    echo "# Exact versions the whole suite passed with (scripts/upgrade-deps.sh writes this file; do not edit by hand)."
    echo "# Installed as pip constraints by scripts/setup.sh: pip install -c requirements.lock -e \".[test,ray]\"."
    pip freeze --exclude-editable | grep -v "^#"
} > "$candidate"
mv "$candidate" requirements.lock
deactivate
rm -rf "$venv"
echo "requirements.lock updated; review with: git diff requirements.lock"
