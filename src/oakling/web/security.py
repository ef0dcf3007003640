"""Security headers, Content-Security-Policy nonces and the redirect to HTTPS.

Every response the app sends gets, by default::

    X-Content-Type-Options: nosniff
    X-Frame-Options: DENY
    Referrer-Policy: same-origin
    Cross-Origin-Opener-Policy: same-origin
    Strict-Transport-Security: max-age=31536000     (HTTPS responses, outside debug)

plus ``Content-Security-Policy`` when ``OAKLING_CONTENT_SECURITY_POLICY`` is set. The
headers are encoded once, at start-up, and appended to each response as they are;
a header the response already has is left alone. Tune them with settings, or for
one route with ``@security_headers(x_frame_options="SAMEORIGIN")``.

A policy may hold ``{nonce}``: ``csp_nonce(request)`` makes a random nonce for the
response and the placeholder becomes ``'nonce-...'`` (it is dropped on responses
that made none), e.g. ``script-src 'self' {nonce}`` with
``<script nonce="{{ csp_nonce(request) }}">``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from oakling._types import Scope
    from oakling.config import Settings
    from oakling.http.request import Request

__all__ = ("SecurityHeaders", "csp_nonce", "security_headers")

F = TypeVar("F", bound="Callable[..., Any]")
RawHeader = tuple[bytes, bytes]

_MARK = "__oakling_security_headers__"
_SCOPE_NONCE = "oakling.csp_nonce"
_NONCE = "{nonce}"
# Setting (and decorator keyword) -> header name.
_HEADERS = {
    "x_content_type_options": "X-Content-Type-Options",
    "x_frame_options": "X-Frame-Options",
    "referrer_policy": "Referrer-Policy",
    "cross_origin_opener_policy": "Cross-Origin-Opener-Policy",
    "content_security_policy": "Content-Security-Policy",
    "content_security_policy_report_only": "Content-Security-Policy-Report-Only",
}
_HSTS = b"strict-transport-security"


def csp_nonce(request: Request) -> str:
    """Return this response's Content-Security-Policy nonce (made on first call).

    Use it as ``<script nonce="...">``; the policy's ``{nonce}`` placeholder
    becomes ``'nonce-<value>'`` in this response's header.
    """
    nonce: str | None = request.scope.get(_SCOPE_NONCE)
    if nonce is None:
        import secrets

        nonce = request.scope[_SCOPE_NONCE] = secrets.token_urlsafe(18)
    return nonce


def security_headers(**overrides: str | None) -> Callable[[F], F]:
    """Change the security headers of one route; ``None`` (or ``""``) drops one.

    Keywords: ``x_frame_options``, ``referrer_policy``, ``cross_origin_opener_policy``,
    ``content_security_policy``, ``content_security_policy_report_only``,
    ``x_content_type_options``, e.g. ``@security_headers(x_frame_options="SAMEORIGIN")``
    for a page meant to be framed by the site itself.

    Raises:
        ConfigurationError: An unknown keyword, or a value with a line break.
    """
    unknown = set(overrides) - set(_HEADERS)
    if unknown:
        raise ConfigurationError(
            f"security_headers() got unknown header(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_HEADERS))}"
        )
    for key, value in overrides.items():
        _check_value(key, value)

    def decorate(handler: F) -> F:
        setattr(handler, _MARK, {**getattr(handler, _MARK, {}), **overrides})
        return handler

    return decorate


def overrides_of(handler: Callable[..., Any]) -> dict[str, str | None] | None:
    """The ``@security_headers`` overrides of a route's handler, if any."""
    found: dict[str, str | None] | None = getattr(handler, _MARK, None)
    return found


def _check_value(name: str, value: str | None) -> None:
    if value and (any(c in value for c in "\r\n\x00") or not value.isascii()):
        raise ConfigurationError(
            f"{name}: a header value must be printable ASCII on one line, got {value[:60]!r}"
        )


def values_from(settings: Settings) -> dict[str, str | None]:
    """The header values the settings ask for, by keyword (``None``: not sent)."""
    return {
        "x_content_type_options": "nosniff" if settings.secure_content_type_nosniff else None,
        "x_frame_options": settings.x_frame_options or None,
        "referrer_policy": settings.secure_referrer_policy or None,
        "cross_origin_opener_policy": settings.secure_cross_origin_opener_policy or None,
        "content_security_policy": settings.content_security_policy or None,
        "content_security_policy_report_only": (
            settings.content_security_policy_report_only or None
        ),
    }


def hsts_value(settings: Settings) -> str | None:
    """The ``Strict-Transport-Security`` value, or ``None`` when off (or in debug)."""
    if settings.secure_hsts_seconds <= 0 or settings.debug:
        return None
    value = f"max-age={settings.secure_hsts_seconds}"
    if settings.secure_hsts_include_subdomains:
        value += "; includeSubDomains"
    if settings.secure_hsts_preload:
        value += "; preload"
    return value


class SecurityHeaders:
    """The security headers of a set of routes, encoded once.

    ``http`` and ``https`` are the ready header tuples (ASGI, bytes); ``wsgi_http``
    and ``wsgi_https`` the same as ``str`` pairs. Policies with ``{nonce}`` are
    kept apart in ``templates``: ``for_scope`` fills them per response.

    Args:
        settings: The app's settings.
        overrides: A route's ``@security_headers`` keywords.
    """

    __slots__ = ("dynamic", "http", "https", "names", "templates", "wsgi_http", "wsgi_https")

    def __init__(self, settings: Settings, overrides: dict[str, str | None] | None = None) -> None:
        values = {**values_from(settings), **(overrides or {})}
        static: list[RawHeader] = []
        templates: list[tuple[bytes, str]] = []
        for key, value in values.items():
            if not value:
                continue
            name = _HEADERS[key].lower().encode("latin-1")
            if _NONCE in value:
                templates.append((name, value))
            else:
                static.append((name, value.encode("latin-1")))
        self.http: tuple[RawHeader, ...] = tuple(static)
        hsts = hsts_value(settings)
        self.https = self.http + (((_HSTS, hsts.encode("latin-1")),) if hsts else ())
        self.templates = tuple(templates)
        self.wsgi_http = _as_str(self.http)
        self.wsgi_https = _as_str(self.https)
        self.dynamic = bool(hsts or self.templates)
        """Whether the headers depend on the request (HSTS on HTTPS, CSP nonces)."""
        self.names = frozenset(name for name, _ in self.https + self.templates)
        """The (lower-case) names of the headers added."""

    @staticmethod
    def merge(
        response_headers: list[RawHeader], extra: tuple[RawHeader, ...]
    ) -> tuple[RawHeader, ...]:
        """``extra`` without the headers the response already sets itself."""
        present = {name for name, _ in response_headers}
        return tuple(header for header in extra if header[0] not in present)

    @staticmethod
    def merge_wsgi(
        response_headers: list[tuple[str, str]], extra: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[str, str], ...]:
        """``merge`` for WSGI's ``str`` pairs (names in any case)."""
        present = {name.lower() for name, _ in response_headers}
        return tuple(header for header in extra if header[0].lower() not in present)

    def for_scope(self, scope: Scope, https: bool) -> tuple[RawHeader, ...]:
        """The headers for one response, nonce placeholders filled."""
        base = self.https if https else self.http
        if not self.templates:
            return base
        nonce = scope.get(_SCOPE_NONCE)
        filled = tuple(
            (name, _fill(template, nonce).encode("latin-1")) for name, template in self.templates
        )
        return base + filled


def _fill(template: str, nonce: str | None) -> str:
    if nonce is not None:
        return template.replace(_NONCE, f"'nonce-{nonce}'")
    return " ".join(template.replace(_NONCE, "").split()).replace(" ;", ";")


def _as_str(headers: tuple[RawHeader, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)


def https_redirect(scope: Scope, exempt: tuple[str, ...]) -> Any:
    """The 301 to the ``https://`` URL of an ``http://`` request, or ``None`` if exempt.

    Call it only after the Host header was validated: the redirect uses it.
    """
    from oakling.http.request import Request
    from oakling.http.response import RedirectResponse

    request = Request(scope)
    path = request.path
    if any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in exempt):
        return None
    raw = scope.get("raw_path") or path.encode("utf-8")
    location = f"https://{request.host}{raw.decode('latin-1')}"
    query = scope.get("query_string", b"")
    if query:
        location += "?" + query.decode("latin-1")
    return RedirectResponse(location, 301)
