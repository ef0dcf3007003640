from __future__ import annotations

from typing import Any

import pytest

from oakling.cli.checks import Issue, deploy_issues
from oakling.config import Settings as BaseSettings

GOOD_KEY = "x9" * 13 + "abcdefghijklmnopqrstuvwxyz"


def Settings(**values: Any) -> BaseSettings:  # noqa: N802 - stands in for the class
    """Settings that are safe but for ``values`` (HTTPS redirect on, unlike the default)."""
    values.setdefault("secure_ssl_redirect", True)
    return BaseSettings(**values)


def ids(settings: BaseSettings) -> list[str]:
    return [issue.id for issue in deploy_issues(settings)]


def test_safe_settings_have_no_issue() -> None:
    assert ids(Settings(secret_key=GOOD_KEY, allowed_hosts=("example.com",))) == []


def test_debug_is_an_error() -> None:
    settings = Settings(debug=True, secret_key=GOOD_KEY, allowed_hosts=("example.com",))
    assert ids(settings) == ["deploy.E001"]
    assert deploy_issues(settings)[0].is_error


@pytest.mark.parametrize("key", [None, "", "changeme", "  Secret "])
def test_missing_or_known_secret_key_is_an_error(key: str | None) -> None:
    assert ids(Settings(secret_key=key, allowed_hosts=("example.com",))) == ["deploy.E002"]


@pytest.mark.parametrize("key", ["a-random-but-short-key", "ab" * 40])
def test_short_or_repetitive_secret_key_is_a_warning(key: str) -> None:
    issues = deploy_issues(Settings(secret_key=key, allowed_hosts=("example.com",)))
    assert [issue.id for issue in issues] == ["deploy.W003"]
    assert not issues[0].is_error


def test_weak_fallback_key_is_a_warning() -> None:
    settings = Settings(
        secret_key=GOOD_KEY, secret_key_fallbacks=(GOOD_KEY[::-1], "old"), allowed_hosts=("a.b",)
    )
    issues = deploy_issues(settings)
    assert [issue.id for issue in issues] == ["deploy.W006"]
    assert "fallback number 2" in issues[0].message


def test_wildcard_host_is_a_warning() -> None:
    assert ids(Settings(secret_key=GOOD_KEY, allowed_hosts=("*",))) == ["deploy.W004"]


def test_default_local_hosts_are_a_warning() -> None:
    assert ids(Settings(secret_key=GOOD_KEY)) == ["deploy.W005"]


@pytest.mark.parametrize("proxies", [("0.0.0.0/0",), ("10.0.0.1", "::/0")])
def test_trusting_every_proxy_is_a_warning(proxies: tuple[str, ...]) -> None:
    settings = Settings(secret_key=GOOD_KEY, allowed_hosts=("a.b",), trusted_proxies=proxies)
    assert ids(settings) == ["deploy.W007"]


def test_trusting_some_proxies_is_fine() -> None:
    settings = Settings(
        secret_key=GOOD_KEY, allowed_hosts=("a.b",), trusted_proxies=("10.0.0.0/8", "::1")
    )
    assert ids(settings) == []


def test_every_issue_has_a_fix() -> None:
    settings = Settings(debug=True, allowed_hosts=("*",), trusted_proxies=("0.0.0.0/0",))
    issues = deploy_issues(settings)
    assert [issue.id for issue in issues] == [
        "deploy.E001",
        "deploy.E002",
        "deploy.W004",
        "deploy.W007",
    ]
    assert all(isinstance(issue, Issue) and issue.fix for issue in issues)


def test_empty_allowed_hosts_is_a_warning() -> None:
    issues = deploy_issues(Settings(secret_key=GOOD_KEY, allowed_hosts=()))
    assert [issue.id for issue in issues] == ["deploy.W005"]
    assert "empty" in issues[0].message


def test_default_settings_warn_about_plain_http() -> None:
    settings = BaseSettings(secret_key=GOOD_KEY, allowed_hosts=("example.com",))
    issues = deploy_issues(settings)
    assert [issue.id for issue in issues] == ["security.W008"]
    assert "OAKLING_SECURE_SSL_REDIRECT=1" in issues[0].fix


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"secure_hsts_seconds": 0}, "security.W004"),
        ({"session_cookie_secure": False}, "security.W012"),
        ({"session_cookie_httponly": False}, "security.W013"),
        ({"session_cookie_samesite": "none"}, "security.W014"),
        ({"csrf_enabled": False}, "security.W003"),
        ({"csrf_trusted_origins": ("http://partner.example",)}, "security.W015"),
        ({"secure_content_type_nosniff": False}, "security.W006"),
        ({"x_frame_options": ""}, "security.W002"),
        ({"secure_referrer_policy": ""}, "security.W022"),
        ({"secure_cross_origin_opener_policy": ""}, "security.W024"),
    ],
)
def test_each_unsafe_web_setting_is_one_warning(change: dict[str, Any], expected: str) -> None:
    issues = deploy_issues(Settings(secret_key=GOOD_KEY, allowed_hosts=("a.b",), **change))
    assert [issue.id for issue in issues] == [expected]
    assert not issues[0].is_error
    assert issues[0].message
    assert issues[0].fix


def test_secure_cookie_left_to_the_request_scheme_is_fine() -> None:
    settings = Settings(secret_key=GOOD_KEY, allowed_hosts=("a.b",), session_cookie_secure=None)
    assert ids(settings) == []


def test_https_trusted_origins_are_fine() -> None:
    settings = Settings(
        secret_key=GOOD_KEY, allowed_hosts=("a.b",), csrf_trusted_origins=("https://*.a.b",)
    )
    assert ids(settings) == []
