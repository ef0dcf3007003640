"""What every command shares: the app target, ``--debug``, the error type."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from oakling.cli.discovery import DiscoveryError, load_app

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
    target: str | None = None
    """The resolved ``module:attr`` once the app is loaded."""
    _app: App | None = field(default=None, repr=False)

    def load_app(self) -> App:
        """Find and import the app once, or fail with a clear message (exit 2)."""
        if self._app is not None:
            return self._app
        try:
            loaded = load_app(self.app_target)
        except DiscoveryError as exc:
            message = str(exc)
            if exc.cause is not None and self.debug:
                click.echo("".join(traceback.format_exception(exc.cause)).rstrip(), err=True)
            elif exc.cause is not None:
                message += "\n(run `oakling --debug ...` to see the traceback)"
            raise CLIError(message) from None
        self._app, self.target = loaded.app, loaded.target
        return loaded.app


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
