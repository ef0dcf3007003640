"""CORS: answer preflights and add ``Access-Control-*`` headers for explicit origins.

::

    app.add_middleware(
        CORSMiddleware,
        config=CORSConfig(allow_origins=["https://app.example.org"], allow_credentials=True),
    )

The configuration is checked when it is made (``"*"`` with credentials is refused).
A request without an ``Origin`` header costs one header scan. The middleware runs
natively under both ASGI and WSGI (``wrap_wsgi``): under WSGI it keeps the app on
the fast sync path instead of the ASGI bridge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from oakling._types import (
        ASGIApp,
        Message,
        Receive,
        Scope,
        Send,
        StartResponse,
        WSGIApp,
        WSGIEnviron,
    )

__all__ = ("CORSConfig", "CORSMiddleware")

_ORIGIN = re.compile(r"^(https?)://[a-z0-9.\-\[\]:]+$|^null$")
_SAFELISTED = frozenset({"accept", "accept-language", "content-language", "content-type"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "QUERY"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True, slots=True)
class CORSConfig:
    """Which cross-origin requests browsers may make; checked when made.

    Args:
        allow_origins: Origins allowed, each ``scheme://host[:port]`` exactly as
            browsers send it (``"https://app.example.org"``), or ``["*"]`` for any
            origin (without credentials only).
        allow_methods: Methods a preflight may ask for; ``["*"]`` allows any.
        allow_headers: Request headers a preflight may ask for (the CORS-safelisted
            ones are always allowed); ``["*"]`` allows any.
        expose_headers: Response headers scripts may read.
        allow_credentials: Let browsers send cookies and ``Authorization``.
        max_age: Seconds a browser may cache a preflight answer.

    Raises:
        ConfigurationError: An origin is malformed, ``"*"`` is combined with
            credentials, or a method/header name is invalid.
    """

    allow_origins: Sequence[str] = ()
    allow_methods: Sequence[str] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    allow_headers: Sequence[str] = ()
    expose_headers: Sequence[str] = ()
    allow_credentials: bool = False
    max_age: int = 600
    _policy: _Policy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("allow_origins", "allow_methods", "allow_headers", "expose_headers"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ConfigurationError(f"CORSConfig({name}=...) takes a list, e.g. [{value!r}]")
        origins = _check_origins(self.allow_origins, self.allow_credentials)
        methods = [m.strip().upper() for m in self.allow_methods]
        for method in methods:
            if method != "*" and method not in _METHODS:
                raise ConfigurationError(f"CORSConfig: unknown method {method!r} in allow_methods")
        for header in (*self.allow_headers, *self.expose_headers):
            if header != "*" and not _TOKEN.match(header):
                raise ConfigurationError(f"CORSConfig: {header!r} is not a header name")
        if "*" in self.expose_headers and self.allow_credentials:
            raise ConfigurationError(
                "CORSConfig: expose_headers=['*'] means a header literally named '*' when "
                "credentials are allowed; list the headers to expose"
            )
        if not isinstance(self.max_age, int) or self.max_age < 0:
            raise ConfigurationError(
                f"CORSConfig: max_age must be seconds >= 0, not {self.max_age!r}"
            )
        object.__setattr__(self, "_policy", _Policy(self, origins, methods))


def _check_origins(allow_origins: Sequence[str], credentials: bool) -> list[str]:
    origins = [o.strip().lower() for o in allow_origins]
    if "*" in origins:
        if credentials:
            raise ConfigurationError(
                "CORSConfig: allow_origins=['*'] cannot be combined with "
                "allow_credentials=True (browsers refuse it, and it would let every site "
                "act with your users' cookies); list the trusted origins explicitly"
            )
        if len(origins) > 1:
            raise ConfigurationError("CORSConfig: '*' must be the only entry of allow_origins")
        return origins
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigurationError(
                f"CORSConfig: origin {origin!r} must be scheme://host[:port] with no "
                "path or trailing slash, e.g. 'https://app.example.org'"
            )
    return origins


class _Policy:
    """The configuration compiled into lookups and ready-made header lists."""

    def __init__(self, config: CORSConfig, origins: list[str], methods: list[str]) -> None:
        self.any_origin = origins == ["*"]
        self.origins = frozenset(origins)
        self.credentials = config.allow_credentials
        self.any_method = "*" in methods
        self.methods = frozenset(methods)
        self.any_header = "*" in config.allow_headers
        self.headers = frozenset(h.lower() for h in config.allow_headers) | _SAFELISTED
        # NOTE: with a fixed "*" answer the response does not depend on Origin; else it does,
        # even for requests without one (a shared cache must not serve those to others).
        self.vary = not (self.any_origin and not self.credentials)
        common: list[tuple[str, str]] = []
        if self.credentials:
            common.append(("Access-Control-Allow-Credentials", "true"))
        self.simple = list(common)
        if config.expose_headers:
            self.simple.append(("Access-Control-Expose-Headers", ", ".join(config.expose_headers)))
        self.preflight = [*common, ("Access-Control-Max-Age", str(config.max_age))]
        self.methods_value = ", ".join(m for m in methods if m != "*")
        self.preflight_vary = (
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        )

    def allows(self, origin: str) -> bool:
        return self.any_origin or origin.lower() in self.origins

    def allow_origin_value(self, origin: str) -> str:
        return "*" if self.any_origin and not self.credentials else origin

    def simple_headers(self, origin: str) -> list[tuple[str, str]] | None:
        """The headers for an actual request from ``origin`` (``None``: not allowed)."""
        if not self.allows(origin):
            return None
        return [("Access-Control-Allow-Origin", self.allow_origin_value(origin)), *self.simple]

    def answer_preflight(
        self, origin: str, method: str, requested: str | None
    ) -> tuple[int, list[tuple[str, str]], str]:
        """Return the status, headers and body text of the answer to a preflight."""
        vary = [("Vary", self.preflight_vary)]
        if not self.allows(origin):
            return 403, vary, f"CORS preflight refused: origin {origin[:200]!r} is not allowed"
        method = method.strip().upper()
        if not (self.any_method or method in self.methods):
            return (
                403,
                vary,
                (
                    f"CORS preflight refused: method {method[:20]!r} is not allowed "
                    f"(allowed: {self.methods_value})"
                ),
            )
        names = [h.strip().lower() for h in (requested or "").split(",") if h.strip()]
        refused = [h for h in names if h not in self.headers]
        if refused and not self.any_header:
            return (
                403,
                vary,
                (f"CORS preflight refused: header(s) {', '.join(refused)[:200]} not allowed"),
            )
        headers = [
            ("Access-Control-Allow-Origin", self.allow_origin_value(origin)),
            ("Access-Control-Allow-Methods", method if self.any_method else self.methods_value),
            *self.preflight,
            *vary,
        ]
        if names:
            headers.append(("Access-Control-Allow-Headers", ", ".join(names)))
        return 204, headers, ""


def _problem(status: int, detail: str) -> bytes:
    from oakling.errors import error_response

    return error_response(status, detail).body


class CORSMiddleware:
    """ASGI middleware applying a ``CORSConfig``; ``wrap_wsgi`` is its WSGI twin.

    Args:
        app: The ASGI app to wrap.
        config: The CORS configuration.
    """

    def __init__(self, app: ASGIApp, *, config: CORSConfig) -> None:
        if not isinstance(config, CORSConfig):
            raise ConfigurationError("CORSMiddleware(config=...) takes a CORSConfig")
        self.app = app
        self.policy = config._policy
        self._vary = (b"vary", b"Origin")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = requested_method = requested_headers = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value.decode("latin-1")
            elif key == b"access-control-request-method":
                requested_method = value.decode("latin-1")
            elif key == b"access-control-request-headers":
                requested_headers = value.decode("latin-1")
        policy = self.policy
        if origin is None:
            if not policy.vary:
                await self.app(scope, receive, send)
                return
            await self.app(scope, receive, _with_headers(send, [self._vary]))
            return
        if scope["method"] == "OPTIONS" and requested_method is not None:
            status, headers, text = policy.answer_preflight(
                origin, requested_method, requested_headers
            )
            await _send_answer(send, status, headers, text)
            return
        extra = policy.simple_headers(origin) or []
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
        if policy.vary:
            raw.append(self._vary)
        await self.app(scope, receive, _with_headers(send, raw))

    @staticmethod
    def wrap_wsgi(app: WSGIApp, *, config: CORSConfig) -> WSGIApp:
        """Return ``app`` (a WSGI callable) with the same CORS behaviour."""
        policy = config._policy

        def cors(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
            origin = environ.get("HTTP_ORIGIN")
            if origin is None:
                if not policy.vary:
                    return app(environ, start_response)
                return app(environ, _adding(start_response, [("Vary", "Origin")]))
            requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
            if environ.get("REQUEST_METHOD") == "OPTIONS" and requested is not None:
                status, headers, text = policy.answer_preflight(
                    origin, requested, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
                )
                return _wsgi_answer(start_response, status, headers, text)
            extra = policy.simple_headers(origin) or []
            if policy.vary:
                extra.append(("Vary", "Origin"))
            return app(environ, _adding(start_response, extra))

        return cors


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return sending


async def _send_answer(send: Send, status: int, headers: list[tuple[str, str]], text: str) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    body = b""
    if text:
        body = _problem(status, text)
        raw += [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
        ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _adding(start_response: StartResponse, extra: list[tuple[str, str]]) -> StartResponse:
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        headers.extend(extra)
        return start_response(status, headers, exc_info)

    return start


def _wsgi_answer(
    start_response: StartResponse, status: int, headers: list[tuple[str, str]], text: str
) -> list[bytes]:
    from oakling.http.response import status_line

    body = b""
    if text:
        body = _problem(status, text)
        headers = [
            *headers,
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
        ]
    start_response(status_line(status), headers)
    return [body]
