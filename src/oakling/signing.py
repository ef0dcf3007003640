"""Signed values: tamper-proof strings and JSON, with expiry and key rotation.

``Signer(secret_key, salt=...)`` appends an HMAC-SHA256 signature to a value;
``unsign`` checks it in constant time against the current key and every key in
``fallbacks`` (old keys during a rotation). ``TimestampSigner`` adds the signing
time so ``unsign(value, max_age=...)`` refuses old values. ``dumps``/``loads`` do
the same for JSON data, URL-safe and compressed when that helps.

The ``salt`` separates uses: a password-reset token can never be replayed as a
session cookie. Keys are derived per salt, never used raw.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from typing import TYPE_CHECKING, Any

from oakling.exceptions import OaklingError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ("BadSignature", "SignatureExpired", "Signer", "TimestampSigner", "dumps", "loads")

_SEP = "."


class BadSignature(OaklingError, ValueError):
    """The signature does not match: the value was tampered with or signed with another key."""


class SignatureExpired(BadSignature):
    """The signature is valid but older than ``max_age``."""


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode ``b64encode``'s output.

    Raises:
        BadSignature: ``text`` is not URL-safe base64.
    """
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise BadSignature("The value is not valid base64") from exc


def _derive(secret: str, salt: str) -> bytes:
    return hashlib.sha256(f"oakling.signing:{salt}:{secret}".encode()).digest()


class Signer:
    """Sign strings with ``secret_key``; accept signatures of the ``fallbacks`` keys too.

    Raises:
        ValueError: ``secret_key`` is empty.
    """

    def __init__(
        self, secret_key: str, *, salt: str = "oakling.signing", fallbacks: Iterable[str] = ()
    ) -> None:
        if not secret_key:
            raise ValueError("Signing needs a secret key: set SECRET_KEY (OAKLING_SECRET_KEY)")
        self.salt = salt
        self._key = _derive(secret_key, salt)
        self._keys = (self._key, *(_derive(k, salt) for k in fallbacks if k))

    def signature(self, value: str, key: bytes | None = None) -> str:
        """The signature of ``value`` with the current key (or ``key``)."""
        digest = hmac.new(key or self._key, value.encode(), hashlib.sha256).digest()
        return b64encode(digest)

    def sign(self, value: str) -> str:
        """``value`` followed by ``.`` and its signature."""
        return f"{value}{_SEP}{self.signature(value)}"

    def unsign(self, signed: str) -> str:
        """The value of ``signed`` when its signature is good.

        Raises:
            BadSignature: No signature, or one that no key made.
        """
        value, sep, signature = signed.rpartition(_SEP)
        if not sep:
            raise BadSignature("The value is not signed")
        for key in self._keys:
            if hmac.compare_digest(signature, self.signature(value, key)):
                return value
        raise BadSignature("The signature does not match")


class TimestampSigner(Signer):
    """A ``Signer`` that also signs the time, so old values can be refused."""

    def sign(self, value: str, *, now: float | None = None) -> str:
        """``value``, the signing time and the signature."""
        stamp = int(time.time() if now is None else now)
        return super().sign(f"{value}{_SEP}{stamp:x}")

    def unsign(self, signed: str, max_age: float | None = None, *, now: float | None = None) -> str:
        """The value of ``signed`` when the signature is good and at most ``max_age`` old.

        Raises:
            BadSignature: A bad signature or timestamp.
            SignatureExpired: Older than ``max_age`` seconds.
        """
        value, _, stamp_text = super().unsign(signed).rpartition(_SEP)
        try:
            stamp = int(stamp_text, 16)
        except ValueError:
            raise BadSignature("The timestamp is not valid") from None
        if max_age is not None:
            age = (time.time() if now is None else now) - stamp
            if age > max_age:
                raise SignatureExpired(f"The signature is {age:.0f} seconds old (max {max_age})")
        return value

    def timestamp(self, signed: str) -> int:
        """When ``signed`` was signed (Unix time), after checking its signature."""
        return int(super().unsign(signed).rpartition(_SEP)[2], 16)


def dumps(
    data: Any, secret_key: str, *, salt: str = "oakling.signing", compress: bool = True
) -> str:
    """Sign JSON-encodable ``data`` into a URL-safe string with a timestamp."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    prefix = ""
    if compress:
        packed = zlib.compress(raw)
        if len(packed) < len(raw) - 1:
            raw, prefix = packed, "."
    return TimestampSigner(secret_key, salt=salt).sign(prefix + b64encode(raw))


def loads(
    signed: str,
    secret_key: str,
    *,
    salt: str = "oakling.signing",
    max_age: float | None = None,
    fallbacks: Iterable[str] = (),
    max_size: int = 1_000_000,
) -> Any:
    """The data of a ``dumps`` string, after checking signature and age.

    Raises:
        BadSignature: Tampered, signed with another key or salt, or not ours at all.
        SignatureExpired: Older than ``max_age`` seconds.
    """
    text = TimestampSigner(secret_key, salt=salt, fallbacks=fallbacks).unsign(signed, max_age)
    compressed = text.startswith(".")
    raw = b64decode(text[1:] if compressed else text)
    inflater = zlib.decompressobj()
    try:
        if compressed:
            raw = inflater.decompress(raw, max_size)
    except zlib.error as exc:
        raise BadSignature("The signed data is not valid") from exc
    if inflater.unconsumed_tail:
        raise BadSignature("The signed data is too large once decompressed")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadSignature("The signed data is not valid JSON") from exc
