"""Registration shared by ``App`` and ``Component``: routes, hooks, error handlers."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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
