"""Tokens: personal API tokens and password-reset tokens.

API tokens look like ``oak_<lookup>_<secret>``. Only a SHA-256 digest of the
secret is stored, so a leaked database does not leak usable tokens; the plain
token is returned once, at creation. ``lookup`` finds the row with an index, and
the digest is compared in constant time.

Password-reset tokens are signed with the secret key over the user's id, password
hash and last login: once the password changes or the user logs in, every older
token stops working (single use), and each expires after ``max_age`` seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from oakling.auth.models import ApiToken
from oakling.db.models import utcnow
from oakling.signing import BadSignature, Signer

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

__all__ = (
    "PREFIX",
    "PasswordResetTokens",
    "authenticate_token",
    "authenticate_token_async",
    "new_token",
)

PREFIX = "oak_"
_LAST_USED_EVERY = dt.timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(
    user_id: int,
    name: str,
    *,
    scopes: Iterable[str] = (),
    expires_in: dt.timedelta | None = None,
) -> tuple[ApiToken, str]:
    """A new ``ApiToken`` row (add it to a session) and the plain token to show once."""
    lookup = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=name,
        lookup=lookup,
        digest=_digest(secret),
        scopes=" ".join(scopes),
        expires_at=utcnow() + expires_in if expires_in is not None else None,
    )
    return token, f"{PREFIX}{lookup}_{secret}"


def _parse(plain: str) -> tuple[str, str] | None:
    if not plain.startswith(PREFIX):
        return None
    lookup, sep, secret = plain[len(PREFIX) :].partition("_")
    if not sep or len(lookup) != 12 or not secret or len(secret) > 100:
        return None
    return lookup, secret


def _statement(lookup: str) -> Select[ApiToken]:
    return select(ApiToken).where(ApiToken.lookup == lookup)


def _accept(token: ApiToken | None, secret: str, now: dt.datetime) -> ApiToken | None:
    digest = token.digest if token is not None else "0" * 64
    matches = hmac.compare_digest(digest, _digest(secret))  # NOTE: same work when not found
    if token is None or not matches or token.revoked_at is not None:
        return None
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        return None
    last = token.last_used_at
    if last is None or now - _aware(last) >= _LAST_USED_EVERY:
        token.last_used_at = now
    return token


def _aware(moment: dt.datetime) -> dt.datetime:
    # NOTE: SQLite gives naive datetimes back; they were stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def authenticate_token(db: Session, plain: str) -> ApiToken | None:
    """The live token ``plain`` names, or ``None`` (unknown, wrong, expired, revoked)."""
    parsed = _parse(plain)
    if parsed is None:
        return None
    token = db.scalars(_statement(parsed[0])).first()
    return _accept(token, parsed[1], utcnow())


async def authenticate_token_async(db: AsyncSession, plain: str) -> ApiToken | None:
    """``authenticate_token`` for an ``AsyncSession``."""
    parsed = _parse(plain)
    if parsed is None:
        return None
    token = (await db.scalars(_statement(parsed[0]))).first()
    return _accept(token, parsed[1], utcnow())


class PasswordResetTokens:
    """Make and check single-use, expiring password-reset tokens for users."""

    def __init__(
        self, secret_key: str, *, fallbacks: Iterable[str] = (), max_age: float = 3 * 86400
    ) -> None:
        self.max_age = max_age
        self._signer = Signer(secret_key, salt="oakling.auth.password-reset", fallbacks=fallbacks)

    def _state(self, user: Any, stamp: int) -> str:
        last_login = user.last_login.isoformat() if user.last_login else ""
        return f"{user.id}:{user.password}:{last_login}:{user.email or ''}:{stamp}"

    def make(self, user: Any, *, now: float | None = None) -> str:
        """A token for ``user``: ``<user id>-<time>-<signature>``, URL-safe."""
        stamp = int(utcnow().timestamp() if now is None else now)
        signature = self._signer.signature(self._state(user, stamp))
        return f"{user.id}-{stamp:x}-{signature}"

    @staticmethod
    def user_id(token: str) -> int | None:
        """The user id a token claims (check it with ``check`` before trusting it)."""
        head = token.split("-", 1)[0]
        return int(head) if head.isdigit() and len(head) < 20 else None

    def check(self, user: Any, token: str, *, now: float | None = None) -> bool:
        """Whether ``token`` is a live token for ``user`` (right user, unused, not expired)."""
        parts = token.split("-", 2)
        if len(parts) != 3 or parts[0] != str(user.id):
            return False
        try:
            stamp = int(parts[1], 16)
        except ValueError:
            return False
        moment = utcnow().timestamp() if now is None else now
        if not 0 <= moment - stamp <= self.max_age:
            return False
        try:
            self._signer.unsign(f"{self._state(user, stamp)}.{parts[2]}")
        except BadSignature:
            return False
        return True
