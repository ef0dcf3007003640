from __future__ import annotations

import pytest

from oakling.cli.checks import Issue, deploy_issues
from oakling.config import Settings

GOOD_KEY = "x9" * 13 + "abcdefghijklmnopqrstuvwxyz"


def ids(settings: Settings) -> list[str]:
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
