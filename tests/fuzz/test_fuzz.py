"""A short atheris run of every fuzz target (``python -m fuzz``); longer runs: docs/reliability.md.

``OAKLING_FUZZ_SECONDS`` sets the time per target (3 s by default).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from fuzz.targets import TARGETS  # noqa: E402

SECONDS = int(os.environ.get("OAKLING_FUZZ_SECONDS", "3"))


@pytest.fixture(scope="module", autouse=True)
def _atheris() -> None:
    if importlib.util.find_spec("atheris") is None:
        message = "atheris is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the fuzzers")
        pytest.skip(message)


@pytest.mark.parametrize("target", list(TARGETS))
def test_fuzz_target_finds_no_crash(target: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fuzz", "--seconds", str(SECONDS), target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"{target}" in result.stdout
    assert "ok in" in result.stdout


def test_a_crashing_target_is_reported() -> None:
    # the runner must be able to fail: a planted target that raises on b"x..."
    result = subprocess.run(
        [sys.executable, "-m", "fuzz", "--seconds", "30", "planted"],
        cwd=ROOT,
        env={**os.environ, "OAKLING_FUZZ_PLANTED": "1"},
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "planted      CRASH" in result.stdout
    assert "planted crash" in result.stdout
    for crash in (ROOT / "fuzz" / "crashes").glob("planted-*"):
        crash.unlink()
