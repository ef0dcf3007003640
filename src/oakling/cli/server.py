"""``oakling run`` (development server) and ``oakling serve`` (production server)."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import click

from oakling.cli._context import CLIError, ScriptInfo, app_option, pass_info
from oakling.cli.interface import (
    TARGET_MODULE,
    choose_interface,
    granian_command,
    gunicorn_command,
    lifecycle_hooks,
    server_env,
)
from oakling.exceptions import ConfigurationError, MissingDependency

__all__ = ("run", "serve")


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise CLIError(str(MissingDependency(module, extra="server")))


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    from oakling.cli._target import LOG_FORMAT

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "formatters": dict(LOGGING_CONFIG["formatters"]),
        "handlers": dict(LOGGING_CONFIG["handlers"]),
        "loggers": dict(LOGGING_CONFIG["loggers"]),
    }
    config["formatters"]["oakling"] = {"format": LOG_FORMAT}
    config["handlers"]["oakling"] = {
        "formatter": "oakling",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["oakling"] = {"handlers": ["oakling"], "level": "INFO", "propagate": False}
    return config


@click.command()
@app_option
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port."
)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Restart when a .py file (or .env) under the current directory changes.",
)
@pass_info
def run(info: ScriptInfo, host: str, port: int, reload: bool) -> None:
    """Run the development server (uvicorn, debug on, access log, reload).

    Debug mode shows tracebacks in error pages: never use this in production;
    use `oakling serve` there.
    """
    # NOTE: before the app is imported, so that its Settings read them.
    os.environ["OAKLING_DEBUG"] = "1"
    os.environ["OAKLING_ACCESS_LOG"] = "1"
    info.debug = True
    loaded = info.load()
    _require("uvicorn")
    import uvicorn

    os.environ["OAKLING_APP"] = loaded.target
    click.echo(
        f"oakling: serving {loaded.target} at {_url(host, port)} "
        f"(debug on, reload {'on' if reload else 'off'}; press Ctrl+C to quit)"
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_config": _log_config(),
        "lifespan": "on",
    }
    if reload:
        uvicorn.run(
            f"{TARGET_MODULE}:asgi",
            reload=True,
            reload_dirs=[os.getcwd()],
            reload_includes=["*.py", ".env"],
            **options,
        )
    else:
        uvicorn.run(loaded.app, **options)


@click.command()
@app_option
@click.option("--host", default="0.0.0.0", show_default=True, help="The address to bind.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="The port."
)
@click.option(
    "--workers",
    "-w",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (about one per CPU core).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads per worker for WSGI (gunicorn's gthread threads, default 8; "
    "granian's blocking threads).",
)
@click.option(
    "--interface",
    type=click.Choice(["auto", "asgi", "wsgi", "rsgi"]),
    default="auto",
    show_default=True,
    help="How granian talks to the app. auto: WSGI when nothing needs an event loop "
    "(fastest), ASGI otherwise.",
)
@click.option(
    "--wsgi",
    "use_gunicorn",
    is_flag=True,
    help="Serve app.wsgi with gunicorn (gthread workers) instead of granian.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the server command and exit without starting it."
)
@pass_info
def serve(
    info: ScriptInfo,
    host: str,
    port: int,
    workers: int,
    threads: int | None,
    interface: str,
    use_gunicorn: bool,
    dry_run: bool,
) -> None:
    """Run the production server: granian, or gunicorn with --wsgi.

    The app is imported and checked first: outside debug, a missing or
    well-known secret key refuses the start. Servers get
    MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ set (unless already set).
    """
    loaded = info.load()
    app = loaded.app
    try:
        app.check()
    except ConfigurationError as exc:
        raise CLIError(f"Refusing to start: {exc}") from None
    if app.debug:
        click.echo(
            "Warning: debug is on (OAKLING_DEBUG); error pages show tracebacks. "
            "Never in production.",
            err=True,
        )
    if use_gunicorn:
        if interface not in ("auto", "wsgi"):
            raise CLIError(
                f"--wsgi serves over WSGI; it cannot be combined with --interface {interface}"
            )
        _require("gunicorn")
        argv = gunicorn_command(host, port, workers, threads)
        click.echo("oakling: interface WSGI on gunicorn (--wsgi)")
        chosen = "wsgi"
    else:
        _require("granian")
        if interface == "auto":
            choice = choose_interface(app)
            chosen = choice.interface
            click.echo(f"oakling: interface {choice.describe()}")
        else:
            chosen = interface
            click.echo(f"oakling: interface {chosen.upper()} (--interface {chosen})")
        if chosen == "rsgi" and not hasattr(app, "__rsgi__"):
            raise CLIError(
                "This app cannot be served over RSGI (oakling has no RSGI adapter yet); "
                "use --interface asgi, or auto."
            )
        if threads is not None and chosen != "wsgi":
            raise CLIError(
                f"--threads applies to WSGI only; over {chosen.upper()} sync handlers run in "
                "the app's thread pool (OAKLING_THREAD_POOL_SIZE)."
            )
        argv = granian_command(chosen, host, port, workers, threads)
    if chosen == "wsgi" and lifecycle_hooks(app):
        click.echo(
            "Warning: WSGI servers run no lifespan: the app's start-up/shutdown hooks "
            "will not run. Serve over ASGI to run them.",
            err=True,
        )
    env = server_env(loaded.target)
    click.echo(f"oakling: serving {loaded.target} at {_url(host, port)} with {workers} worker(s)")
    if dry_run:
        click.echo(" ".join(argv))
        return
    sys.stdout.flush()
    sys.stderr.flush()
    # NOTE: exec rather than run in-process: glibc reads the MALLOC_* variables only at
    # process start, and the server's master should not hold the app imported here.
    os.execve(sys.executable, argv, env)
