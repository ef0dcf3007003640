"""API conventions: ``Accept`` negotiation (406), problem+json errors, ``201 Created``.

``api_conventions(component)`` opts a Component (or the whole app) in: its
routes answer 406 when the ``Accept`` header allows none of the media types they
send, and their errors are always problem+json, whatever a browser asks for.
Routes that do not opt in pay nothing. The 415 for a body in an unsupported
``Content-Type`` is the core's, on every route that reads a body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from oakling.errors import error_response
from oakling.exceptions import ConfigurationError, HTTPError, NotAcceptable, ValidationError
from oakling.http.response import JSONResponse

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from oakling.http.request import Request
    from oakling.http.response import Response
    from oakling.scaffold import Scaffold

__all__ = ("Created", "acceptable", "api_conventions", "created", "negotiates")

T = TypeVar("T")
_ATTR = "__oakling_api_conventions__"


class Created(JSONResponse, Generic[T]):
    """A ``201 Created`` JSON response with a ``Location`` header.

    Annotate the handler with ``-> Created[ItemOut]``: the OpenAPI document then
    shows a 201 with the ``ItemOut`` schema and the ``Location`` header.

    Args:
        content: The new resource (anything JSON-encodable).
        location: Its URL, e.g. ``request.url_for("items.get", id=item.id)``.
        headers: More headers.
    """

    def __init__(self, content: T, location: str, headers: Mapping[str, str] | None = None) -> None:
        if not location or any(c in location for c in "\r\n\x00"):
            raise ValueError(f"Created: {location!r} is not a usable Location")
        super().__init__(content, 201, {"Location": str(location), **(headers or {})})


def created(content: T, location: str, *, headers: Mapping[str, str] | None = None) -> Created[T]:
    """Return ``content`` as a 201 response whose ``Location`` is ``location``."""
    return Created(content, location, headers)


def acceptable(accept: str | None, offered: Sequence[str]) -> str | None:
    """Return the first of ``offered`` that the ``Accept`` header allows, else ``None``.

    No header (or an empty one) allows anything; ``q=0`` refuses a range;
    ``type/*`` and ``*/*`` match as in RFC 9110 §12.5.1. The most specific
    matching range decides each offer's quality.
    """
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media, *params = part.split(";")
        kind, _, sub = media.strip().lower().partition("/")
        if not kind:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((kind, sub or "*", quality))
    best: tuple[float, str] | None = None
    for offer in offered:
        kind, _, sub = offer.lower().partition("/")
        quality = _quality(kind, sub, ranges)
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, offer)
    return best[1] if best else None


def _quality(kind: str, sub: str, ranges: list[tuple[str, str, float]]) -> float:
    found, specificity = 0.0, -1
    for r_kind, r_sub, quality in ranges:
        if r_kind == kind and r_sub == sub:
            level = 2
        elif r_kind == kind and r_sub == "*":
            level = 1
        elif r_kind == "*" and r_sub == "*":
            level = 0
        else:
            continue
        if level > specificity:
            found, specificity = quality, level
    return found


def api_conventions(
    scaffold: Scaffold, *, media_types: Sequence[str] = ("application/json",)
) -> None:
    """Make ``scaffold``'s routes API routes: 406 on a refusing ``Accept``, errors as problem+json.

    Args:
        scaffold: A Component (or the App: then every route).
        media_types: What these routes send; an ``Accept`` header that allows none
            of them (nor ``application/problem+json``) gets a 406 listing them.

    Raises:
        ConfigurationError: ``media_types`` is empty, or the conventions are already on.
    """
    offered = tuple(media_types)
    if not offered:
        raise ConfigurationError("api_conventions() needs at least one media type")
    if getattr(scaffold, _ATTR, None) is not None:
        raise ConfigurationError(f"api_conventions() was already applied to {scaffold!r}")
    setattr(scaffold, _ATTR, offered)
    scaffold.before_request(_accept_check(offered))
    if HTTPError not in scaffold.error_handlers:
        scaffold.errorhandler(HTTPError)(_problem)
    if 500 not in scaffold.error_handlers:
        scaffold.errorhandler(500)(_server_error)


def negotiates(scaffold: object) -> bool:
    """Whether ``api_conventions`` was applied to ``scaffold``."""
    return getattr(scaffold, _ATTR, None) is not None


def _accept_check(offered: tuple[str, ...]) -> Callable[[Request], None]:
    listed = ", ".join(offered)
    with_problem = (*offered, "application/problem+json")

    def check_accept(request: Request) -> None:
        accept = request.header("accept")
        # NOTE: the common cases (no header, */*, or JSON named) decide without parsing.
        if accept is None or (
            "q=" not in accept and ("*/*" in accept or any(o in accept for o in offered))
        ):
            return
        if acceptable(accept, with_problem) is None:
            raise NotAcceptable(
                f"This endpoint sends {listed}; the Accept header {accept[:200]!r} "
                "allows none of them"
            )

    return check_accept


def _problem(request: Request, exc: HTTPError) -> Response:
    return error_response(
        exc.status_code,
        exc.detail,
        headers=exc.headers,
        errors=exc.errors if isinstance(exc, ValidationError) else None,
        request_id=request.request_id,
    )


def _server_error(request: Request, exc: BaseException) -> Response:
    if isinstance(exc, HTTPError):  # an explicit HTTPError(500): not a crash
        return _problem(request, exc)
    from oakling._internal.dispatch import log_unhandled

    log_unhandled(request, exc)
    rid = request.request_id
    debug = bool(getattr(request.app, "debug", False))
    return error_response(
        500,
        "The server hit an unexpected error; it has been logged"
        + (f" with request id {rid}" if rid else "")
        + ".",
        request_id=rid,
        exc=exc if debug else None,
    )
