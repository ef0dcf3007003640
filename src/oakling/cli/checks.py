"""Deployment checks for ``oakling check --deploy``: what is unsafe in production.

Each issue has an id (``deploy.E001`` is an error, ``deploy.W003`` a warning),
a message saying what is wrong and a fix. Errors make ``oakling check`` exit 1.
``deploy.*`` ids cover the core settings (debug, secret key, hosts, proxies);
``security.*`` ids the web layer's (HTTPS, HSTS, cookies, CSRF, headers), numbered
like Django's checks where one matches (``security.W004``: no HSTS).
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
    issues.extend(_https_issues(settings))
    issues.extend(_cookie_issues(settings))
    issues.extend(_header_issues(settings))
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
    if not hosts:
        return [
            Issue(
                "deploy.W005",
                "Allowed hosts is empty: every request will be answered with 400.",
                "Set OAKLING_ALLOWED_HOSTS to the names the site is served under, e.g. "
                "'example.com,www.example.com'.",
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


def _https_issues(settings: Settings) -> list[Issue]:
    issues: list[Issue] = []
    if not settings.secure_ssl_redirect:
        issues.append(
            Issue(
                "security.W008",
                "Plain HTTP requests are served as they are: pages, forms and cookies can "
                "be read and changed on the way.",
                "Set OAKLING_SECURE_SSL_REDIRECT=1 (and OAKLING_TRUSTED_PROXIES if TLS ends "
                "at a proxy), unless the proxy already redirects to HTTPS.",
            )
        )
    if settings.secure_hsts_seconds <= 0:
        issues.append(
            Issue(
                "security.W004",
                "HSTS is off (OAKLING_SECURE_HSTS_SECONDS=0): browsers may still try "
                "http:// first, where an attacker can intercept them.",
                "Set OAKLING_SECURE_HSTS_SECONDS to 31536000 (one year) once the whole "
                "site works over HTTPS.",
            )
        )
    return issues


def _cookie_issues(settings: Settings) -> list[Issue]:
    issues: list[Issue] = []
    if settings.session_cookie_secure is False:
        issues.append(
            Issue(
                "security.W012",
                "The session cookie is sent over plain HTTP too "
                "(OAKLING_SESSION_COOKIE_SECURE=0): anyone on the network can steal sessions.",
                "Unset OAKLING_SESSION_COOKIE_SECURE (Secure on HTTPS) or set it to 1.",
            )
        )
    if not settings.session_cookie_httponly:
        issues.append(
            Issue(
                "security.W013",
                "The session cookie is readable by JavaScript "
                "(OAKLING_SESSION_COOKIE_HTTPONLY=0): one XSS bug leaks every session.",
                "Set OAKLING_SESSION_COOKIE_HTTPONLY=1 (the default).",
            )
        )
    if settings.session_cookie_samesite.lower() == "none":
        issues.append(
            Issue(
                "security.W014",
                "The session cookie is SameSite=None: other sites' requests carry it.",
                "Set OAKLING_SESSION_COOKIE_SAMESITE=lax (the default) or strict.",
            )
        )
    if not settings.csrf_enabled:
        issues.append(
            Issue(
                "security.W003",
                "CSRF protection is off (OAKLING_CSRF_ENABLED=0): any site can make a "
                "logged-in visitor's browser post forms to this one.",
                "Set OAKLING_CSRF_ENABLED=1 (the default); exempt single routes with "
                "@oakling.web.csrf.exempt instead.",
            )
        )
    wide = [o for o in settings.csrf_trusted_origins if o.strip().lower().startswith("http://")]
    if wide:
        issues.append(
            Issue(
                "security.W015",
                f"CSRF trusted origins include plain-HTTP origins ({', '.join(wide)}): a "
                "network attacker can post from them.",
                "List only https:// origins in OAKLING_CSRF_TRUSTED_ORIGINS.",
            )
        )
    return issues


def _header_issues(settings: Settings) -> list[Issue]:
    issues: list[Issue] = []
    if not settings.secure_content_type_nosniff:
        issues.append(
            Issue(
                "security.W006",
                "X-Content-Type-Options: nosniff is off: browsers may run an upload "
                "or a JSON response as a script.",
                "Set OAKLING_SECURE_CONTENT_TYPE_NOSNIFF=1 (the default).",
            )
        )
    if not settings.x_frame_options:
        issues.append(
            Issue(
                "security.W002",
                "X-Frame-Options is off: other sites can frame your pages (clickjacking).",
                "Set OAKLING_X_FRAME_OPTIONS=DENY (the default), or SAMEORIGIN; allow "
                "framing per route with @security_headers(x_frame_options=...).",
            )
        )
    if not settings.secure_referrer_policy:
        issues.append(
            Issue(
                "security.W022",
                "No Referrer-Policy: full URLs (with their query strings) leak to other sites.",
                "Set OAKLING_SECURE_REFERRER_POLICY=same-origin (the default).",
            )
        )
    if not settings.secure_cross_origin_opener_policy:
        issues.append(
            Issue(
                "security.W024",
                "No Cross-Origin-Opener-Policy: pages opened by other sites keep a handle "
                "on your window.",
                "Set OAKLING_SECURE_CROSS_ORIGIN_OPENER_POLICY=same-origin (the default).",
            )
        )
    return issues
