"""Run one fuzz target under atheris: ``python -m fuzz.one TARGET [libFuzzer options]``.

Given a file instead of a corpus folder, libFuzzer runs just that input (to
reproduce a crash).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["oakling", "python_multipart", "fuzz"]):
    from fuzz.targets import TARGETS


def main() -> None:
    """Fuzz the target named first on the command line."""
    name = sys.argv.pop(1)
    target = TARGETS[name]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
