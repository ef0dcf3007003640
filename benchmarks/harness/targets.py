"""The frameworks under test: where each app lives and which distribution it comes from."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Interface = Literal["asgi", "wsgi"]


@dataclass(frozen=True, slots=True)
class Target:
    """One app to benchmark."""

    name: str
    interface: Interface
    module: str
    attr: str = "app"
    dist: str | None = None

    @property
    def key(self) -> str:
        """Identifier used on the command line, e.g. ``asgi:starlette``."""
        return f"{self.interface}:{self.name}"

    def load(self) -> Any:
        """Import the module and resolve the (possibly dotted) attribute."""
        obj: Any = importlib.import_module(self.module)
        for part in self.attr.split("."):
            obj = getattr(obj, part)
        return obj


BARE = "bare"
OAKLING = "oakling"

TARGETS: tuple[Target, ...] = (
    Target(BARE, "asgi", "peers.bare_app"),
    Target(OAKLING, "asgi", "apps.oakling_app", dist="oakling"),
    Target("starlette", "asgi", "peers.starlette_app", dist="starlette"),
    Target("fastapi", "asgi", "peers.fastapi_app", dist="fastapi"),
    Target("litestar", "asgi", "peers.litestar_app", dist="litestar"),
    Target("falcon", "asgi", "peers.falcon_app", dist="falcon"),
    Target("blacksheep", "asgi", "peers.blacksheep_app", dist="blacksheep"),
    Target("django", "asgi", "peers.django_app", dist="django"),
    Target(BARE, "wsgi", "peers.bare_wsgi_app"),
    Target(OAKLING, "wsgi", "apps.oakling_sync_app", attr="app.wsgi", dist="oakling"),
    Target("flask", "wsgi", "peers.flask_app", dist="flask"),
    Target("falcon", "wsgi", "peers.falcon_wsgi_app", dist="falcon"),
    Target("django", "wsgi", "peers.django_wsgi_app", dist="django"),
)


def find(key: str) -> Target:
    """Look a target up by ``interface:name``."""
    for target in TARGETS:
        if target.key == key:
            return target
    raise KeyError(f"unknown target {key!r}; known: {', '.join(t.key for t in TARGETS)}")
