"""Password hashing: argon2id, Django's PBKDF2 hashes accepted, rehash on login.

``PasswordHasher`` hashes with argon2id (argon2-cffi, OWASP's first choice) with
cost parameters from the settings. ``verify`` also accepts hashes made by Django
(``pbkdf2_sha256$...``, ``pbkdf2_sha1$...`` and Django's ``argon2$...``), so users
moving a Django site keep their passwords; ``needs_rehash`` then says to store a
fresh argon2id hash, which ``check`` returns on the first successful login.

Every comparison is constant-time, and ``dummy_verify`` spends the same time as a
real check so a login for an unknown user cannot be told apart by timing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

if TYPE_CHECKING:
    from oakling.config import Settings

__all__ = ("UNUSABLE_PREFIX", "PasswordHasher", "is_usable", "make_unusable")

UNUSABLE_PREFIX = "!"
"""Hashes starting with this never match: accounts that log in another way."""

_DJANGO_PBKDF2 = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}
_MAX_PASSWORD = 4096  # NOTE: hashing megabytes of "password" is a denial of service


def make_unusable() -> str:
    """A hash no password matches (for accounts without a password)."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(30)


def is_usable(encoded: str | None) -> bool:
    """Whether ``encoded`` is a hash some password could match."""
    return bool(encoded) and not encoded.startswith(UNUSABLE_PREFIX)  # type: ignore[union-attr]


class PasswordHasher:
    """Hash and check passwords.

    Args:
        time_cost: argon2 iterations.
        memory_cost: argon2 memory in KiB.
        parallelism: argon2 lanes.
    """

    def __init__(
        self, *, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordHasher:
        """A hasher with the ``password_*`` cost settings."""
        return cls(
            time_cost=settings.password_time_cost,
            memory_cost=settings.password_memory_cost,
            parallelism=settings.password_parallelism,
        )

    def hash(self, password: str) -> str:
        """An argon2id hash of ``password`` (salted; different every time).

        Raises:
            ValueError: The password is longer than 4096 characters.
        """
        _check_length(password)
        return self._argon2.hash(password)

    def verify(self, password: str, encoded: str | None) -> bool:
        """Whether ``password`` matches ``encoded`` (argon2 or Django PBKDF2), in constant time."""
        if len(password) > _MAX_PASSWORD or not encoded or not is_usable(encoded):
            self.dummy_verify(password[:_MAX_PASSWORD])
            return False
        algorithm = encoded.split("$", 1)[0]
        if algorithm in _DJANGO_PBKDF2:
            return _verify_pbkdf2(password, encoded, _DJANGO_PBKDF2[algorithm])
        if algorithm == "argon2":  # Django's Argon2PasswordHasher: "argon2" + argon2-cffi's hash
            encoded = encoded[len("argon2") :]
        try:
            return self._argon2.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        """Whether ``encoded`` should be replaced: another algorithm or other costs."""
        if not encoded.startswith("$argon2id$"):
            return True
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True

    def check(self, password: str, encoded: str | None) -> tuple[bool, str | None]:
        """Verify ``password``; when it matches an outdated hash, also give the new hash.

        Returns:
            ``(matches, new_hash)``: store ``new_hash`` when it is not ``None``.
        """
        if not self.verify(password, encoded) or encoded is None:
            return False, None
        return True, (self.hash(password) if self.needs_rehash(encoded) else None)

    def dummy_verify(self, password: str) -> None:
        """Spend the time of a real check, for an unknown user or an unusable hash."""
        if self._dummy is None:
            self._dummy = self._argon2.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):
            self._argon2.verify(self._dummy, password[:_MAX_PASSWORD])


def _check_length(password: str) -> None:
    if len(password) > _MAX_PASSWORD:
        raise ValueError(f"A password may have at most {_MAX_PASSWORD} characters")


def _verify_pbkdf2(password: str, encoded: str, digest: str) -> bool:
    try:
        _, iterations, salt, expected = encoded.split("$", 3)
        rounds = int(iterations)
    except ValueError:
        return False
    if not 0 < rounds <= 10_000_000:
        return False
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), rounds)
    return hmac.compare_digest(base64.b64encode(derived).decode("ascii"), expected)
