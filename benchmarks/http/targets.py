"""The apps under test and the servers that run them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class Target:
    """One app under one server: ``key`` is ``server:name`` (``granian-asgi:oakling``)."""

    name: str
    app: str
    """``module:attribute``, importable with ``benchmarks/http`` on ``PYTHONPATH``."""
    server: str
    """``granian-asgi``, ``granian-wsgi`` or ``gunicorn`` (WSGI)."""
    dist: str | None = None
    """The distribution whose version the report gives."""
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.server}:{self.name}"

    @property
    def ceiling(self) -> bool:
        return self.name.startswith("bare")

    @property
    def oakling(self) -> bool:
        return self.name.startswith("oakling")


def _wsgi(name: str, app: str, dist: str | None, note: str = "") -> list[Target]:
    return [Target(name, app, server, dist, note) for server in ("granian-wsgi", "gunicorn")]


ASGI = [
    Target("bare", "peers.bare_app:app", "granian-asgi", None, "hand-written ASGI callable"),
    Target("oakling", "apps.oakling_app:app", "granian-asgi", "oakling"),
    Target("oakling-orm", "apps.oakling_orm_app:app", "granian-asgi", "oakling"),
    Target("starlette", "peers.starlette_app:app", "granian-asgi", "starlette"),
    Target("fastapi", "peers.fastapi_app:app", "granian-asgi", "fastapi"),
    Target("litestar", "peers.litestar_app:app", "granian-asgi", "litestar"),
    Target("falcon", "peers.falcon_app:app", "granian-asgi", "falcon"),
    Target("blacksheep", "peers.blacksheep_app:app", "granian-asgi", "blacksheep"),
]
WSGI = [
    *_wsgi("bare-wsgi", "peers.bare_wsgi_app:app", None),
    *_wsgi("oakling-wsgi", "apps.oakling_wsgi_app:wsgi", "oakling"),
    *_wsgi("oakling-orm-wsgi", "apps.oakling_orm_wsgi_app:wsgi", "oakling"),
    *_wsgi("flask", "peers.flask_app:app", "flask"),
    *_wsgi("falcon-wsgi", "peers.falcon_wsgi_app:app", "falcon"),
    *_wsgi("django", "peers.django_app:app", "django"),
]
TARGETS = [
    t for t in [*ASGI, *WSGI] if (HERE / (t.app.split(":")[0].replace(".", "/") + ".py")).exists()
]
"""Every target whose app file exists (``oakling-orm`` waits for ``oakling.db`` sessions)."""


def select(only: str | None) -> list[Target]:
    """The targets named in ``only`` (comma-separated keys or names), or all.

    Raises:
        SystemExit: A name matches no target.
    """
    if not only:
        return TARGETS
    chosen: list[Target] = []
    for word in only.split(","):
        found = [t for t in TARGETS if word.strip() in (t.key, t.name, t.server)]
        if not found:
            raise SystemExit(f"--only: no target {word!r}; known: {[t.key for t in TARGETS]}")
        chosen += [t for t in found if t not in chosen]
    return chosen
