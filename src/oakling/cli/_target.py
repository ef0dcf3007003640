"""The import target that ``oakling run``/``serve`` hand to the server.

``oakling.cli._target:asgi`` (or ``:wsgi``, ``:rsgi``) loads the app named by
``OAKLING_APP`` through ``discovery.load_app`` in whichever process imports it:
uvicorn's reload child, each granian or gunicorn worker. This gives every
server the same discovery rules (the current directory on ``sys.path``,
``create_app()`` factories) without asking it to understand them, and works
around gunicorn, which cannot load a dotted attribute such as ``app:app.wsgi``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from oakling.cli.discovery import load_app

if TYPE_CHECKING:
    from oakling.app import App

__all__ = ("configure_logging", "get_app")

_loaded: dict[str, App] = {}
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def get_app() -> App:
    """Load (once per process) the app named by ``OAKLING_APP``."""
    target = os.environ.get("OAKLING_APP") or None
    key = target or ""
    app = _loaded.get(key)
    if app is None:
        app = _loaded[key] = load_app(target).app
        configure_logging()
    return app


def configure_logging() -> None:
    """Send the ``oakling`` loggers (access log included) to stderr at INFO.

    Nothing is changed when the app (or the server) already configured the
    ``oakling`` logger or the root logger.
    """
    logger = logging.getLogger("oakling")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def __getattr__(name: str) -> Any:
    if name == "asgi":
        return get_app()
    if name == "wsgi":
        return get_app().wsgi
    if name == "rsgi":
        app = get_app()
        if not hasattr(app, "__rsgi__"):
            raise RuntimeError("This oakling version has no RSGI interface; serve over ASGI")
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
