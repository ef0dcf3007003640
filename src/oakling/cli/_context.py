"""What every command shares: the app target, ``--debug``, the error type."""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from oakling.cli.discovery import DiscoveryError, LoadedApp, load_app

if TYPE_CHECKING:
    from oakling.app import App

__all__ = ("CLIError", "ScriptInfo", "app_option", "env_flag", "pass_info")

F = TypeVar("F", bound=Callable[..., Any])


class CLIError(click.ClickException):
    """A usage or configuration problem: printed as ``Error: ...``, exit code 2."""

    exit_code = 2


def env_flag(name: str) -> bool:
    """Read a boolean environment variable the way ``Settings`` does."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class ScriptInfo:
    """The state of one ``oakling`` invocation, shared by the group and its commands."""

    app_target: str | None = None
    debug: bool = False
    _loaded: LoadedApp | None = field(default=None, repr=False)

    def load(self) -> LoadedApp:
        """Find and import the app once, or fail with a clear message (exit 2)."""
        if self._loaded is not None:
            return self._loaded
        try:
            self._loaded = load_app(self.app_target)
        except DiscoveryError as exc:
            message = str(exc)
            if exc.cause is not None and self.debug:
                click.echo(_format_traceback(exc.cause), err=True)
            elif exc.cause is not None:
                message += "\n(run `oakling --debug ...` to see the traceback)"
            raise CLIError(message) from None
        return self._loaded

    def load_app(self) -> App:
        """The app itself; see ``load``."""
        return self.load().app


def _format_traceback(exc: BaseException) -> str:
    """Format ``exc``'s traceback without the frames of discovery and importlib."""
    internal = (str(Path(__file__).parent), str(Path(importlib.__file__).parent), "<frozen ")
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(internal):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()


pass_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def _set_target(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_target = value


def app_option(f: F) -> F:
    """Add ``--app MODULE:ATTR`` to a command (it overrides the group's ``--app``)."""
    return click.option(
        "--app",
        metavar="MODULE:ATTR",
        expose_value=False,
        callback=_set_target,
        help="The app to load, e.g. 'app:app', 'main:create_app' or 'src/site.py:app'.",
    )(f)
