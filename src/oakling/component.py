"""Components: a group of routes, hooks and error handlers, included in an app.

A Component is oakling's Flask blueprint and Django app in one: it carries a
name (the namespace of its route names), a URL prefix, its own request hooks and
error handlers, and can include other components::

    blog = Component("blog", prefix="/blog")

    @blog.get("/{slug:slug}")
    def post(slug: str) -> str: ...

    app.include(blog)                  # GET /blog/hello; url_for("blog.post", slug="hello")

A component that brings database tables names its models module
(``Component("blog", models="blog.models")``, or the module object itself); its
migrations live in a ``migrations/`` folder next to that module, on their own
Alembic branch labelled with the component's name (see ``oakling.db.migrations``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from oakling.exceptions import ConfigurationError
from oakling.scaffold import RouteDef, Scaffold

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from oakling.app import App

__all__ = ("Component",)


class Component(Scaffold):
    """A reusable part of an app.

    Args:
        name: The namespace of the component's route names (``"blog"`` gives
            ``"blog.post"``); a Python identifier.
        prefix: The default URL prefix when included, e.g. ``"/blog"``.
        models: The module (or its dotted name, imported when the database
            commands need it) whose models and tables are the component's own;
            a package includes its submodules.
        migrations: The folder of the component's migrations; default:
            ``migrations/`` next to the models module (in its package).
        templates: The component's template folder, relative to its module's folder;
            searched after the project's, so the project can override a template.
        static: The component's static folder, relative to its module's folder; its
            files are served under ``<static URL>/<name>/`` (``oakling.web.static``).
    """

    def __init__(
        self,
        name: str,
        *,
        prefix: str = "",
        models: ModuleType | str | None = None,
        migrations: str | os.PathLike[str] | None = None,
        templates: str | os.PathLike[str] | None = None,
        static: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        if not name.isidentifier():
            raise ConfigurationError(f"Component name {name!r} must be a Python identifier")
        self.name = name
        self.prefix = normalise_prefix(prefix)
        self.models = models
        self.migrations = os.fspath(migrations) if migrations is not None else None
        self.template_folder = os.fspath(templates) if templates is not None else None
        self.static_folder = os.fspath(static) if static is not None else None
        self.routes: list[RouteDef] = []
        self.children: list[tuple[Component, str]] = []
        self._listeners: list[Callable[[RouteDef], None]] = []
        self._child_listeners: list[Callable[[Component, str], None]] = []

    def _register(self, route: RouteDef) -> None:
        self.routes.append(route)
        for listener in self._listeners:
            listener(route)

    def include(self, component: Component, *, prefix: str | None = None) -> None:
        """Include ``component`` inside this one (names become ``"outer.inner.route"``)."""
        if component is self:
            raise ConfigurationError(f"Component {self.name!r} cannot include itself")
        child_prefix = normalise_prefix(component.prefix if prefix is None else prefix)
        self.children.append((component, child_prefix))
        for listener in self._child_listeners:
            listener(component, child_prefix)

    def attached(self, app: App) -> None:
        """Called when the component is included in ``app`` (directly or by a parent).

        Override it to set up per-app state, e.g. ``app.extensions[...]``.
        """

    def on_route(self, listener: Callable[[RouteDef], None]) -> None:
        """Call ``listener`` for every route registered on this component from now on."""
        self._listeners.append(listener)

    def on_include(self, listener: Callable[[Component, str], None]) -> None:
        """Call ``listener(child, prefix)`` for every component included here from now on."""
        self._child_listeners.append(listener)

    def __repr__(self) -> str:
        return f"<Component {self.name!r} prefix={self.prefix!r} routes={len(self.routes)}>"


def normalise_prefix(prefix: str) -> str:
    """Return ``prefix`` with a leading and no trailing slash ("" stays "")."""
    prefix = prefix.strip()
    if not prefix or prefix == "/":
        return ""
    if not prefix.startswith("/"):
        raise ConfigurationError(f"URL prefix {prefix!r} must start with '/'")
    return prefix.rstrip("/")
