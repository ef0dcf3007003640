"""A route's handler, compiled once: its injection plan, hooks and response conversion."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oakling.http.response import (
    HTMLResponse,
    JSONResponse,
    Response,
    json_encode,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from oakling._internal.injection import Dependant
    from oakling.component import Component

__all__ = ("Endpoint", "Hooks", "to_response")


@dataclass(slots=True)
class Hooks:
    """Request hooks and error handlers that apply to an endpoint, app's last."""

    before: list[Callable[..., Any]] = field(default_factory=list)
    after: list[Callable[..., Any]] = field(default_factory=list)
    teardown: list[Callable[..., Any]] = field(default_factory=list)
    error_handlers: list[dict[Any, Callable[..., Any]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is no hook at all (the fast path)."""
        return not (self.before or self.after or self.teardown)


@dataclass(slots=True)
class Endpoint:
    """One handler for one route and method."""

    handler: Callable[..., Any]
    dependant: Dependant
    name: str
    path: str
    status: int = 200
    components: tuple[Component, ...] = ()
    websocket: bool = False
    hooks: Hooks = field(default_factory=Hooks)
    reads_body_for_request: bool = False
    """A sync handler takes ``Request``: its body is read before the handler runs."""
    fast: bool = False
    """Async, no hooks, no dependencies, no body: served by the app's shortest path."""
    fast_sync: bool = False
    """The same for a sync handler: served by the WSGI adapter's shortest path."""

    @property
    def is_async(self) -> bool:
        """Whether the handler is a coroutine function."""
        return self.dependant.is_async

    def to_response(self, result: Any) -> Response:
        """Turn the handler's return value into a response."""
        return to_response(result, self.status)


_OCTET = "application/octet-stream"


def to_response(result: Any, status: int = 200) -> Response:
    """Turn a handler's return value into a ``Response``.

    ``Response`` as is; ``str`` → HTML; ``bytes`` → octet-stream; ``None`` → 204
    (or ``status`` when the route sets one); ``(body, status)`` and ``(body, status,
    headers)`` tuples; anything else (dict, list, Struct, dataclass...) → JSON.
    """
    kind = type(result)
    if kind is dict or kind is list:
        return _json(json_encode(result), status)
    if isinstance(result, Response):
        return result
    if isinstance(result, str):
        return HTMLResponse(result, status)
    if result is None:
        return Response(None, 204 if status == 200 else status)
    if kind is tuple:
        return _from_tuple(result)
    if isinstance(result, bytes):
        return Response(result, status, media_type=_OCTET)
    try:
        body = json_encode(result)
    except TypeError as exc:
        raise TypeError(
            f"Cannot turn a handler's return value of type {kind.__name__} into a response: "
            f"{exc}. Return a Response, str, bytes, None, or a JSON-encodable value."
        ) from None
    return _json(body, status)


def _from_tuple(result: tuple[Any, ...]) -> Response:
    if len(result) not in (2, 3) or not isinstance(result[1], int):
        raise TypeError(
            "A handler returning a tuple must return (body, status) or (body, status, headers)"
        )
    body = result[0]
    if isinstance(body, Response):
        # NOTE: a copy: the returned response may be a shared object.
        body = copy.copy(body)
        body.raw_headers = list(body.raw_headers)
    # NOTE: an explicit (None, 200) is an empty 200, not the 204 a bare None means.
    response = Response(b"", result[1]) if body is None else to_response(body, result[1])
    response.status_code = result[1]
    if len(result) == 3:
        headers: Mapping[str, str] = result[2]
        mutable = response.headers
        for key, value in headers.items():
            mutable[key] = value
    return response


def _json(body: bytes, status: int) -> Response:
    # NOTE: skips Response.__init__ (render + header building): this is the hot path.
    response = JSONResponse.__new__(JSONResponse)
    response.status_code = status
    response.body = body
    response.raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return response
