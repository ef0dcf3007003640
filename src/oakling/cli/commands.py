"""The ``oakling`` click group and its inspection commands: routes, shell, check."""

from __future__ import annotations

import code
import importlib
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

import click

from oakling.cli._context import ScriptInfo, app_option, env_flag, pass_info
from oakling.cli.api import openapi
from oakling.cli.auth import changepassword, createsuperuser
from oakling.cli.checks import Issue, deploy_issues
from oakling.cli.db import db
from oakling.cli.project import new
from oakling.cli.server import run, serve
from oakling.cli.static import collectstatic
from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from oakling.app import App

__all__ = ("check", "cli", "routes", "shell")

_EPILOG = """\b
Quick start:
  oakling new mysite && cd mysite
  oakling run               development server, debug on, reload
  oakling routes            list the routes
  oakling check --deploy    what is unsafe for production
  oakling serve             production server (granian)

Run `oakling COMMAND --help` for a command's options."""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=_EPILOG,
)
@click.option(
    "--app",
    "app_target",
    metavar="MODULE:ATTR",
    envvar="OAKLING_APP",
    help="The app to load [env: OAKLING_APP]. Default: `app` (or `create_app()`) "
    "in app.py, else main.py, in the current directory.",
)
@click.option(
    "--debug/--no-debug",
    default=None,
    help="Show full tracebacks when the app fails to load [default: OAKLING_DEBUG].",
)
@click.version_option(package_name="oakling", prog_name="oakling")
@click.pass_context
def cli(ctx: click.Context, app_target: str | None, debug: bool | None) -> None:
    """Run, serve, inspect and create oakling apps."""
    info = ctx.ensure_object(ScriptInfo)
    info.app_target = app_target
    info.debug = env_flag("OAKLING_DEBUG") if debug is None else debug


def _handler_name(handler: Any) -> str:
    module = getattr(handler, "__module__", None)
    qualname = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    return f"{module}.{qualname}" if module else str(qualname)


def _route_rows(app: App) -> list[tuple[str, str, str, str]]:
    rows = [
        (", ".join(info.methods), info.path, info.name, _handler_name(info.endpoint.handler))
        for info in app.router.routes()
    ]
    rows += [
        ("WS", info.path, info.name, _handler_name(info.endpoint.handler))
        for info in app.ws_router.routes()
    ]
    rows += [
        ("MOUNT", prefix + "/*", "", _handler_name(type(mounted)))
        for prefix, mounted, _ in app.mounts
    ]
    return sorted(rows, key=lambda row: (row[1], row[0]))


@cli.command()
@app_option
@pass_info
def routes(info: ScriptInfo) -> None:
    """List the app's routes: methods, path, name and handler, sorted by path.

    Websocket routes show WS as their method; mounted apps show MOUNT.
    """
    rows = _route_rows(info.load_app())
    if not rows:
        click.echo("No routes.")
        return
    header = ("Methods", "Path", "Name", "Handler")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]

    def line(row: tuple[str, str, str, str]) -> str:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        return "  ".join([*cells, row[3]]).rstrip()

    click.echo(line(header))
    click.echo(line(("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * len(header[3]))))
    for row in rows:
        click.echo(line(row))


@cli.command()
@app_option
@click.option(
    "--plain", is_flag=True, help="Use the standard Python shell even if IPython is installed."
)
@pass_info
def shell(info: ScriptInfo, plain: bool) -> None:
    """Start a Python shell with `app` and `settings` defined.

    IPython is used when installed (unless --plain).
    """
    app = info.load_app()
    namespace: dict[str, Any] = {"app": app, "settings": app.settings}
    banner = (
        f"Python {sys.version.split()[0]} on {sys.platform}\n"
        f"oakling shell: app = {app!r}; settings = app.settings"
    )
    if not plain and importlib.util.find_spec("IPython") is not None:
        ipython = importlib.import_module("IPython")
        ipython.start_ipython(argv=["--no-banner"], user_ns=namespace)
        return
    try:
        import readline
        import rlcompleter
    except ImportError:  # NOTE: not available on every platform
        pass
    else:
        readline.set_completer(rlcompleter.Completer(namespace).complete)
        readline.parse_and_bind("tab: complete")
    code.interact(banner=banner, local=namespace, exitmsg="")


def _echo_issue(issue: Issue) -> None:
    kind = "error" if issue.is_error else "warning"
    click.secho(f"{issue.id} ({kind}): {issue.message}", fg="red" if issue.is_error else "yellow")
    if issue.fix:
        click.echo(f"    fix: {issue.fix}")


@cli.command()
@app_option
@click.option("--deploy", is_flag=True, help="Also list what is unsafe for production.")
@pass_info
def check(info: ScriptInfo, deploy: bool) -> None:
    """Import the app and check its configuration.

    Runs the checks the app runs before serving; with --deploy, also lists
    settings that are unsafe in production, each with an id and a fix.
    Exits with 1 when there is an error, 0 otherwise (warnings included).
    """
    app = info.load_app()
    issues = deploy_issues(app.settings) if deploy else []
    try:
        app.check()
    except ConfigurationError as exc:
        # NOTE: today app.check() only refuses the secret key, which deploy.E002 reports
        # with the same fix; show the app's own message when deploy did not cover it.
        if not any(issue.id == "deploy.E002" for issue in issues):
            issues.insert(0, Issue("app.E001", str(exc), ""))
    if not issues:
        click.echo("No issues found.")
        return
    for issue in issues:
        _echo_issue(issue)
    errors = sum(issue.is_error for issue in issues)
    warnings = len(issues) - errors
    click.echo(f"Found {errors} error(s) and {warnings} warning(s).")
    if errors:
        raise click.exceptions.Exit(1)


cli.add_command(run)
cli.add_command(serve)
cli.add_command(new)
cli.add_command(db)
cli.add_command(collectstatic)
cli.add_command(openapi)
cli.add_command(createsuperuser)
cli.add_command(changepassword)
