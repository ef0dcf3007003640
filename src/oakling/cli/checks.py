"""Deployment checks for ``oakling check --deploy``: what is unsafe in production.

Each issue has an id (``deploy.E001`` is an error, ``deploy.W003`` a warning),
a message saying what is wrong and a fix. Errors make ``oakling check`` exit 1.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oakling.config import INSECURE_SECRET_KEYS

if TYPE_CHECKING:
    from oakling.config import Settings

__all__ = ("MIN_SECRET_KEY_LENGTH", "Issue", "deploy_issues")

MIN_SECRET_KEY_LENGTH = 50
_MIN_UNIQUE_CHARS = 5
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
_NEW_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found by a check."""

    id: str
    message: str
    fix: str

    @property
    def is_error(self) -> bool:
        """Whether this is an error (``.E``) rather than a warning (``.W``)."""
        return ".E" in self.id


def deploy_issues(settings: Settings) -> list[Issue]:
    """Return what in ``settings`` is unsafe (or broken) for a production deployment."""
    issues: list[Issue] = []
    if settings.debug:
        issues.append(
            Issue(
                "deploy.E001",
                "Debug mode is on: error pages show tracebacks and settings, and "
                "start-up checks are relaxed.",
                "Set OAKLING_DEBUG=0 (or leave it unset) in production, in the environment "
                "and in .env.",
            )
        )
    issues.extend(_secret_key_issues(settings))
    issues.extend(_host_issues(settings))
    issues.extend(_proxy_issues(settings))
    return issues


def _weak_key_reason(key: str) -> str | None:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"it is {len(key)} characters long (use at least {MIN_SECRET_KEY_LENGTH})"
    if len(set(key)) < _MIN_UNIQUE_CHARS:
        return f"it has fewer than {_MIN_UNIQUE_CHARS} distinct characters"
    return None


def _secret_key_issues(settings: Settings) -> list[Issue]:
    key = settings.secret_key
    issues: list[Issue] = []
    if key is None or key.strip().lower() in INSECURE_SECRET_KEYS:
        issues.append(
            Issue(
                "deploy.E002",
                "The secret key is not set, or is a well-known value: anyone could forge "
                "signed cookies and tokens.",
                f"Set OAKLING_SECRET_KEY to a long random value, e.g. the output of `{_NEW_KEY}`.",
            )
        )
    elif (reason := _weak_key_reason(key)) is not None:
        issues.append(
            Issue(
                "deploy.W003",
                f"The secret key is weak: {reason}.",
                f"Set OAKLING_SECRET_KEY to the output of `{_NEW_KEY}`; keep the old key in "
                "OAKLING_SECRET_KEY_FALLBACKS while sessions signed with it expire.",
            )
        )
    weak = [
        index
        for index, old in enumerate(settings.secret_key_fallbacks, 1)
        if old.strip().lower() in INSECURE_SECRET_KEYS or _weak_key_reason(old) is not None
    ]
    if weak:
        issues.append(
            Issue(
                "deploy.W006",
                "A fallback secret key is weak or well known (fallback number "
                f"{', '.join(map(str, weak))}): values signed with it are still accepted.",
                "Remove it from OAKLING_SECRET_KEY_FALLBACKS.",
            )
        )
    return issues


def _host_issues(settings: Settings) -> list[Issue]:
    hosts = {h.strip().lower() for h in settings.allowed_hosts}
    if "*" in hosts:
        return [
            Issue(
                "deploy.W004",
                "Allowed hosts contain '*': the app answers to any Host header, which "
                "enables host-header poisoning of absolute URLs (password-reset links, "
                "redirects) and cache poisoning.",
                "Set OAKLING_ALLOWED_HOSTS to your domain names, e.g. 'example.com,.example.org'.",
            )
        ]
    if hosts <= _LOCAL_HOSTS:
        return [
            Issue(
                "deploy.W005",
                "Allowed hosts list only local names (the default): requests for your "
                "domain will be answered with 400.",
                "Set OAKLING_ALLOWED_HOSTS to the names the site is served under, e.g. "
                "'example.com,www.example.com'.",
            )
        ]
    return []


def _proxy_issues(settings: Settings) -> list[Issue]:
    everyone = []
    for proxy in settings.trusted_proxies:
        try:
            network = ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            continue  # NOTE: the app refuses to start with an invalid one anyway
        if network.prefixlen == 0:
            everyone.append(proxy.strip())
    if not everyone:
        return []
    return [
        Issue(
            "deploy.W007",
            f"Trusted proxies include {', '.join(everyone)}, i.e. every address: any "
            "client can forge X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host.",
            "Set OAKLING_TRUSTED_PROXIES to the addresses of your own proxies only, "
            "e.g. '10.0.0.0/8' or '127.0.0.1'.",
        )
    ]
