"""Typed settings from ``OAKLING_*`` environment variables and a ``.env`` file.

``Settings.from_env()`` reads every field of the dataclass from the environment
(``debug`` from ``OAKLING_DEBUG``), converting by the field's type. Subclass
``Settings`` to add your own fields; they are read the same way. Every bad value
is reported at once, in one ``ConfigurationError``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, Union, get_args, get_origin

from oakling.exceptions import ConfigurationError
from oakling.http.limits import Limits

if typing.TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ("INSECURE_SECRET_KEYS", "Settings", "read_env_file")

_LIMITS = Limits()

INSECURE_SECRET_KEYS = frozenset(
    {
        "",
        "secret",
        "secret-key",
        "secret_key",
        "changeme",
        "change-me",
        "change_me",
        "dev",
        "development",
        "insecure",
        "default",
        "test",
        "oakling-insecure-dev-key",
    }
)
"""Secret keys that are public knowledge; outside debug the app refuses them."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The app's settings; each field is read from ``OAKLING_<FIELD NAME>``.

    Attributes:
        debug: Show tracebacks in error pages and relax start-up checks. Never in production.
        secret_key: Key for signing (sessions, tokens). Required outside debug.
        secret_key_fallbacks: Old keys still accepted when verifying, for rotation.
        allowed_hosts: Host names the app answers to; ``*`` for any, ``.example.com``
            for a domain and its subdomains. Others get 400.
        trusted_proxies: Client addresses (IPs or CIDR networks) whose ``X-Forwarded-For``,
            ``X-Forwarded-Proto`` and ``X-Forwarded-Host`` headers are believed.
        access_log: Log one line per request on the ``oakling.access`` logger.
        request_id: Accept a sane ``X-Request-ID`` or generate one, and send it back.
        max_body_size: See ``Limits``; also ``max_upload_size``, ``max_form_fields``,
            ``max_multipart_parts``, ``max_field_size``, ``max_part_header_size``,
            ``spool_max_size`` and ``max_json_depth``.
        thread_pool_size: Threads running sync handlers under ASGI.
        database_url: The default database (``oakling[db]``); a driver is picked for sync
            and async use, e.g. ``postgresql://`` gives psycopg and asyncpg.
        databases: More named databases, ``{"name": "url"}`` (JSON in the environment).
        db_pool_size: Connections kept open per engine; ``db_max_overflow`` more on demand.
        db_pool_timeout: Seconds to wait for a free pooled connection before a 503.
        db_connect_timeout: Seconds to wait for the database server to answer a connect.
        db_echo: Log every SQL statement (``sqlalchemy.engine`` logger).
        db_retry_after: ``Retry-After`` seconds sent with a 503 when the database is down.
        email_backend: ``smtp``, ``console``, ``memory`` or a dotted path (``oakling.mail``).
        email_host: The SMTP server; also ``email_port``, ``email_user``,
            ``email_password``, ``email_use_tls`` (STARTTLS), ``email_use_ssl`` and
            ``email_timeout`` (seconds).
        default_from_email: The sender of messages that name none.
        password_time_cost: argon2id iterations for password hashes; also
            ``password_memory_cost`` (KiB) and ``password_parallelism``. Raising them
            rehashes each user's password at their next login.
        redis_url: The Redis server shared state uses (rate limits, sessions, cache).
        rate_limit_store: Where rate-limit counters live: ``memory`` (one process) or
            ``redis`` (shared by every process and machine).
        template_dirs: The project's template folders, searched in order before the
            components' ones; relative paths are relative to the app's module folder.
        static_url: The URL path static files are served under (``static()`` in
            templates builds URLs with it; components' files go under
            ``<static_url>/<component name>/``).
        static_root: Where ``oakling collectstatic`` copies every static file, with
            content-hashed names and a ``manifest.json``; relative to the app's module
            folder. Outside debug, when the manifest exists, files are served from here.
        static_max_age: ``Cache-Control`` max-age, in seconds, for static files whose
            names carry no content hash (hashed ones are cached for a year).
        session_backend: Where ``request.session`` lives: ``cookie`` (signed with the
            secret key), ``redis`` (at ``redis_url``) or ``db`` (``oakling.db``).
        session_cookie_name: The session cookie's name; also ``session_cookie_path``,
            ``session_cookie_domain``, ``session_cookie_httponly`` and
            ``session_cookie_samesite`` (``lax``, ``strict`` or ``none``).
        session_cookie_age: Seconds a session lives after its last change.
        session_cookie_secure: Send the cookie over HTTPS only; unset: when the request
            came over HTTPS.
        session_redis_prefix: Put before session ids in Redis.
        session_store_timeout: Seconds to wait for Redis or the database before a 503.
        csrf_enabled: Check unsafe requests that carry the session cookie (``oakling.web.csrf``).
        csrf_trusted_origins: Other origins allowed to post, e.g. ``https://*.example.com``.
        secure_content_type_nosniff: Send ``X-Content-Type-Options: nosniff``.
        x_frame_options: ``DENY``, ``SAMEORIGIN`` or empty (no header).
        secure_referrer_policy: The ``Referrer-Policy`` (empty: no header).
        secure_cross_origin_opener_policy: The ``Cross-Origin-Opener-Policy`` (empty: none).
        secure_hsts_seconds: ``Strict-Transport-Security`` max-age on HTTPS responses
            (0: no header; never sent in debug); also ``secure_hsts_include_subdomains``
            and ``secure_hsts_preload``.
        content_security_policy: A ``Content-Security-Policy`` to send, ``{nonce}`` for
            a per-response nonce; ``content_security_policy_report_only`` likewise.
        secure_ssl_redirect: Answer ``http://`` requests with a 301 to ``https://``.
        secure_redirect_exempt: Path prefixes left on HTTP (health checks).
    """

    debug: bool = False
    secret_key: str | None = field(default=None, repr=False)
    secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]", "testserver")
    trusted_proxies: tuple[str, ...] = ()
    access_log: bool = False
    request_id: bool = True
    max_body_size: int = _LIMITS.max_body_size
    max_upload_size: int = _LIMITS.max_upload_size
    max_form_fields: int = _LIMITS.max_form_fields
    max_multipart_parts: int = _LIMITS.max_multipart_parts
    max_field_size: int = _LIMITS.max_field_size
    max_part_header_size: int = _LIMITS.max_part_header_size
    spool_max_size: int = _LIMITS.spool_max_size
    max_json_depth: int = _LIMITS.max_json_depth
    thread_pool_size: int = 40
    # -- data layer (oakling.db) --
    database_url: str = "sqlite:///db.sqlite3"
    databases: dict[str, str] = field(default_factory=dict)
    db_pool_size: int = 5
    db_max_overflow: int = 10
    db_pool_timeout: float = 10.0
    db_connect_timeout: float = 5.0
    db_echo: bool = False
    db_retry_after: int = 5
    # -- e-mail (oakling.mail) --
    email_backend: str = "smtp"
    email_host: str = "localhost"
    email_port: int = 25
    email_user: str | None = None
    email_password: str | None = field(default=None, repr=False)
    email_use_tls: bool = False
    email_use_ssl: bool = False
    email_timeout: float = 10.0
    default_from_email: str = "webmaster@localhost"
    # -- passwords (oakling.auth) --
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    password_parallelism: int = 4
    # -- shared state --
    redis_url: str = "redis://127.0.0.1:6379/0"
    rate_limit_store: str = "memory"
    # -- templates and static files (oakling.web) --
    template_dirs: tuple[str, ...] = ("templates",)
    static_url: str = "/static"
    static_root: str = "staticfiles"
    static_max_age: int = 60
    # -- sessions, CSRF and security headers (oakling.web) --
    session_backend: str = "cookie"
    session_cookie_name: str = "session"
    session_cookie_age: int = 60 * 60 * 24 * 14
    session_cookie_secure: bool | None = None
    session_cookie_httponly: bool = True
    session_cookie_samesite: str = "lax"
    session_cookie_path: str = "/"
    session_cookie_domain: str | None = None
    session_redis_prefix: str = "oakling:session:"
    session_store_timeout: float = 2.0
    csrf_enabled: bool = True
    csrf_trusted_origins: tuple[str, ...] = ()
    secure_content_type_nosniff: bool = True
    x_frame_options: str = "DENY"
    secure_referrer_policy: str = "same-origin"
    secure_cross_origin_opener_policy: str = "same-origin"
    secure_hsts_seconds: int = 60 * 60 * 24 * 365
    secure_hsts_include_subdomains: bool = False
    secure_hsts_preload: bool = False
    content_security_policy: str = ""
    content_security_policy_report_only: str = ""
    secure_ssl_redirect: bool = False
    secure_redirect_exempt: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        errors = self.problems()
        if errors:
            raise ConfigurationError("Invalid settings:\n  " + "\n  ".join(errors))

    def problems(self, prefix: str = "OAKLING_") -> list[str]:
        """List the values that are of the right type but unusable, by variable name."""
        errors = [
            f"{prefix}{name.upper()}: must be a positive integer, got {getattr(self, name)!r}"
            for name in (
                *(f.name for f in dataclasses.fields(Limits)),
                "thread_pool_size",
                "db_pool_size",
                "db_pool_timeout",
                "db_connect_timeout",
            )
            if getattr(self, name) <= 0
        ]
        if not self.static_url.startswith("/") or self.static_url.rstrip("/") == "":
            errors.append(
                f"{prefix}STATIC_URL: must be a URL path such as /static, got {self.static_url!r}"
            )
        if self.static_max_age < 0:
            errors.append(f"{prefix}STATIC_MAX_AGE: must be 0 or more, got {self.static_max_age!r}")
        errors.extend(self._web_problems(prefix))
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                errors.append(
                    f"{prefix}TRUSTED_PROXIES: {proxy!r} is not an IP address or network "
                    "(e.g. 10.0.0.1 or 10.0.0.0/8)"
                )
        return errors

    def _web_problems(self, prefix: str) -> list[str]:
        errors: list[str] = []
        if self.session_backend not in ("cookie", "redis", "db"):
            errors.append(
                f"{prefix}SESSION_BACKEND: use cookie, redis or db, got {self.session_backend!r}"
            )
        if self.session_cookie_samesite.lower() not in ("lax", "strict", "none"):
            errors.append(
                f"{prefix}SESSION_COOKIE_SAMESITE: use lax, strict or none, "
                f"got {self.session_cookie_samesite!r}"
            )
        if self.session_cookie_age <= 0 or self.session_store_timeout <= 0:
            errors.append(
                f"{prefix}SESSION_COOKIE_AGE and {prefix}SESSION_STORE_TIMEOUT: must be positive"
            )
        if not self.session_cookie_name or not all(
            c.isalnum() or c in "_-." for c in self.session_cookie_name
        ):
            errors.append(
                f"{prefix}SESSION_COOKIE_NAME: use letters, digits, '_', '-' and '.', "
                f"got {self.session_cookie_name!r}"
            )
        if self.x_frame_options.upper() not in ("", "DENY", "SAMEORIGIN"):
            errors.append(
                f"{prefix}X_FRAME_OPTIONS: use DENY, SAMEORIGIN or nothing, "
                f"got {self.x_frame_options!r}"
            )
        if self.secure_hsts_seconds < 0:
            errors.append(f"{prefix}SECURE_HSTS_SECONDS: must be 0 or more")
        for origin in self.csrf_trusted_origins:
            if "://" not in origin:
                errors.append(
                    f"{prefix}CSRF_TRUSTED_ORIGINS: {origin!r} needs a scheme, "
                    "e.g. https://example.com or https://*.example.com"
                )
        errors.extend(self._text_problems(prefix))
        return errors

    def _text_problems(self, prefix: str) -> list[str]:
        errors: list[str] = []
        for name in ("session_cookie_path", "session_cookie_domain"):
            value = getattr(self, name) or ""
            if any(c == ";" or not c.isprintable() for c in value) or not value.isascii():
                errors.append(f"{prefix}{name.upper()}: no ';', no control characters")
        for name in (
            "x_frame_options",
            "secure_referrer_policy",
            "secure_cross_origin_opener_policy",
            "content_security_policy",
            "content_security_policy_report_only",
        ):
            value = getattr(self, name)
            if any(c in value for c in "\r\n\x00") or not value.isascii():
                errors.append(f"{prefix}{name.upper()}: must be printable ASCII on one line")
        return errors

    @property
    def limits(self) -> Limits:
        """The request size limits as one object."""
        return Limits(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Limits)})

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: str | os.PathLike[str] | None = ".env",
        prefix: str = "OAKLING_",
        **overrides: Any,
    ) -> Self:
        """Read settings from the environment, a ``.env`` file and ``overrides``.

        Precedence, highest first: ``overrides``, the process environment, the
        ``.env`` file, the field defaults.

        Raises:
            ConfigurationError: Naming every variable whose value is invalid.
        """
        source: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            source.update(read_env_file(env_file))
        source.update(os.environ if environ is None else environ)
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        errors: list[str] = []
        for f in dataclasses.fields(cls):
            if f.name in overrides:
                values[f.name] = overrides.pop(f.name)
                continue
            var = prefix + f.name.upper()
            if var not in source:
                continue
            try:
                values[f.name] = _parse(source[var], hints[f.name])
            except ValueError as exc:
                shown = "<hidden>" if "secret" in f.name else repr(source[var][:60])
                errors.append(f"{var}={shown}: {exc}")
        if overrides:
            errors.append(f"unknown setting(s): {', '.join(sorted(overrides))}")
        settings: Self | None = None
        try:
            settings = cls(**values)
        except ConfigurationError as exc:
            # NOTE: report unusable values together with unparsable ones, all at once.
            errors.extend(line.strip() for line in str(exc).splitlines()[1:])
        if errors or settings is None:
            raise ConfigurationError("Invalid settings:\n  " + "\n  ".join(errors))
        return settings


def _parse(text: str, tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if text.strip() == "" and len(args) < len(get_args(tp)):
            return None
        return _parse(text, args[0])
    if tp in (bool, int, float):
        return _parse_number(text, tp)
    if origin is dict or tp is dict:
        return _parse_mapping(text)
    if origin in (tuple, list, frozenset, set):
        item = get_args(tp)[0] if get_args(tp) else str
        items = tuple(_parse(part.strip(), item) for part in text.split(",") if part.strip())
        return items if origin is tuple else origin(items)
    if tp is str or tp is Any:
        return text
    raise ValueError(f"settings of type {tp!r} cannot be read from the environment")


def _parse_number(text: str, tp: type) -> bool | int | float:
    if tp is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("expected a boolean: true/false, 1/0, yes/no, on/off")
    if tp is int:
        try:
            return int(text.strip().replace("_", ""))
        except ValueError:
            raise ValueError("expected an integer") from None
    try:
        return float(text)
    except ValueError:
        raise ValueError("expected a number") from None


def _parse_mapping(text: str) -> dict[str, str]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        raise ValueError('expected a JSON object, e.g. {"name": "value"}') from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError('expected a JSON object of strings, e.g. {"name": "value"}')
    return value


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read ``KEY=VALUE`` lines from a ``.env`` file.

    Blank lines and ``#`` comments are skipped; ``export`` prefixes and matching
    single or double quotes around values are removed.
    """
    values: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.replace("_", "").isalnum():
            raise ConfigurationError(f"{path}, line {number}: expected KEY=VALUE, got {line!r}")
        if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
            # NOTE: a quoted value ends at its closing quote; a comment may follow.
            value = value[1 : value.find(value[0], 1)]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values
