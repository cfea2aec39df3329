#!/usr/bin/env bash
# Fresh clone → answers: set up, index the bundled corpus, ask the flagship question and a factoid.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
newsqa index
newsqa ask "朱志杰去过哪些镇"
# a factoid: the rules decide and cite, the shipped reader names the answer (答：…); the
# first reader use exports its graph once (a minute or two)
newsqa ask "星月集团和谁签约了"
