from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClientFactory
from tests.services import REDIS, require

from oakling import App, Request
from oakling.config import Settings
from oakling.signing import TimestampSigner, b64encode, dumps, loads
from oakling.testing import TestClient
from oakling.web.sessions import MAX_COOKIE_SIZE, SALT, SessionManager

KEY = "k3y-" + "a1b2c3d4e5" * 6
OLD_KEY = "old-" + "z9y8x7w6v5" * 6


def make_app(**settings: Any) -> App:
    settings.setdefault("secret_key", KEY)
    app = App(settings=Settings(**settings))

    @app.get("/visit")
    def visit(request: Request) -> dict[str, Any]:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.get("/read")
    async def read(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.get("/plain")
    def plain() -> str:
        return "no session here"

    @app.get("/store/{size:int}")
    def store(request: Request, size: int) -> dict[str, int]:
        # NOTE: random text: the cookie is compressed when that helps.
        request.session["blob"] = secrets.token_urlsafe(size)[:size]
        return {"stored": size}

    @app.get("/login")
    def login(request: Request) -> dict[str, Any]:
        request.session.cycle_key()
        request.session["user"] = 42
        return {"user": 42}

    @app.get("/logout")
    async def logout(request: Request) -> None:
        request.session.flush()

    return app


def session_cookie(response: Any) -> str | None:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith("session="):
            return str(value)
    return None


def cookie_value(response: Any) -> str:
    header = session_cookie(response)
    assert header is not None
    return header.split(";", 1)[0].split("=", 1)[1]


# -- the signed cookie (default backend) --------------------------------------------------


def test_anonymous_visitor_gets_no_cookie(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    response = client.get("/read")
    assert response.status_code == 200
    assert response.json() == {}
    assert session_cookie(response) is None
    assert response.headers["vary"] == "Cookie"


def test_untouched_session_sends_no_vary(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/plain")
    assert "vary" not in response.headers
    assert session_cookie(response) is None


def test_session_survives_between_requests(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert client.get("/visit").json() == {"visits": 1}
    assert client.get("/visit").json() == {"visits": 2}
    assert client.get("/read").json() == {"visits": 2}


def test_reading_a_session_does_not_rewrite_it(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/visit")
    response = client.get("/read")
    assert session_cookie(response) is None
    assert response.headers["vary"] == "Cookie"


def test_cookie_flags_over_http(make_client: ClientFactory) -> None:
    header = session_cookie(make_client(make_app()).get("/visit"))
    assert header is not None
    parts = [part.strip() for part in header.split(";")]
    assert "HttpOnly" in parts
    assert "SameSite=Lax" in parts
    assert "Path=/" in parts
    assert "Max-Age=1209600" in parts
    assert "Secure" not in parts


def test_cookie_is_secure_over_https(interface: str) -> None:
    app = make_app()
    with TestClient(app, wsgi=interface == "wsgi", base_url="https://testserver") as client:
        header = session_cookie(client.get("/visit"))
    assert header is not None
    assert "Secure" in header.split("; ")


def test_cookie_settings_apply(make_client: ClientFactory) -> None:
    app = make_app(
        session_cookie_name="sid",
        session_cookie_secure=True,
        session_cookie_samesite="strict",
        session_cookie_domain="example.com",
        session_cookie_path="/app",
        session_cookie_age=60,
    )
    response = make_client(app).get("/visit")
    header = response.headers["set-cookie"]
    assert header.startswith("sid=")
    for part in ("Secure", "SameSite=Strict", "Domain=example.com", "Path=/app", "Max-Age=60"):
        assert part in header.split("; ")


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        "",
        "a.b.c",
        "....",
        "eyJ2IjoxfQ.99999999999999999999.AAAA",
        "\u00e9t\u00e9",
        "x" * 5000,
    ],
)
def test_garbage_cookie_gives_an_empty_session(
    make_client: ClientFactory, interface: str, value: str
) -> None:
    if interface == "wsgi" and not value.isascii():
        pytest.skip("httpx's WSGI transport cannot send a non-ASCII header")
    client = make_client(make_app())
    response = client.get("/read", headers={b"cookie": f"session={value}".encode()})
    assert response.status_code == 200
    assert response.json() == {}
    assert session_cookie(response) is None


def test_tampered_cookie_gives_an_empty_session(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    value = cookie_value(client.get("/login"))
    payload, stamp, signature = value.split(".")
    forged = json.dumps({"user": 1, "visits": 0}).encode()
    import base64

    forged_payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    client.cookies.clear()
    for cookie in (f"{forged_payload}.{stamp}.{signature}", f"{payload}.{stamp}.{signature[:-2]}"):
        response = client.get("/read", headers={"cookie": f"session={cookie}"})
        assert response.status_code == 200
        assert response.json() == {}
        # NOTE: nothing written back: the forged data is dropped, not stored.
        assert session_cookie(response) is None


def test_expired_cookie_gives_an_empty_session(make_client: ClientFactory) -> None:
    app = make_app(session_cookie_age=60)
    signer = TimestampSigner(KEY, salt=SALT)
    payload = b64encode(b'{"user": 42}')
    old = signer.sign(payload, now=time.time() - 61)
    fresh = signer.sign(payload, now=time.time() - 30)
    client = make_client(app)
    assert client.get("/read", headers={"cookie": f"session={old}"}).json() == {}
    assert client.get("/read", headers={"cookie": f"session={fresh}"}).json() == {"user": 42}


def test_cookie_signed_for_another_purpose_is_refused(make_client: ClientFactory) -> None:
    other = dumps({"user": 42}, KEY, salt="something.else")
    response = make_client(make_app()).get("/read", headers={"cookie": f"session={other}"})
    assert response.json() == {}


def test_old_key_is_accepted_and_the_cookie_re_signed(make_client: ClientFactory) -> None:
    old = dumps({"user": 42}, OLD_KEY, salt=SALT)
    client = make_client(make_app(secret_key_fallbacks=(OLD_KEY,)))
    response = client.get("/read", headers={"cookie": f"session={old}"})
    assert response.json() == {"user": 42}
    assert loads(cookie_value(response), KEY, salt=SALT) == {"user": 42}
    # NOTE: without the fallback, the old cookie is just an empty session.
    assert make_client(make_app()).get("/read", headers={"cookie": f"session={old}"}).json() == {}


def test_over_size_cookie_is_a_clear_error_and_writes_nothing(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(make_app())
    assert session_cookie(client.get("/store/2500")) is not None
    with caplog.at_level(logging.ERROR, logger="oakling.error"):
        response = client.get("/store/5000")
    assert response.status_code == 500
    assert session_cookie(response) is None
    message = caplog.records[-1].getMessage() + str(caplog.records[-1].exc_info[1])  # type: ignore[index]
    assert "SessionCookieTooLarge" in message
    assert f"over the {MAX_COOKIE_SIZE} bytes" in message
    assert "OAKLING_SESSION_BACKEND=redis or db" in message
    # NOTE: the previous session is still the one the browser holds.
    assert len(client.get("/read").json()["blob"]) == 2500


def test_flush_deletes_the_cookie(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/visit")
    response = client.get("/logout")
    header = session_cookie(response)
    assert header is not None
    assert "Max-Age=0" in header
    assert client.get("/read").json() == {}


def test_flush_of_an_anonymous_session_sends_no_cookie(make_client: ClientFactory) -> None:
    response = make_client(make_app()).get("/logout")
    assert session_cookie(response) is None


def test_cycle_key_keeps_the_data(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    client.get("/visit")
    client.get("/login")
    assert client.get("/read").json() == {"visits": 1, "user": 42}


def test_non_permanent_session_cookie_ends_with_the_browser(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/forget-me")
    def forget_me(request: Request) -> None:
        request.session["user"] = 1
        request.session.permanent = False

    client = make_client(app)
    header = session_cookie(client.get("/forget-me"))
    assert header is not None
    assert "Max-Age" not in header
    assert client.get("/read").json() == {"user": 1, "_permanent": False}
    header = session_cookie(client.get("/visit"))
    assert header is not None
    assert "Max-Age" not in header


def test_session_repr_shows_no_values() -> None:
    from oakling.http.session import Session

    session = Session({"token": "s3cret"}, key="abc")
    assert "s3cret" not in repr(session)
    assert "abc" not in repr(session)


def test_nested_change_needs_modified_flag(make_client: ClientFactory) -> None:
    app = make_app()

    @app.get("/cart")
    def cart(request: Request) -> dict[str, Any]:
        items = request.session.setdefault("items", [])
        items.append(len(items))
        request.session.modified = True
        return {"items": items}

    client = make_client(app)
    client.get("/cart")
    assert client.get("/cart").json() == {"items": [0, 1]}


def test_request_session_without_secret_key_in_debug(make_client: ClientFactory) -> None:
    app = App(settings=Settings(debug=True))

    @app.get("/visit")
    def visit(request: Request) -> dict[str, Any]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    client = make_client(app)
    client.get("/visit")
    assert client.get("/visit").json() == {"n": 2}


# -- Redis ----------------------------------------------------------------------------------


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    require(REDIS)
    import redis

    prefix = f"oakling-test:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis(host=REDIS[0], port=REDIS[1])
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def redis_keys(prefix: str) -> dict[str, Any]:
    import redis

    client = redis.Redis(host=REDIS[0], port=REDIS[1])
    try:
        return {
            key.decode()[len(prefix) :]: (json.loads(client.get(key) or b"null"), client.ttl(key))
            for key in client.scan_iter(prefix + "*")
        }
    finally:
        client.close()


def redis_app(prefix: str, **settings: Any) -> App:
    return make_app(session_backend="redis", session_redis_prefix=prefix, **settings)


def test_redis_session_keeps_only_an_id_in_the_cookie(
    make_client: ClientFactory, redis_prefix: str
) -> None:
    client = make_client(redis_app(redis_prefix))
    response = client.get("/visit")
    key = cookie_value(response)
    assert 32 <= len(key) <= 64
    stored = redis_keys(redis_prefix)
    assert list(stored) == [key]
    data, ttl = stored[key]
    assert data == {"visits": 1}
    assert 1209600 - 10 < ttl <= 1209600
    assert client.get("/visit").json() == {"visits": 2}
    assert client.get("/read").json() == {"visits": 2}
    assert redis_keys(redis_prefix)[key][0] == {"visits": 2}


def test_redis_anonymous_visitor_stores_nothing(
    make_client: ClientFactory, redis_prefix: str
) -> None:
    response = make_client(redis_app(redis_prefix)).get("/read")
    assert response.json() == {}
    assert session_cookie(response) is None
    assert redis_keys(redis_prefix) == {}


@pytest.mark.parametrize("value", ["nope", "A" * 43, "../../etc", "x" * 200])
def test_redis_unknown_or_bad_id_gives_an_empty_session(
    make_client: ClientFactory, redis_prefix: str, value: str
) -> None:
    response = make_client(redis_app(redis_prefix)).get(
        "/read", headers={"cookie": f"session={value}"}
    )
    assert response.status_code == 200
    assert response.json() == {}
    assert redis_keys(redis_prefix) == {}


def test_redis_session_fixation_old_id_does_not_survive_login(
    make_client: ClientFactory, redis_prefix: str
) -> None:
    client = make_client(redis_app(redis_prefix))
    planted = cookie_value(client.get("/visit"))
    new = cookie_value(client.get("/login"))
    assert new != planted
    assert list(redis_keys(redis_prefix)) == [new]
    assert redis_keys(redis_prefix)[new][0] == {"visits": 1, "user": 42}
    client.cookies.clear()
    # NOTE: the attacker who planted the old id gets nothing, and nothing is stored.
    attacker = client.get("/read", headers={"cookie": f"session={planted}"})
    assert attacker.json() == {}
    assert session_cookie(attacker) is None
    assert list(redis_keys(redis_prefix)) == [new]


def test_redis_flush_deletes_the_stored_session(
    make_client: ClientFactory, redis_prefix: str
) -> None:
    client = make_client(redis_app(redis_prefix))
    client.get("/visit")
    response = client.get("/logout")
    assert "Max-Age=0" in (session_cookie(response) or "")
    assert redis_keys(redis_prefix) == {}


def test_redis_session_expires(make_client: ClientFactory, redis_prefix: str) -> None:
    client = make_client(redis_app(redis_prefix, session_cookie_age=1))
    key = cookie_value(client.get("/visit"))
    time.sleep(1.5)
    response = client.get("/read", headers={"cookie": f"session={key}"})
    assert response.json() == {}
    assert redis_keys(redis_prefix) == {}


def test_redis_down_is_a_503(make_client: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(
        session_backend="redis",
        redis_url="redis://:hunter2@127.0.0.1:1/0",
        session_store_timeout=0.5,
    )
    client = make_client(app)
    with caplog.at_level(logging.ERROR, logger="oakling.sessions"):
        response = client.get("/visit")
        assert response.status_code == 503
        assert "session store is not available" in response.json()["detail"]
        response = client.get("/read", headers={"cookie": "session=" + "a" * 43})
        assert response.status_code == 503
    assert "hunter2" not in caplog.text
    assert "127.0.0.1:1" in caplog.text


def test_custom_store_object(make_client: ClientFactory) -> None:
    class MemoryStore:
        def __init__(self) -> None:
            self.data: dict[str, dict[str, Any]] = {}

        def load(self, key: str) -> dict[str, Any] | None:
            return self.data.get(key)

        def save(self, key: str, data: dict[str, Any], max_age: int) -> None:
            self.data[key] = dict(data)

        def delete(self, key: str) -> None:
            self.data.pop(key, None)

        async def aload(self, key: str) -> dict[str, Any] | None:
            return self.load(key)

        async def asave(self, key: str, data: dict[str, Any], max_age: int) -> None:
            self.save(key, data, max_age)

        async def adelete(self, key: str) -> None:
            self.delete(key)

    app = make_app()
    store = MemoryStore()
    app.sessions.store = store
    client = make_client(app)
    client.get("/visit")
    assert client.get("/read").json() == {"visits": 1}
    assert list(store.data.values()) == [{"visits": 1}]
    assert isinstance(app.sessions, SessionManager)


# -- the database ---------------------------------------------------------------------------


def db_app(tmp_path: Path) -> App:
    return make_app(session_backend="db", database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")


def db_rows(tmp_path: Path) -> dict[str, Any]:
    import sqlite3

    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        rows = conn.execute("SELECT session_key, data, expires_at FROM oakling_session").fetchall()
    return {key: (json.loads(data), expires) for key, data, expires in rows}


def test_db_session_round_trip(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client(db_app(tmp_path))
    key = cookie_value(client.get("/visit"))
    assert client.get("/visit").json() == {"visits": 2}
    rows = db_rows(tmp_path)
    assert list(rows) == [key]
    data, expires = rows[key]
    assert data == {"visits": 2}
    assert abs(expires - (time.time() + 1209600)) < 60


def test_db_session_fixation_old_id_does_not_survive_login(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = make_client(db_app(tmp_path))
    planted = cookie_value(client.get("/visit"))
    new = cookie_value(client.get("/login"))
    assert list(db_rows(tmp_path)) == [new]
    client.cookies.clear()
    attacker = client.get("/read", headers={"cookie": f"session={planted}"})
    assert attacker.json() == {}
    assert list(db_rows(tmp_path)) == [new]


def test_db_expired_row_is_an_empty_session(make_client: ClientFactory, tmp_path: Path) -> None:
    import sqlite3

    client = make_client(db_app(tmp_path))
    key = cookie_value(client.get("/visit"))
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.execute("UPDATE oakling_session SET expires_at = 1")
    assert client.get("/read", headers={"cookie": f"session={key}"}).json() == {}


# -- the documentation's example ------------------------------------------------------------


def test_docs_example_login_flow(interface: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import re

    for name in [n for n in __import__("os").environ if n.startswith("OAKLING_")]:
        monkeypatch.delenv(name)
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "sessions_1.py"
    spec = importlib.util.spec_from_file_location("docs_sessions_1", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with TestClient(module.app, wsgi=interface == "wsgi") as client:
        # NOTE: a forged login (no session, no token) is refused: @protect.
        assert client.post("/login", data={"username": "ada"}).status_code == 403
        page = client.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        data = {"username": "ada", "password": "correct horse", "csrf_token": token.group(1)}
        response = client.post("/login", data=data)
        assert response.status_code == 303
        page = client.get("/").text
        assert "<p>Welcome, ada</p>" in page
        assert "Hello ada" in page
        assert "Welcome" not in client.get("/").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        assert client.post("/logout").status_code == 403
        assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
        assert "Log in" in client.get("/").text
