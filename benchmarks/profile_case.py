"""Profile one app on one case with cProfile, reusing the in-process harness.

Usage:
    benchmarks/.venv/bin/python benchmarks/profile_case.py asgi:oakling "POST JSON" [-n 5000]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cases import CASES, check
from harness.measure import Driver
from harness.targets import find


def main() -> int:
    """Verify the case once, then profile n requests and print the top functions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="e.g. asgi:oakling or wsgi:oakling")
    parser.add_argument("case", choices=[case.name for case in CASES])
    parser.add_argument("-n", type=int, default=5000, help="requests to profile")
    parser.add_argument("--sort", default="tottime", help="pstats sort key")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    case = next(c for c in CASES if c.name == args.case)
    driver = Driver(find(args.target))
    driver.start()
    one, many = driver.prepare(case)
    error = check(case, *one())
    if error is not None:
        print(f"check failed: {error}")
        return 1
    many(args.n // 5)
    profiler = cProfile.Profile()
    profiler.runcall(many, args.n)
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    driver.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
