"""The web layer: templates, static files, sessions, CSRF, flash messages, security headers.

Each piece is a module of its own, imported only when used. Keep this file light:
the app imports ``oakling.web.security`` (and so this package) at start-up, so
nothing heavy (Jinja2, redis) may be imported here. The names below load their
module on first access::

    from oakling.web import render        # imports Jinja2 now, not before
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oakling.web.templating import Template, Templates, render, render_async, render_string

__all__ = ("Template", "Templates", "render", "render_async", "render_string")

# NOTE: name -> module; add a battery piece's public names here, never an import above.
_LAZY = {
    "Template": "oakling.web.templating",
    "Templates": "oakling.web.templating",
    "render": "oakling.web.templating",
    "render_async": "oakling.web.templating",
    "render_string": "oakling.web.templating",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
