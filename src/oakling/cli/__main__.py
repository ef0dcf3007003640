"""``python -m oakling.cli``: the same as the ``oakling`` command."""

from __future__ import annotations

from oakling.cli import main

main()
