"""Registration shared by ``App`` and ``Component``: routes, hooks, error handlers."""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from oakling.exceptions import ConfigurationError

__all__ = ("RouteDef", "Scaffold")

F = TypeVar("F", bound=Callable[..., Any])
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")


@dataclass(frozen=True, slots=True)
class RouteDef:
    """A route as declared, before it is compiled into the app's router."""

    path: str
    handler: Callable[..., Any]
    methods: tuple[str, ...]
    name: str
    status: int = 200
    websocket: bool = False


class Scaffold:
    """The registration API shared by ``App`` and ``Component``."""

    def __init__(self) -> None:
        self.before_request_funcs: list[Callable[..., Any]] = []
        self.after_request_funcs: list[Callable[..., Any]] = []
        self.teardown_request_funcs: list[Callable[..., Any]] = []
        self.error_handlers: dict[int | type[BaseException], Callable[..., Any]] = {}
        self._change_listeners: list[Callable[[], None]] = []
        self.root_path = _caller_folder()
        """The folder of the module that created this object; relative template and
        static folders start here. Set it to move them."""
        self.template_filters: dict[str, Callable[..., Any]] = {}
        self.template_globals: dict[str, Any] = {}

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` whenever a hook or error handler is added here."""
        self._change_listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._change_listeners:
            listener()

    def _register(self, route: RouteDef) -> None:
        raise NotImplementedError

    # -- routes --------------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        handler: Callable[..., Any],
        methods: list[str] | tuple[str, ...] | None = None,
        *,
        name: str | None = None,
        status: int = 200,
    ) -> None:
        """Register ``handler`` (a function or a ``View`` class) for ``path``.

        Args:
            path: The pattern, e.g. ``/users/{id:int}``.
            handler: A sync or async function, or a class-based view.
            methods: HTTP methods; default ``["GET"]`` (a view: the verbs it defines).
            name: The route's name for ``url_for``; default: the function's name.
            status: The status of a successful response, e.g. 201.
        """
        from oakling.views import View, view_handlers

        if isinstance(handler, type) and issubclass(handler, View):
            default_name = name or handler.__name__
            for method, view_fn in view_handlers(handler, methods):
                self._register(RouteDef(path, view_fn, (method,), default_name, status))
            return
        if not callable(handler):
            raise ConfigurationError(f"Handler for {path!r} is not callable: {handler!r}")
        verbs = tuple(m.upper() for m in (methods or ("GET",)))
        unknown = [m for m in verbs if m not in HTTP_METHODS]
        if unknown:
            raise ConfigurationError(f"Unknown HTTP method(s) {unknown} for route {path!r}")
        route_name = name or getattr(handler, "__name__", None) or path
        self._register(RouteDef(path, handler, verbs, route_name, status))
        with contextlib.suppress(AttributeError, TypeError):
            # NOTE: lets @guard (and @login_required...) refuse to be put above the route.
            handler.__oakling_routed__ = True  # type: ignore[union-attr]

    def route(
        self,
        path: str,
        methods: list[str] | tuple[str, ...] | None = None,
        *,
        name: str | None = None,
        status: int = 200,
    ) -> Callable[[F], F]:
        """Register the decorated function (or ``View`` class) for ``path``."""

        def decorator(handler: F) -> F:
            self.add_route(path, handler, methods, name=name, status=status)
            return handler

        return decorator

    def get(self, path: str, *, name: str | None = None, status: int = 200) -> Callable[[F], F]:
        """Register the decorated function for ``GET path`` (HEAD is answered too)."""
        return self.route(path, ["GET"], name=name, status=status)

    def post(self, path: str, *, name: str | None = None, status: int = 200) -> Callable[[F], F]:
        """Register the decorated function for ``POST path``."""
        return self.route(path, ["POST"], name=name, status=status)

    def put(self, path: str, *, name: str | None = None, status: int = 200) -> Callable[[F], F]:
        """Register the decorated function for ``PUT path``."""
        return self.route(path, ["PUT"], name=name, status=status)

    def patch(self, path: str, *, name: str | None = None, status: int = 200) -> Callable[[F], F]:
        """Register the decorated function for ``PATCH path``."""
        return self.route(path, ["PATCH"], name=name, status=status)

    def delete(self, path: str, *, name: str | None = None, status: int = 200) -> Callable[[F], F]:
        """Register the decorated function for ``DELETE path``."""
        return self.route(path, ["DELETE"], name=name, status=status)

    def websocket(self, path: str, *, name: str | None = None) -> Callable[[F], F]:
        """Register the decorated async function as a websocket route (ASGI only)."""

        def decorator(handler: F) -> F:
            if not inspect.iscoroutinefunction(handler):
                raise ConfigurationError(
                    f"Websocket handler {handler.__qualname__} must be an async function"
                )
            route_name = name or handler.__name__
            self._register(RouteDef(path, handler, ("GET",), route_name, websocket=True))
            return handler

        return decorator

    # -- hooks ---------------------------------------------------------------------------

    def before_request(self, fn: F) -> F:
        """Run ``fn(request)`` before each handler; a non-None result is the response."""
        self.before_request_funcs.append(fn)
        self._changed()
        return fn

    def after_request(self, fn: F) -> F:
        """Run ``fn(request, response)`` after each handler; it may return a new response."""
        self.after_request_funcs.append(fn)
        self._changed()
        return fn

    def teardown_request(self, fn: F) -> F:
        """Run ``fn(request, exc)`` at the end of every request, even a failed one."""
        self.teardown_request_funcs.append(fn)
        self._changed()
        return fn

    def errorhandler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Handle an exception class or an HTTP status with ``fn(request, exc)``.

        The handler returns anything a route handler may return.
        """
        if not (isinstance(key, int) or (isinstance(key, type) and issubclass(key, BaseException))):
            raise ConfigurationError(
                f"errorhandler() takes a status code or an exception class, not {key!r}"
            )

        def decorator(fn: F) -> F:
            self.error_handlers[key] = fn
            self._changed()
            return fn

        return decorator

    # -- templates (oakling.web.templating) ----------------------------------------------

    @overload
    def template_filter(self, name: F) -> F: ...
    @overload
    def template_filter(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_filter(self, name: str | F | None = None) -> Any:
        """Register the decorated function as a Jinja2 filter (``{{ x|name }}``).

        Use as ``@app.template_filter`` or ``@app.template_filter("name")``; the
        default name is the function's. A component's filters are available in
        every template of the app. Register them at import time (a later one makes
        the app rebuild its template environment).
        """
        return self._template_registration(self.template_filters, name)

    @overload
    def template_global(self, name: F) -> F: ...
    @overload
    def template_global(self, name: str | None = None) -> Callable[[F], F]: ...
    def template_global(self, name: str | F | None = None) -> Any:
        """Register the decorated function as a Jinja2 global (``{{ name() }}``).

        Use as ``@app.template_global`` or ``@app.template_global("name")``.
        """
        return self._template_registration(self.template_globals, name)

    def _template_registration(self, table: dict[str, Any], name: Any) -> Any:
        if callable(name):
            table[name.__name__] = name
            self._changed()
            return name

        def decorator(fn: F) -> F:
            table[name or fn.__name__] = fn
            self._changed()
            return fn

        return decorator

    def _folder(self, folder: str | os.PathLike[str]) -> str:
        """Return ``folder`` made absolute against ``root_path``."""
        return os.path.normpath(os.path.join(self.root_path, os.fspath(folder)))


_OWN_MODULES = frozenset({"oakling.scaffold", "oakling.app", "oakling.component"})


def _caller_folder() -> str:
    # NOTE: the first frame outside oakling's own App/Component code is the module that
    # created the object (or defined its subclass): Flask asks for import_name instead.
    get_frame = getattr(sys, "_getframe", None)
    frame = get_frame(1) if get_frame is not None else None
    while frame is not None and frame.f_globals.get("__name__") in _OWN_MODULES:
        frame = frame.f_back
    file = frame.f_globals.get("__file__") if frame is not None else None
    return os.path.dirname(os.path.abspath(file)) if file else os.getcwd()
