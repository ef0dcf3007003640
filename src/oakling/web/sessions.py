"""Sessions: ``request.session``, kept in a signed cookie, in Redis or in the database.

The session is loaded on first use of ``request.session`` and saved after the
handler, only when it changed: a visitor whose session was never written gets no
cookie. ``Vary: Cookie`` is sent whenever the session was read.

* ``cookie`` (default): the data itself, JSON, signed with HMAC-SHA256 using
  ``SECRET_KEY`` (``oakling.signing``, compressed when that helps; values signed with a
  ``SECRET_KEY_FALLBACKS`` key are accepted and re-signed with the current key).
  Signed, not encrypted: the user can read it. Browsers drop cookies over 4093
  bytes, so a bigger session is refused loudly.
* ``redis``: the data in Redis under a random id, with a TTL; the cookie holds the id.
* ``db``: the data in the ``oakling_session`` table (``oakling.db.session_store``).

A tampered, expired or unreadable cookie gives an empty session, never an error.
A session store that is down gives a 503. Pick the backend with
``OAKLING_SESSION_BACKEND`` or give ``app.sessions.store`` any ``SessionStore``.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from oakling.exceptions import ConfigurationError, OaklingError, ServiceUnavailable
from oakling.http.cookies import format_set_cookie
from oakling.http.session import Session
from oakling.signing import BadSignature, dumps, loads

if TYPE_CHECKING:
    from oakling.config import Settings
    from oakling.http.request import Request

__all__ = (
    "MAX_COOKIE_SIZE",
    "RedisStore",
    "Session",
    "SessionCookieTooLarge",
    "SessionManager",
    "SessionStore",
)

logger = logging.getLogger("oakling.sessions")

MAX_COOKIE_SIZE = 4093
"""The largest ``Set-Cookie`` value browsers keep (name, value and attributes)."""
SALT = "oakling.sessions"
"""The signing salt of session cookies (``oakling.signing``): their keys are theirs alone."""

_KEY = re.compile(r"[A-Za-z0-9_-]{32,64}")
_MAX_DATA = 64 * 1024  # decompressed: a 4 KB cookie never needs more
_VARY = (b"vary", b"Cookie")
_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder(dict[str, Any]).decode


class SessionCookieTooLarge(OaklingError, ValueError):
    """The session does not fit in a cookie; raised when it is saved."""


class SessionStore(Protocol):
    """Where server-side sessions live; ``key`` is the random id kept in the cookie.

    ``load`` returns ``None`` for an unknown or expired id. Each method has an
    ``a``-prefixed async twin for ASGI. Errors (a store that is down) propagate:
    the app answers 503.
    """

    def load(self, key: str) -> dict[str, Any] | None:
        """Return the data stored under ``key``, or ``None``."""

    def save(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Store ``data`` under ``key`` for ``max_age`` seconds."""

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is unknown)."""

    async def aload(self, key: str) -> dict[str, Any] | None:
        """Async ``load``."""

    async def asave(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Async ``save``."""

    async def adelete(self, key: str) -> None:
        """Async ``delete``."""


# -- stores -------------------------------------------------------------------------------


class RedisStore:
    """Sessions in Redis: one string per session, expiring with the session.

    Args:
        url: The server, e.g. ``redis://127.0.0.1:6379/0``.
        prefix: Put before every id, to share a database with other data.
        timeout: Seconds to wait for a connection or a reply before giving up (503).
    """

    def __init__(self, url: str, *, prefix: str = "oakling:session:", timeout: float = 2.0) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from oakling.exceptions import MissingDependency

            raise MissingDependency("redis", extra="redis") from exc
        self.url = url
        self.prefix = prefix
        self.timeout = timeout
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._async: tuple[Any, Any] | None = None  # (loop, client): clients are per loop

    def _aclient(self) -> Any:
        import asyncio

        import redis.asyncio

        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            client = redis.asyncio.Redis.from_url(
                self.url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
            )
            self._async = (loop, client)
        return self._async[1]

    async def aclose(self) -> None:
        """Close the connections (at app shutdown)."""
        self._client.close()
        if self._async is not None:
            import asyncio

            loop, client = self._async
            self._async = None
            if loop is asyncio.get_running_loop():
                await client.aclose()

    def _down(self, exc: BaseException) -> ServiceUnavailable:
        logger.error("The session store (Redis at %s) failed: %s", _safe_url(self.url), exc)
        return ServiceUnavailable("The session store is not available; try again shortly")

    def load(self, key: str) -> dict[str, Any] | None:
        """Return the data stored under ``key``, or ``None``."""
        try:
            raw = self._client.get(self.prefix + key)
        except self._errors as exc:
            raise self._down(exc) from exc
        return _decode(raw)

    def save(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Store ``data`` under ``key`` for ``max_age`` seconds."""
        try:
            self._client.set(self.prefix + key, _json_encode(data), ex=max_age)
        except self._errors as exc:
            raise self._down(exc) from exc

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        try:
            self._client.delete(self.prefix + key)
        except self._errors as exc:
            raise self._down(exc) from exc

    async def aload(self, key: str) -> dict[str, Any] | None:
        """Async ``load``."""
        try:
            raw = await self._aclient().get(self.prefix + key)
        except self._errors as exc:
            raise self._down(exc) from exc
        return _decode(raw)

    async def asave(self, key: str, data: dict[str, Any], max_age: int) -> None:
        """Async ``save``."""
        try:
            await self._aclient().set(self.prefix + key, _json_encode(data), ex=max_age)
        except self._errors as exc:
            raise self._down(exc) from exc

    async def adelete(self, key: str) -> None:
        """Async ``delete``."""
        try:
            await self._aclient().delete(self.prefix + key)
        except self._errors as exc:
            raise self._down(exc) from exc


def _decode(raw: bytes | str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return _json_decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # NOTE: unreadable data is an empty session, as a bad cookie is


def _safe_url(url: str) -> str:
    # NOTE: no password in the logs.
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


# -- the manager --------------------------------------------------------------------------


class SessionManager:
    """Loads and saves ``request.session`` for one app; ``app.sessions``.

    Args:
        settings: The app's settings (cookie name and flags, age, backend, keys).
        store: A server-side store; default: from ``settings.session_backend``
            (``None`` for ``cookie``: the data goes in a signed cookie).
        app: The app, for the ``db`` backend (it uses the app's database).
    """

    def __init__(
        self, settings: Settings, store: SessionStore | None = None, *, app: Any = None
    ) -> None:
        self.cookie_name = settings.session_cookie_name
        self.max_age = settings.session_cookie_age
        self.secure = settings.session_cookie_secure
        self._attributes: dict[str, Any] = {
            "path": settings.session_cookie_path,
            "domain": settings.session_cookie_domain,
            "httponly": settings.session_cookie_httponly,
            "samesite": settings.session_cookie_samesite,
        }
        self.store = store if store is not None else _store_from(settings, app)
        secret = settings.secret_key
        if not secret:
            # NOTE: only reachable in debug or tests: app.check() refuses to serve without one.
            logger.warning(
                "No OAKLING_SECRET_KEY: sessions are signed with a random key and will "
                "not survive a restart"
            )
            secret = secrets.token_urlsafe(50)
        self._secret = secret
        self._fallbacks = settings.secret_key_fallbacks
        self._marker = (self.cookie_name + "=").encode("latin-1")

    async def aclose(self) -> None:
        """Close the store's connections, if it has any (the app calls it at shutdown)."""
        close = getattr(self.store, "aclose", None)
        if close is not None:
            await close()

    @property
    def server_side(self) -> bool:
        """Whether the data lives in a store (the cookie holds only an id)."""
        return self.store is not None

    def sent_cookie(self, request: Request) -> str | None:
        """The session cookie the request carries, if any."""
        return request.cookies.get(self.cookie_name)

    # -- loading -------------------------------------------------------------------------

    def load(self, request: Request) -> Session:
        """Load the request's session (blocking for server-side stores)."""
        value = self.sent_cookie(request)
        if not value:
            return Session()
        if self.store is None:
            return self._from_cookie(value)
        if not _KEY.fullmatch(value):
            return Session()
        data = self.store.load(value)
        return Session() if data is None else Session(data, key=value, fresh=False)

    async def aload(self, request: Request) -> Session:
        """Load the request's session without blocking the event loop."""
        value = self.sent_cookie(request)
        if not value or self.store is None or not _KEY.fullmatch(value):
            return self.load(request)
        data = await self.store.aload(value)
        return Session() if data is None else Session(data, key=value, fresh=False)

    def _from_cookie(self, value: str) -> Session:
        old_key = False
        try:
            data = loads(value, self._secret, salt=SALT, max_age=self.max_age, max_size=_MAX_DATA)
        except BadSignature:
            if not self._fallbacks:
                return Session()
            # NOTE: signed with an old key? Accept it, and re-sign with the current one.
            try:
                data = loads(
                    value,
                    self._secret,
                    salt=SALT,
                    max_age=self.max_age,
                    fallbacks=self._fallbacks,
                    max_size=_MAX_DATA,
                )
            except BadSignature:
                return Session()
            old_key = True
        if not isinstance(data, dict):
            return Session()
        session = Session(data, fresh=False)
        session.resign = old_key
        return session

    # -- saving --------------------------------------------------------------------------

    def save(self, request: Request, session: Session) -> list[tuple[bytes, bytes]]:
        """Save ``session`` if it changed; return the headers to add (blocking).

        Raises:
            SessionCookieTooLarge: A cookie session over ``MAX_COOKIE_SIZE`` bytes.
            ServiceUnavailable: The store failed.
        """
        plan = self._plan(request, session)
        if self.store is not None:
            for key in plan.delete:
                self.store.delete(key)
            if plan.key is not None:
                self.store.save(plan.key, session.to_dict(), self.max_age)
        return plan.headers

    async def asave(self, request: Request, session: Session) -> list[tuple[bytes, bytes]]:
        """Async ``save``."""
        plan = self._plan(request, session)
        if self.store is not None:
            for key in plan.delete:
                await self.store.adelete(key)
            if plan.key is not None:
                await self.store.asave(plan.key, session.to_dict(), self.max_age)
        return plan.headers

    def _plan(self, request: Request, session: Session) -> _Plan:
        """Decide what to write: the shared, pure part of ``save`` and ``asave``."""
        plan = _Plan()
        if not (session.modified or session.resign):
            return plan
        sent = self.sent_cookie(request)
        if self.store is not None:
            plan.delete = session.take_stale_keys()
        secure = request.is_secure if self.secure is None else self.secure
        if not session:
            if self.store is not None and session.key is not None:
                plan.delete.append(session.key)
            if sent:
                header = format_set_cookie(
                    self.cookie_name, "", max_age=0, expires=0, secure=secure, **self._attributes
                )
                plan.headers.append((b"set-cookie", header.encode("latin-1")))
            return plan
        if self.store is not None:
            if session.key is None:
                session.key = secrets.token_urlsafe(32)
            plan.key = value = session.key
        else:
            value = dumps(session.to_dict(), self._secret, salt=SALT)
        max_age = self.max_age if session.permanent else None
        header = format_set_cookie(
            self.cookie_name, value, max_age=max_age, secure=secure, **self._attributes
        )
        if len(header) > MAX_COOKIE_SIZE:
            raise SessionCookieTooLarge(
                f"The session cookie would be {len(header)} bytes, over the {MAX_COOKIE_SIZE} "
                "bytes browsers keep: store less in the session, or keep sessions server-side "
                "(OAKLING_SESSION_BACKEND=redis or db)"
            )
        plan.headers.append((b"set-cookie", header.encode("latin-1")))
        return plan


class _Plan:
    __slots__ = ("delete", "headers", "key")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = [_VARY]
        self.delete: list[str] = []
        self.key: str | None = None


def _store_from(settings: Settings, app: Any) -> SessionStore | None:
    backend = settings.session_backend
    if backend == "cookie":
        return None
    if backend == "redis":
        return RedisStore(
            settings.redis_url,
            prefix=settings.session_redis_prefix,
            timeout=settings.session_store_timeout,
        )
    if backend == "db":
        if app is None:
            raise ConfigurationError("The db session backend needs the app: use app.sessions")
        # NOTE: the data layer sits above this one: imported by name, only when chosen.
        from oakling.db.session_store import DatabaseSessionStore

        return DatabaseSessionStore(app)
    raise ConfigurationError(
        f"OAKLING_SESSION_BACKEND: unknown session backend {backend!r}; "
        "use 'cookie', 'redis' or 'db'"
    )
