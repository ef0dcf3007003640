"""The ``oakling`` command: run, serve, inspect and create apps.

Only the ``oakling`` console script loads this package's commands (and click);
``import oakling`` never does. ``cli`` is the click group, ``main()`` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oakling.cli.commands import cli

__all__ = ("cli", "main")


def main() -> None:
    """Run the ``oakling`` command line (the console script's entry point)."""
    from oakling.cli.commands import cli

    cli.main(prog_name="oakling")


def __getattr__(name: str) -> Any:
    # NOTE: lazy so that server workers importing ``oakling.cli._target`` skip click.
    if name == "cli":
        from oakling.cli.commands import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
