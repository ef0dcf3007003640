"""oakling's exceptions.

* OaklingError
  x ConfigurationError(ValueError)     raised at start-up, never per request
  x MissingDependency(ImportError)     an optional extra is not installed
  x NoRouteFound(LookupError)          url_for() failed
  x ClientDisconnected(ConnectionError)
  x HTTPError                          turned into a response by the app
    + BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404,
      MethodNotAllowed 405, NotAcceptable 406, Conflict 409,
      PayloadTooLarge 413, UnsupportedMediaType 415,
      RequestedRangeNotSatisfiable 416, ValidationError 422,
      TooManyRequests 429, ServiceUnavailable 503
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = (
    "BadRequest",
    "ClientDisconnected",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "HTTPError",
    "MethodNotAllowed",
    "MissingDependency",
    "NoRouteFound",
    "NotAcceptable",
    "NotFound",
    "OaklingError",
    "PayloadTooLarge",
    "RequestedRangeNotSatisfiable",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "as_http_error",
    "register_http_translation",
    "status_phrase",
)


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def status_phrase(status_code: int) -> str:
    """Return the reason phrase of ``status_code`` ("Error" when unknown)."""
    return _PHRASES.get(status_code, "Error")


class OaklingError(Exception):
    """Base class of every error oakling raises."""


class ConfigurationError(OaklingError, ValueError):
    """The app or its settings are configured wrongly; raised at start-up."""


class MissingDependency(OaklingError, ImportError):
    """An optional package is needed but not installed."""

    def __init__(self, package: str, *, extra: str | None = None) -> None:
        self.package = package
        self.extra = extra
        hint = f"pip install 'oakling[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"The package {package!r} is required for this feature: {hint}")


class NoRouteFound(OaklingError, LookupError):
    """``url_for`` found no route with that name, or the params do not fit it."""


class ClientDisconnected(OaklingError, ConnectionError):
    """The client went away before the request or response was complete."""


class HTTPError(OaklingError):
    """An error that becomes an HTTP response with ``status_code``.

    Args:
        status_code: The HTTP status of the response.
        detail: A message for the client; defaults to the status phrase.
        headers: Extra response headers, e.g. ``Retry-After``.
    """

    def __init__(
        self,
        status_code: int,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail or status_phrase(status_code)
        self.headers = dict(headers or {})
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, {self.detail!r})"


class BadRequest(HTTPError, ValueError):
    """400: the request could not be understood."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(400, detail, **kw)


class Unauthorized(HTTPError):
    """401: authentication is required."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(401, detail, **kw)


class Forbidden(HTTPError, PermissionError):
    """403: the client may not do this."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(403, detail, **kw)


class NotFound(HTTPError, LookupError):
    """404: nothing here."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(404, detail, **kw)


class MethodNotAllowed(HTTPError):
    """405: the path exists but not for this method; lists the allowed ones."""

    def __init__(self, allowed: Iterable[str], detail: str | None = None, **kw: Any) -> None:
        self.allowed = sorted(set(allowed))
        allow = ", ".join(self.allowed)
        headers = {"Allow": allow, **kw.pop("headers", {})}
        super().__init__(405, detail or f"Method not allowed; use one of: {allow}", headers=headers)


class NotAcceptable(HTTPError):
    """406: no representation matches the Accept header."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(406, detail, **kw)


class Conflict(HTTPError):
    """409: the request conflicts with the current state."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(409, detail, **kw)


class PayloadTooLarge(HTTPError):
    """413: the body, or a part of it, is over a limit."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(413, detail, **kw)


class UnsupportedMediaType(HTTPError):
    """415: the body's Content-Type is not one this route reads."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        super().__init__(415, detail, **kw)


class RequestedRangeNotSatisfiable(HTTPError):
    """416: the Range header asks for bytes outside the file."""

    def __init__(self, size: int, detail: str | None = None, **kw: Any) -> None:
        headers = {"Content-Range": f"bytes */{size}", **kw.pop("headers", {})}
        super().__init__(416, detail, headers=headers)


class ValidationError(HTTPError, ValueError):
    """422: input had the right syntax but wrong values; lists every error.

    Each error is a dict with ``loc`` (e.g. ``["query", "limit"]``), ``msg`` and ``type``.
    """

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None) -> None:
        self.errors = errors
        super().__init__(422, detail or _summarise(errors))


def _summarise(errors: list[dict[str, Any]]) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "Invalid input: " + "; ".join(parts) + more


class TooManyRequests(HTTPError):
    """429: slow down; ``retry_after`` seconds is sent as ``Retry-After``."""

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(429, detail, headers=headers)


class ServiceUnavailable(HTTPError):
    """503: a dependency is down; ``retry_after`` seconds is sent as ``Retry-After``."""

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(503, detail, headers=headers)


_TRANSLATIONS: dict[type[BaseException], Callable[[Any], HTTPError | None]] = {}


def register_http_translation(
    exc_type: type[BaseException], translate: Callable[[Any], HTTPError | None]
) -> None:
    """Turn ``exc_type`` errors that no error handler catches into an ``HTTPError``.

    A battery that knows what a library's exception means for the client registers
    it here (the data layer maps a unique-constraint violation to 409 and an
    unreachable database to 503). ``translate`` may return ``None`` to leave the
    error alone (a 500). An ``errorhandler`` for the exception's class still wins.
    """
    _TRANSLATIONS[exc_type] = translate


def as_http_error(exc: BaseException) -> HTTPError | None:
    """The ``HTTPError`` a registered translation makes of ``exc``, or ``None``."""
    if not _TRANSLATIONS or isinstance(exc, HTTPError):
        return None
    for cls in type(exc).__mro__:
        translate = _TRANSLATIONS.get(cls)
        if translate is not None:
            translated = translate(exc)
            if translated is not None:
                translated.__cause__ = exc
            return translated
    return None
