"""Run the fuzz targets: ``python -m fuzz [--seconds N] [--jobs J] [TARGET ...]``.

Each target runs in its own process for ``--seconds`` (libFuzzer's
``-max_total_time``), starting from its seeds and from ``fuzz/corpus/TARGET`` if
that folder exists (new interesting inputs are added there with ``--keep``). A
crash writes the input to ``fuzz/crashes/TARGET-crash-*``; reproduce it with
``python -m fuzz.one TARGET fuzz/crashes/TARGET-crash-...``. The exit status is
the number of targets that crashed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fuzz.targets import SEEDS, TARGETS

HERE = Path(__file__).resolve().parent


def run(name: str, seconds: int, keep: bool) -> tuple[bool, str]:
    """Fuzz ``name`` for ``seconds``; return (passed, the fuzzer's output tail)."""
    crashes = HERE / "crashes"
    crashes.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as scratch:
        seeds = Path(scratch)
        for index, seed in enumerate(SEEDS.get(name, [])):
            (seeds / f"seed-{index}").write_bytes(seed)
        corpora = [str(seeds)]
        kept = HERE / "corpus" / name
        if keep:
            kept.mkdir(parents=True, exist_ok=True)
        if kept.is_dir():
            corpora.insert(0, str(kept))
        argv = [
            sys.executable,
            "-m",
            "fuzz.one",
            name,
            f"-max_total_time={seconds}",
            "-timeout=10",  # one input taking 10 s is a hang
            "-rss_limit_mb=1024",
            f"-artifact_prefix={crashes}/{name}-",
            "-print_final_stats=1",
            *corpora,
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=HERE.parent)
    output = (result.stdout + result.stderr)[-4000:]
    return result.returncode == 0, output


def main() -> int:
    """Fuzz the targets named on the command line (all by default)."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", help=f"default: all of {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--keep", action="store_true", help="grow fuzz/corpus/TARGET")
    args = parser.parse_args()
    names = args.targets or list(TARGETS)
    unknown = [name for name in names if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    failed = 0
    for name in names:
        started = time.monotonic()
        passed, output = run(name, args.seconds, args.keep)
        took = time.monotonic() - started
        print(f"{name:12} {'ok' if passed else 'CRASH'} in {took:.0f} s", flush=True)  # noqa: T201
        if not passed:
            failed += 1
            print(output, flush=True)  # noqa: T201
    return failed


if __name__ == "__main__":
    sys.exit(main())
