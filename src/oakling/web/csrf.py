"""CSRF protection: a per-session secret, masked tokens, Origin and Referer checks.

The check runs before the handler (and its hooks) for every unsafe request
(POST, PUT, PATCH, DELETE...) that carries the session cookie, since only those
can ride on a logged-in browser. It passes when:

1. the request sends ``Authorization: Bearer ...`` (a token API: browsers never add
   that header to a cross-site request), or the route is ``@exempt``;
2. an ``Origin`` header, when present, is the site's own origin or a trusted one
   (``OAKLING_CSRF_TRUSTED_ORIGINS``); over HTTPS, without ``Origin``, the
   ``Referer`` must be such an HTTPS URL;
3. the ``csrf_token`` form field or the ``X-CSRF-Token`` header holds a token made
   by ``csrf_token(request)`` for this session.

Otherwise the answer is a 403 (``CSRFError``) saying which rule failed. Tokens are
masked with a fresh random pad each time (BREACH-safe, as Django does), so the page
never repeats the secret. ``cycle_key()`` at login gives the session a new secret.
``@protect`` checks a route even without a session cookie (login forms).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from oakling.exceptions import Forbidden
from oakling.http.session import CSRF_SECRET_KEY

if TYPE_CHECKING:
    from collections.abc import Callable

    from oakling.config import Settings
    from oakling.http.request import Request

__all__ = (
    "FIELD_NAME",
    "HEADER_NAME",
    "SAFE_METHODS",
    "CSRFError",
    "CSRFProtection",
    "csrf_input",
    "csrf_token",
    "exempt",
    "protect",
    "rotate_token",
)

F = TypeVar("F", bound="Callable[..., Any]")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that must not change anything, so are never checked."""
FIELD_NAME = "csrf_token"
"""The form field that carries the token."""
HEADER_NAME = "X-CSRF-Token"
"""The header that carries the token (for JavaScript clients)."""

_SECRET_BYTES = 32
_TOKEN_CHARS = 86  # base64 of a 32-byte pad and the 32-byte masked secret, unpadded
_MARK = "__oakling_csrf__"
_SCOPE_TOKEN = "oakling.csrf_token"


class CSRFError(Forbidden):
    """A request failed the CSRF check (403); ``reason`` says which rule."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"CSRF check failed: {reason}")


def exempt(handler: F) -> F:
    """Never check this route for CSRF (webhooks, endpoints with their own auth)."""
    setattr(handler, _MARK, "exempt")
    return handler


def protect(handler: F) -> F:
    """Check this route even when the request has no session cookie (login forms).

    Without it, a cookie-less POST is not checked (it cannot ride on a session);
    a login form is the exception: a forged login would sign the victim in as the
    attacker. Render the form with ``csrf_input(request)``.
    """
    setattr(handler, _MARK, "always")
    return handler


def csrf_mode(handler: Callable[..., Any]) -> str | None:
    """``"exempt"``, ``"always"`` or ``None`` (the default) for a route's handler."""
    mode: str | None = getattr(handler, _MARK, None)
    return mode


# -- tokens -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _session_secret(request: Request, *, create: bool) -> bytes | None:
    session = request.session
    stored = session.get(CSRF_SECRET_KEY)
    if isinstance(stored, str):
        try:
            secret = _unb64(stored)
        except ValueError:
            secret = b""
        if len(secret) == _SECRET_BYTES:
            return secret
    if not create:
        return None
    secret = secrets.token_bytes(_SECRET_BYTES)
    session[CSRF_SECRET_KEY] = _b64(secret)
    return secret


def csrf_token(request: Request) -> str:
    """Return a CSRF token for this request's session (creating its secret if needed).

    The token is masked with a random pad: it differs on every response, which
    keeps compression attacks (BREACH) from reading the secret. Put it in forms
    (``csrf_input``) or send it back in the ``X-CSRF-Token`` header.
    """
    token: str | None = request.scope.get(_SCOPE_TOKEN)
    if token is None:
        secret = _session_secret(request, create=True)
        assert secret is not None
        pad = secrets.token_bytes(_SECRET_BYTES)
        token = request.scope[_SCOPE_TOKEN] = _b64(pad + _xor(pad, secret))
    return token


def csrf_input(request: Request) -> Any:
    """Return the hidden ``<input>`` carrying the token, as markup safe to print.

    A ``markupsafe.Markup`` when MarkupSafe is installed (it comes with Jinja2),
    else a ``str`` with ``__html__``; either way templates do not escape it again.
    """
    html = f'<input type="hidden" name="{FIELD_NAME}" value="{csrf_token(request)}">'
    try:
        from markupsafe import Markup
    except ImportError:  # pragma: no cover - depends on the environment
        return _HTML(html)
    # NOTE: the token is base64url: nothing in it to escape.
    return Markup(html)


class _HTML(str):
    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def rotate_token(request: Request) -> None:
    """Give the session a new CSRF secret: tokens issued before stop working.

    ``request.session.cycle_key()`` does this too; call it at login.
    """
    request.session.pop(CSRF_SECRET_KEY, None)
    request.scope.pop(_SCOPE_TOKEN, None)


def _token_problem(request: Request, token: str | None) -> str | None:
    if not token:
        return (
            f"CSRF token missing: send it in the {FIELD_NAME!r} form field or the "
            f"{HEADER_NAME} header (render forms with csrf_input(request))"
        )
    secret = _session_secret(request, create=False)
    if secret is None:
        return (
            "the session has no CSRF secret: it expired or was reset since the page "
            "was rendered; reload the page and try again"
        )
    token = token.strip()
    try:
        raw = _unb64(token) if len(token) == _TOKEN_CHARS else b""
    except ValueError:
        raw = b""
    if len(raw) != 2 * _SECRET_BYTES:
        return "CSRF token has the wrong format (it was cut or altered)"
    pad, masked = raw[:_SECRET_BYTES], raw[_SECRET_BYTES:]
    if not hmac.compare_digest(_xor(pad, masked), secret):
        return "CSRF token incorrect: it was not issued for this session"
    return None


# -- the check ----------------------------------------------------------------------------


class CSRFProtection:
    """The app's CSRF check, compiled from the settings.

    Args:
        settings: ``csrf_trusted_origins`` and the session cookie name.
    """

    def __init__(self, settings: Settings) -> None:
        exact: set[str] = set()
        suffixes: list[tuple[str, str]] = []
        for origin in settings.csrf_trusted_origins:
            origin = origin.strip().lower().rstrip("/")
            scheme, sep, host = origin.partition("://")
            if host.startswith("*."):
                suffixes.append((scheme, host[1:]))
            elif sep:
                exact.add(origin)
        self.trusted = frozenset(exact)
        self.trusted_suffixes = tuple(suffixes)
        self.cookie_name = settings.session_cookie_name

    def needed(self, request: Request, handler: Callable[..., Any]) -> bool:
        """Whether ``request`` must pass the check before ``handler`` runs."""
        if request.method in SAFE_METHODS:
            return False
        mode = csrf_mode(handler)
        if mode == "exempt":
            return False
        authorization = request.header("authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            return False
        return mode == "always" or self.cookie_name in request.cookies

    def _origin_ok(self, origin: str, request: Request) -> bool:
        origin = origin.lower().rstrip("/")
        if origin == f"{request.scheme}://{request.host}".lower() or origin in self.trusted:
            return True
        scheme, _, host = origin.partition("://")
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return any(
            scheme == s and (host.endswith(suffix) or host == suffix[1:])
            for s, suffix in self.trusted_suffixes
        )

    def origin_problem(self, request: Request) -> str | None:
        """Say why the request's Origin (or, over HTTPS, Referer) is not acceptable."""
        origin = request.header("origin")
        if origin is not None:
            if origin == "null" or not self._origin_ok(origin, request):
                return (
                    f"Origin {origin[:100]!r} is not this site "
                    f"({request.scheme}://{request.host}) nor a trusted origin "
                    "(OAKLING_CSRF_TRUSTED_ORIGINS)"
                )
            return None
        if not request.is_secure:
            return None
        referer = request.header("referer")
        if not referer:
            return "Referer missing: an HTTPS request without an Origin header must send one"
        try:
            parts = urlsplit(referer)
        except ValueError:
            parts = None
        if parts is None or parts.scheme != "https" or not parts.netloc:
            return f"Referer {referer[:100]!r} is not a secure (https) URL"
        if not self._origin_ok(f"https://{parts.netloc}", request):
            return (
                f"Referer {referer[:100]!r} is not this site (https://{request.host}) nor "
                "a trusted origin (OAKLING_CSRF_TRUSTED_ORIGINS)"
            )
        return None

    def _sent_token(self, request: Request) -> str | None:
        return request.header(HEADER_NAME)

    def check_sync(self, request: Request) -> None:
        """Check ``request``, reading its form if needed (blocking).

        Raises:
            CSRFError: The check failed.
        """
        problem = self.origin_problem(request)
        if problem is None:
            token = self._sent_token(request)
            if token is None and request.content_type in _FORM_TYPES:
                if request.content_type == _URLENCODED:
                    # NOTE: keep the body readable for the handler (the form parses it).
                    request.read_body()
                token = _field(request.read_form())
            problem = _token_problem(request, token)
        if problem is not None:
            raise CSRFError(problem)

    async def check_async(self, request: Request, *, keep_body: bool = False) -> None:
        """Check ``request``, reading its form if needed.

        Args:
            request: The request.
            keep_body: Buffer a multipart body before parsing it, so that a sync
                handler can still read it (urlencoded bodies always are).

        Raises:
            CSRFError: The check failed.
        """
        problem = self.origin_problem(request)
        if problem is None:
            token = self._sent_token(request)
            if token is None and request.content_type in _FORM_TYPES:
                if keep_body or request.content_type == _URLENCODED:
                    await request.preload()
                token = _field(await request.form())
            problem = _token_problem(request, token)
        if problem is not None:
            raise CSRFError(problem)


_URLENCODED = "application/x-www-form-urlencoded"
_FORM_TYPES = (_URLENCODED, "multipart/form-data")


def _field(form: Any) -> str | None:
    value = form.get(FIELD_NAME)
    return value if isinstance(value, str) else None
