#!/usr/bin/env bash
# Create benchmarks/.venv with the pinned peers and oakling (editable, from the repo root).
# Usage: bash benchmarks/setup.sh   (then: benchmarks/.venv/bin/python benchmarks/inprocess.py)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"

if [[ ! -x "$here/.venv/bin/python" ]]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" -m pip install --quiet -e "$root"
"$here/.venv/bin/python" -m pip freeze --exclude-editable > "$here/.venv/freeze.txt"
echo "benchmarks/.venv ready: $("$here/.venv/bin/python" --version)"
