#!/usr/bin/env bash
# Create benchmarks/.venv with the pinned peers and oakling (editable, from the repo root).
# Usage: bash benchmarks/setup.sh   (then: benchmarks/.venv/bin/python benchmarks/inprocess.py,
#        or benchmarks/.venv/bin/python benchmarks/http/run.py)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"

if [[ ! -x "$here/.venv/bin/python" ]]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
# benchmarks/http: servers, PostgreSQL drivers, Jinja2, py-spy; and wrk, the load generator.
"$here/.venv/bin/python" -m pip install --quiet -r "$here/http/requirements.txt"
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "benchmarks/http needs wrk: install it (e.g. sudo apt-get install wrk)" >&2
    fi
fi
"$here/.venv/bin/python" -m pip install --quiet -e "$root"
"$here/.venv/bin/python" -m pip freeze --exclude-editable > "$here/.venv/freeze.txt"
echo "benchmarks/.venv ready: $("$here/.venv/bin/python" --version)"
