"""Where one app spends its CPU time on one test, under load (py-spy on the server worker).

Usage:
    benchmarks/.venv/bin/python benchmarks/http/profile_test.py granian-asgi:oakling json
        [--seconds 10] [--top 25] [--keep FILE]

Starts the app as run.py does, loads the test with wrk, samples the worker with
``py-spy record --format raw`` meanwhile, and prints the functions with the most samples:
"self" (the sampled frame itself) and "total" (anywhere on the stack).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import database  # noqa: E402
import servers  # noqa: E402
from run import PATHS, snapshot_oakling  # noqa: E402
from targets import ROOT, select  # noqa: E402

_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match.group("file")
    for marker in ("site-packages/", "/oakling-http-", str(ROOT) + "/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    if path.startswith(tuple("0123456789abcdefghijklmnopqrstuvwxyz_")) and "/oakling/" in path:
        path = "oakling/" + path.split("/oakling/", 1)[1]
    return f"{match.group('fn')} ({path})"


def _package(short: str) -> str:
    path = short.rpartition("(")[2].rstrip(")")
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" in path or head.endswith(".py") else path


def summarise(raw: str, top: int) -> str:
    """Tables of the most sampled functions (self and total) from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        # NOTE: py-spy puts the thread first; the leaf is the last frame.
        samples += count
        own[frames[-1]] += count
        for frame in set(frames[1:]):
            total[frame] += count
    packages: collections.Counter[str] = collections.Counter()
    for fn, n in own.items():
        packages[_package(fn)] += n
    lines = [f"{samples} samples", "", "self % by package"]
    lines += [f"{n / samples:6.1%}  {name}" for name, n in packages.most_common()]
    lines += ["", "self %  function"]
    lines += [f"{n / samples:6.1%}  {fn}" for fn, n in own.most_common(top)]
    lines += ["", "total % function"]
    lines += [f"{n / samples:6.1%}  {fn}" for fn, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="a key of run.py's targets, e.g. granian-asgi:oakling")
    parser.add_argument("test", choices=list(PATHS))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep", type=Path, help="also write py-spy's raw stacks here")
    args = parser.parse_args()
    (target,) = select(args.target)[:1]
    database.ensure()
    with tempfile.TemporaryDirectory(prefix="oakling-http-") as tmp:
        snapshot_oakling(Path(tmp))
        with servers.running(target, Path(tmp), tmp) as server:
            servers.wrk(server.port, PATHS[args.test], 2)
            out = Path(tmp) / "stacks.txt"
            load = threading.Thread(
                target=servers.wrk, args=(server.port, PATHS[args.test], args.seconds + 2)
            )
            load.start()
            subprocess.run(
                [str(servers.BIN / "py-spy"), "record", "--pid", str(server.worker_pid()),
                 "--duration", str(int(args.seconds)), "--rate", "250", "--format", "raw",
                 "--output", str(out), "--nonblocking"],
                check=True, capture_output=True,
            )  # fmt: skip
            load.join()
            raw = out.read_text()
    if args.keep:
        args.keep.write_text(raw)
    print(summarise(raw, args.top))


if __name__ == "__main__":
    main()
