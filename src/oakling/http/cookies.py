"""Cookie parsing (tolerant) and ``Set-Cookie`` building (strict)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

__all__ = ("SameSite", "format_set_cookie", "parse_cookie_header")

SameSite = Literal["lax", "strict", "none"]

# NOTE: used with fullmatch(): a pattern ending in `$` also matches before a final "\n",
# which would let a newline through into the Set-Cookie header.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# Path and Domain attribute values: printable ASCII (space included) but no ';'.
_ATTRIBUTE_VALUE = re.compile(r"[\x20-\x3a\x3c-\x7e]*")
_SAMESITE = ("lax", "strict", "none")


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header into a dict.

    Malformed pairs are skipped rather than failing the request: a browser
    extension or another app on the same domain may set junk, and one bad
    cookie must not lock a user out. The first value of a repeated name wins
    (browsers send the most specific path first).
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep or not name or not _TOKEN.fullmatch(name):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name not in cookies:
            cookies[name] = value
    return cookies


def format_set_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | int | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = True,
    samesite: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    r"""Build a ``Set-Cookie`` header value.

    Raises:
        ValueError: ``name`` is not a token, ``value`` holds characters a cookie
            cannot carry (space, ``"``, ``,``, ``;``, ``\\``, control characters),
            ``path`` or ``domain`` holds ``;`` or a control character, or
            ``samesite`` is not ``"lax"``, ``"strict"`` or ``"none"``.
    """
    same_site = _check(name, value, path, domain, samesite)
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        from email.utils import format_datetime

        when = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int | float) else expires
        parts.append(f"Expires={format_datetime(when.astimezone(UTC), usegmt=True)}")
    if domain:
        parts.append(f"Domain={domain}")
    if path:
        parts.append(f"Path={path}")
    if secure or same_site == "none":
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if same_site:
        parts.append(f"SameSite={same_site.capitalize()}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


def _check(
    name: str, value: str, path: str | None, domain: str | None, samesite: str | None
) -> str | None:
    """Validate a cookie's name, value and attributes; return SameSite lower-cased."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"Invalid cookie name {name!r}: use letters, digits and !#$%&'*+-.^_`|~")
    if not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(
            f"Invalid character in the value of cookie {name!r}: encode it first "
            "(e.g. urllib.parse.quote or base64) — spaces, quotes, commas, semicolons "
            "and backslashes are not allowed"
        )
    for attribute, text in (("path", path), ("domain", domain)):
        if text and not _ATTRIBUTE_VALUE.fullmatch(text):
            raise ValueError(
                f"Invalid {attribute} {text!r} for cookie {name!r}: "
                "semicolons and control characters are not allowed"
            )
    same_site = samesite.lower() if samesite else None
    if same_site is not None and same_site not in _SAMESITE:
        raise ValueError(
            f"Invalid samesite {samesite!r} for cookie {name!r}: use 'lax', 'strict' or 'none'"
        )
    return same_site
