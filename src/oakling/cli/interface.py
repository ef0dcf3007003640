"""Choosing the server interface for ``oakling serve`` and building the server command.

No click here: the choice and the command line are plain data, tested directly.
"""

from __future__ import annotations

import inspect
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from oakling.app import App
    from oakling.scaffold import Scaffold

__all__ = (
    "MALLOC_ENV",
    "TARGET_MODULE",
    "Choice",
    "choose_interface",
    "granian_command",
    "gunicorn_command",
    "lifecycle_hooks",
    "server_env",
)

TARGET_MODULE = "oakling.cli._target"

MALLOC_ENV: Mapping[str, str] = {
    "MALLOC_MMAP_THRESHOLD_": "1048576",
    "MALLOC_TRIM_THRESHOLD_": "4194304",
}
"""glibc malloc thresholds set for servers: asyncio reads each socket into a fresh
256 KiB buffer, and with the default (dynamic) thresholds that costs extra mmap
calls and page faults in some processes but not others (see DESIGN.md)."""


@dataclass(frozen=True, slots=True)
class Choice:
    """The interface ``auto`` chose, and why."""

    interface: str
    reasons: tuple[str, ...]

    def describe(self) -> str:
        """One line for the console: the interface and the reasons."""
        return f"{self.interface.upper()} ({'; '.join(self.reasons)})"


def _name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}.{qualname}" if module else qualname


def _few(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _is_async(fn: Callable[..., Any]) -> bool:
    fn = inspect.unwrap(fn)
    call = fn if inspect.isroutine(fn) else type(fn).__call__
    return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)


def _scaffolds(app: App) -> Iterable[Scaffold]:
    yield app
    yield from app.components


def lifecycle_hooks(app: App) -> bool:
    """Whether the app has start-up/shutdown hooks or a lifespan (best run under ASGI)."""
    return bool(app.lifespan is not None or app.startup_funcs or app.shutdown_funcs)


def choose_interface(app: App) -> Choice:
    """Pick WSGI when nothing in the app needs an event loop, ASGI otherwise.

    WSGI on granian serves ~1.7x the requests of ASGI for sync handlers, so it
    is chosen when every handler and dependency is sync, and there are no
    websocket routes, no ASGI middleware, no async request hooks, no ASGI
    mounts and no start-up/shutdown hooks (under WSGI they would run per worker on one
    thread's event loop, which resources tied to a loop, such as a database pool, cannot share).
    """
    reasons: list[str] = []
    async_handlers = [_name(e.handler) for e in app.endpoints if e.dependant.any_async]
    if async_handlers:
        reasons.append(f"async handlers or dependencies: {_few(async_handlers)}")
    websockets = [info.path for info in app.ws_router.routes()]
    if websockets:
        reasons.append(f"websocket routes: {_few(websockets)}")
    # NOTE: middleware with a WSGI twin (`wrap_wsgi`, e.g. CORS) runs natively under WSGI.
    asgi_only = [cls for cls, _ in app.middleware if not callable(getattr(cls, "wrap_wsgi", None))]
    if asgi_only:
        reasons.append(f"ASGI middleware: {_few([_name(cls) for cls in asgi_only])}")
    hooks = [
        _name(fn)
        for scaffold in _scaffolds(app)
        for fn in (
            *scaffold.before_request_funcs,
            *scaffold.after_request_funcs,
            *scaffold.teardown_request_funcs,
            *scaffold.error_handlers.values(),
        )
        if _is_async(fn)
    ]
    if hooks:
        reasons.append(f"async request hooks or error handlers: {_few(hooks)}")
    if lifecycle_hooks(app):
        reasons.append(
            "start-up/shutdown hooks or a lifespan (under WSGI they would run on one "
            "thread's event loop only)"
        )
    mounts = [prefix for prefix, _, is_asgi in app.mounts if is_asgi]
    if mounts:
        reasons.append(f"mounted ASGI apps: {_few(mounts)}")
    if reasons:
        interface = "rsgi" if hasattr(app, "__rsgi__") else "asgi"
        return Choice(interface, tuple(reasons))
    return Choice(
        "wsgi",
        (
            "every handler is sync, with no websocket routes, ASGI middleware, "
            "async hooks or lifespan: WSGI is the fastest interface for it",
        ),
    )


def server_env(target: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ours, the app target and the malloc thresholds."""
    env = dict(os.environ if environ is None else environ)
    env["OAKLING_APP"] = target
    for key, value in MALLOC_ENV.items():
        env.setdefault(key, value)
    return env


def granian_command(
    interface: str, host: str, port: int, workers: int, threads: int | None = None
) -> list[str]:
    """The ``python -m granian`` command line serving the app over ``interface``."""
    argv = [sys.executable, "-m", "granian", "--interface", interface]
    argv += ["--host", host, "--port", str(port), "--workers", str(workers)]
    if interface == "wsgi":
        argv.append("--no-ws")
    if threads is not None and interface == "wsgi":
        argv += ["--blocking-threads", str(threads)]
    argv.append(f"{TARGET_MODULE}:{interface}")
    return argv


def gunicorn_command(host: str, port: int, workers: int, threads: int | None = None) -> list[str]:
    """The ``python -m gunicorn`` command line serving ``app.wsgi`` with gthread workers."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads if threads is not None else 8),
        "--bind",
        bind,
        f"{TARGET_MODULE}:wsgi",
    ]
