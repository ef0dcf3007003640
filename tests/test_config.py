from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from oakling import App, Settings
from oakling.config import read_env_file
from oakling.exceptions import ConfigurationError
from oakling.testing import TestClient


def test_settings_read_from_environment_with_types() -> None:
    settings = Settings.from_env(
        {
            "OAKLING_DEBUG": "true",
            "OAKLING_SECRET_KEY": "k" * 50,
            "OAKLING_ALLOWED_HOSTS": "example.com, .example.org",
            "OAKLING_MAX_BODY_SIZE": "2_000",
            "OAKLING_ACCESS_LOG": "0",
        },
        env_file=None,
    )
    assert settings.debug is True
    assert settings.secret_key == "k" * 50
    assert settings.allowed_hosts == ("example.com", ".example.org")
    assert settings.max_body_size == 2000
    assert settings.access_log is False
    assert settings.limits.max_body_size == 2000


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(
            {"OAKLING_DEBUG": "maybe", "OAKLING_MAX_BODY_SIZE": "big", "OAKLING_SECRET_KEY": "x"},
            env_file=None,
        )
    message = str(info.value)
    assert "OAKLING_DEBUG='maybe': expected a boolean" in message
    assert "OAKLING_MAX_BODY_SIZE='big': expected an integer" in message


def test_secret_values_are_not_echoed_in_errors() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class MySettings(Settings):
        secret_token_count: int = 1

    with pytest.raises(ConfigurationError) as info:
        MySettings.from_env({"OAKLING_SECRET_TOKEN_COUNT": "hunter2"}, env_file=None)
    assert "hunter2" not in str(info.value)
    assert "<hidden>" in str(info.value)


def test_non_positive_limit_is_rejected() -> None:
    with pytest.raises(
        ConfigurationError, match="OAKLING_MAX_BODY_SIZE: must be a positive integer"
    ):
        Settings(max_body_size=0)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# comment\nexport OAKLING_DEBUG=1\nOAKLING_SECRET_KEY='from file'\n"
        'OAKLING_ALLOWED_HOSTS="a.com,b.com" \nOAKLING_ACCESS_LOG=yes # trailing comment\n'
    )
    settings = Settings.from_env({"OAKLING_DEBUG": "0"}, env_file=env)
    assert settings.debug is False
    assert settings.secret_key == "from file"
    assert settings.allowed_hosts == ("a.com", "b.com")
    assert settings.access_log is True


def test_malformed_env_file_line_is_reported(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("OAKLING_DEBUG=1\nthis is not a setting\n")
    with pytest.raises(ConfigurationError, match="line 2"):
        read_env_file(env)


def test_custom_settings_subclass_fields_are_read() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class MySettings(Settings):
        stripe_key: str = ""
        workers: int = 1
        regions: tuple[str, ...] = ()

    settings = MySettings.from_env(
        {"OAKLING_STRIPE_KEY": "sk", "OAKLING_WORKERS": "4", "OAKLING_REGIONS": "eu,us"},
        env_file=None,
    )
    assert (settings.stripe_key, settings.workers, settings.regions) == ("sk", 4, ("eu", "us"))


def test_overrides_win_and_unknown_overrides_fail() -> None:
    assert Settings.from_env({}, env_file=None, debug=True).debug is True
    with pytest.raises(ConfigurationError, match="unknown setting"):
        Settings.from_env({}, env_file=None, nope=1)


def test_app_refuses_to_start_without_secret_key_outside_debug() -> None:
    app = App(settings=Settings(debug=False))
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        app.check()
    with pytest.raises(ConfigurationError, match="well-known default"):
        App(settings=Settings(secret_key="changeme")).check()
    App(settings=Settings(secret_key="a-long-random-value-" * 3)).check()
    App(settings=Settings(debug=True)).check()


def test_lifespan_startup_fails_without_secret_key() -> None:
    import asyncio

    app = App(settings=Settings(debug=False))
    sent: list[dict[str, str]] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))  # type: ignore[arg-type]
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "OAKLING_SECRET_KEY" in sent[0]["message"]


def test_test_client_runs_app_without_secret_key() -> None:
    app = App(settings=Settings(debug=False))

    @app.get("/")
    def index() -> str:
        return "ok"

    for wsgi in (False, True):
        with TestClient(app, wsgi=wsgi) as client:
            assert client.get("/").text == "ok"


def test_trusted_proxy_headers_only_from_trusted_peers() -> None:
    from oakling import Request

    def make(trusted: tuple[str, ...]) -> App:
        app = App(settings=Settings(debug=True, trusted_proxies=trusted, allowed_hosts=("*",)))

        @app.get("/")
        def index(request: Request) -> dict[str, object]:
            return {
                "client": request.client[0] if request.client else None,
                "scheme": request.scheme,
                "host": request.host,
            }

        return app

    headers = {
        "x-forwarded-for": "203.0.113.9, 10.0.0.2",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "shop.example.com",
    }
    with TestClient(make(())) as client:
        assert client.get("/", headers=headers).json() == {
            "client": "testclient",
            "scheme": "http",
            "host": "testserver",
        }
    app = make(("10.0.0.0/8",))
    with TestClient(app, wsgi=True) as client:
        transport_peer = client.get("/", headers=headers).json()
    # httpx's WSGI transport reports 127.0.0.1 as the peer: not trusted here.
    assert transport_peer["scheme"] == "http"
    app = make(("127.0.0.1", "10.0.0.0/8"))
    with TestClient(app, wsgi=True) as client:
        assert client.get("/", headers=headers).json() == {
            "client": "203.0.113.9",
            "scheme": "https",
            "host": "shop.example.com",
        }


def test_databases_are_read_as_a_json_object() -> None:
    settings = Settings.from_env(
        {"OAKLING_DATABASES": '{"analytics": "postgresql://127.0.0.1/test"}'}, env_file=None
    )
    assert settings.databases == {"analytics": "postgresql://127.0.0.1/test"}
    with pytest.raises(ConfigurationError, match=r"OAKLING_DATABASES.*JSON object"):
        Settings.from_env({"OAKLING_DATABASES": "analytics=x"}, env_file=None)
    with pytest.raises(ConfigurationError, match="OAKLING_DB_POOL_SIZE: must be a positive"):
        Settings.from_env({"OAKLING_DB_POOL_SIZE": "0"}, env_file=None)
