from __future__ import annotations

from typing import Any

import msgspec
import pytest
from tests.conftest import ClientFactory

from oakling import App, Request
from oakling.config import Settings
from oakling.testing import TestClient
from oakling.web.csrf import CSRFError, csrf_input, csrf_token, exempt, protect, rotate_token

KEY = "k3y-" + "a1b2c3d4e5" * 6


class Note(msgspec.Struct):
    text: str


def make_app(**settings: Any) -> tuple[App, list[Any]]:
    settings.setdefault("secret_key", KEY)
    app = App(settings=Settings(**settings))
    stored: list[Any] = []

    @app.get("/form")
    def form(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request), "input": str(csrf_input(request))}

    @app.get("/touch")
    def touch(request: Request) -> dict[str, bool]:
        request.session["seen"] = True
        return {"ok": True}

    @app.post("/notes")
    def add(request: Request) -> dict[str, int]:
        form = request.read_form()
        stored.append(form.get("text"))
        request.session["notes"] = len(stored)
        return {"stored": len(stored)}

    @app.post("/api/notes")
    async def add_json(note: Note) -> dict[str, int]:
        stored.append(note.text)
        return {"stored": len(stored)}

    @app.delete("/notes")
    def clear() -> None:
        stored.clear()

    @app.post("/hook")
    @exempt
    def hook() -> dict[str, bool]:
        stored.append("hook")
        return {"ok": True}

    @app.post("/login")
    @protect
    def login(request: Request) -> dict[str, bool]:
        request.session.cycle_key()
        request.session["user"] = 1
        stored.append("login")
        return {"ok": True}

    @app.post("/rotate")
    def rotate(request: Request) -> dict[str, bool]:
        rotate_token(request)
        return {"ok": True}

    return app, stored


def token_of(client: TestClient) -> str:
    response = client.get("/form")
    assert response.status_code == 200
    return str(response.json()["token"])


# -- attacks --------------------------------------------------------------------------------


def test_forged_post_without_token_is_refused(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)  # the victim has a session
    before = client.cookies.get("session")
    response = client.post("/notes", data={"text": "forged"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert detail.startswith("CSRF check failed: CSRF token missing")
    assert "X-CSRF-Token" in detail
    assert stored == []
    assert "set-cookie" not in response.headers
    assert client.cookies.get("session") == before


def test_forged_json_post_without_token_is_refused(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)
    response = client.post("/api/notes", json={"text": "forged"})
    assert response.status_code == 403
    assert "CSRF token missing" in response.json()["detail"]
    assert stored == []


def test_forged_delete_is_refused(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    stored.append("keep")
    token_of(client)
    assert client.delete("/notes").status_code == 403
    assert stored == ["keep"]


def test_token_from_another_session_is_refused(make_client: ClientFactory) -> None:
    app, stored = make_app()
    attacker = make_client(app)
    victim = make_client(app)
    attackers_token = token_of(attacker)
    token_of(victim)
    response = victim.post("/notes", data={"text": "x", "csrf_token": attackers_token})
    assert response.status_code == 403
    assert "not issued for this session" in response.json()["detail"]
    response = victim.post(
        "/api/notes", json={"text": "x"}, headers={"x-csrf-token": attackers_token}
    )
    assert response.status_code == 403
    assert stored == []


@pytest.mark.parametrize("token", ["x", "A" * 86, "!" * 86, "a" * 200, "   "])
def test_malformed_token_is_refused(make_client: ClientFactory, token: str) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)
    response = client.post("/notes", data={"text": "x", "csrf_token": token})
    assert response.status_code == 403
    assert "CSRF check failed" in response.json()["detail"]
    assert stored == []


def test_session_without_secret_is_refused(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    client.get("/touch")  # a session, but no token was ever made for it
    response = client.post("/notes", data={"text": "x", "csrf_token": "A" * 86})
    assert response.status_code == 403
    assert "no CSRF secret" in response.json()["detail"]
    assert stored == []


def test_html_clients_get_a_page_that_says_why(make_client: ClientFactory) -> None:
    app, _ = make_app()
    client = make_client(app)
    token_of(client)
    response = client.post("/notes", data={"text": "x"}, headers={"accept": "text/html"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "CSRF token missing" in response.text


def test_error_handler_can_render_csrf_failures(make_client: ClientFactory) -> None:
    app, _ = make_app()

    @app.errorhandler(CSRFError)
    def refused(request: Request, exc: CSRFError) -> tuple[str, int]:
        return f"refused: {exc.reason}", 403

    client = make_client(app)
    token_of(client)
    response = client.post("/notes", data={"text": "x"})
    assert response.status_code == 403
    assert response.text.startswith("refused: CSRF token missing")


# -- what passes ----------------------------------------------------------------------------


def test_token_in_form_field_passes(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token = token_of(client)
    response = client.post("/notes", data={"text": "hello", "csrf_token": token})
    assert response.status_code == 200, response.text
    assert stored == ["hello"]


def test_token_in_multipart_form_passes(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token = token_of(client)
    response = client.post(
        "/notes", data={"text": "hello", "csrf_token": token}, files={"f": ("a.txt", b"abc")}
    )
    assert response.status_code == 200, response.text
    assert stored == ["hello"]


def test_token_in_header_passes(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token = token_of(client)
    response = client.post("/api/notes", json={"text": "hi"}, headers={"X-CSRF-Token": token})
    assert response.status_code == 200, response.text
    assert stored == ["hi"]


def test_tokens_are_masked_differently_each_time(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    first, second = token_of(client), token_of(client)
    assert first != second
    for token in (first, second):
        assert client.post("/notes", data={"text": "t", "csrf_token": token}).status_code == 200
    assert len(stored) == 2


def test_one_token_per_response(make_client: ClientFactory) -> None:
    app, _ = make_app()
    body = make_client(app).get("/form").json()
    assert f'value="{body["token"]}"' in body["input"]
    assert body["input"].startswith('<input type="hidden" name="csrf_token"')


def test_post_without_session_cookie_is_not_checked(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post("/api/notes", json={"text": "api"})
    assert response.status_code == 200
    assert stored == ["api"]


def test_bearer_requests_are_exempt(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)
    response = client.post(
        "/api/notes", json={"text": "t"}, headers={"authorization": "Bearer abc.def"}
    )
    assert response.status_code == 200
    assert stored == ["t"]


def test_basic_auth_is_not_exempt(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)
    response = client.post(
        "/api/notes", json={"text": "t"}, headers={"authorization": "Basic eA=="}
    )
    assert response.status_code == 403
    assert stored == []


def test_exempt_route(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    token_of(client)
    assert client.post("/hook").status_code == 200
    assert stored == ["hook"]


def test_protect_checks_without_a_session_cookie(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post("/login", data={"user": "me"})
    assert response.status_code == 403
    assert stored == []


def test_login_rotates_the_token(make_client: ClientFactory) -> None:
    app, stored = make_app()
    client = make_client(app)
    before_login = token_of(client)
    assert client.post("/login", data={"csrf_token": before_login}).status_code == 200
    response = client.post("/notes", data={"text": "x", "csrf_token": before_login})
    assert response.status_code == 403
    assert "no CSRF secret" in response.json()["detail"]
    after_login = token_of(client)
    assert client.post("/notes", data={"text": "x", "csrf_token": after_login}).status_code == 200
    assert stored == ["login", "x"]


def test_rotate_token(make_client: ClientFactory) -> None:
    app, _ = make_app()
    client = make_client(app)
    client.get("/touch")
    token = token_of(client)
    assert client.post("/rotate", headers={"x-csrf-token": token}).status_code == 200
    response = client.post("/rotate", headers={"x-csrf-token": token})
    assert response.status_code == 403
    assert "no CSRF secret" in response.json()["detail"]
    assert client.post("/rotate", headers={"x-csrf-token": token_of(client)}).status_code == 200


def test_csrf_can_be_turned_off(make_client: ClientFactory) -> None:
    app, stored = make_app(csrf_enabled=False)
    client = make_client(app)
    token_of(client)
    assert client.post("/notes", data={"text": "x"}).status_code == 200
    assert stored == ["x"]


def test_other_cookie_named_like_session_does_not_confuse(make_client: ClientFactory) -> None:
    app, stored = make_app()
    response = make_client(app).post(
        "/api/notes", json={"text": "t"}, headers={"cookie": "mysession=1"}
    )
    assert response.status_code == 200
    assert stored == ["t"]


# -- Origin and Referer -----------------------------------------------------------------------


def https_client(app: App, interface: str) -> TestClient:
    return TestClient(app, wsgi=interface == "wsgi", base_url="https://testserver")


def test_cross_origin_post_over_https_is_refused(interface: str) -> None:
    app, stored = make_app()
    with https_client(app, interface) as client:
        token = token_of(client)
        response = client.post(
            "/notes",
            data={"text": "x", "csrf_token": token},
            headers={"origin": "https://evil.example"},
        )
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert "Origin 'https://evil.example' is not this site (https://testserver)" in detail
        response = client.post(
            "/notes", data={"text": "x", "csrf_token": token}, headers={"origin": "null"}
        )
        assert response.status_code == 403
        response = client.post(
            "/notes",
            data={"text": "x", "csrf_token": token},
            headers={"origin": "http://testserver"},
        )
        assert response.status_code == 403
    assert stored == []


def test_same_origin_post_over_https_passes(interface: str) -> None:
    app, stored = make_app()
    with https_client(app, interface) as client:
        token = token_of(client)
        response = client.post(
            "/notes",
            data={"text": "x", "csrf_token": token},
            headers={"origin": "https://testserver"},
        )
        assert response.status_code == 200, response.text
    assert stored == ["x"]


def test_https_post_without_origin_needs_a_same_site_referer(interface: str) -> None:
    app, stored = make_app()
    with https_client(app, interface) as client:
        token = token_of(client)
        data = {"text": "x", "csrf_token": token}
        response = client.post("/notes", data=data)
        assert response.status_code == 403
        assert "Referer missing" in response.json()["detail"]
        response = client.post("/notes", data=data, headers={"referer": "https://evil.example/"})
        assert response.status_code == 403
        assert "is not this site" in response.json()["detail"]
        response = client.post("/notes", data=data, headers={"referer": "http://testserver/form"})
        assert response.status_code == 403
        assert "not a secure (https) URL" in response.json()["detail"]
        assert stored == []
        response = client.post("/notes", data=data, headers={"referer": "https://testserver/f"})
        assert response.status_code == 200
    assert stored == ["x"]


def test_trusted_origins(interface: str) -> None:
    app, stored = make_app(
        csrf_trusted_origins=("https://*.example.com", "https://partner.example.org")
    )
    with https_client(app, interface) as client:
        token = token_of(client)
        data = {"text": "x", "csrf_token": token}
        for origin in (
            "https://shop.example.com",
            "https://example.com",
            "https://partner.example.org",
        ):
            response = client.post("/notes", data=data, headers={"origin": origin})
            assert response.status_code == 200, (origin, response.text)
        for origin in (
            "https://evilexample.com",
            "http://shop.example.com",
            "https://x.example.org",
        ):
            response = client.post("/notes", data=data, headers={"origin": origin})
            assert response.status_code == 403, origin
    assert len(stored) == 3


def test_cross_origin_post_over_http_is_refused_when_origin_is_sent(
    make_client: ClientFactory,
) -> None:
    app, stored = make_app()
    client = make_client(app)
    token = token_of(client)
    response = client.post(
        "/notes", data={"text": "x", "csrf_token": token}, headers={"origin": "http://evil.example"}
    )
    assert response.status_code == 403
    assert stored == []


def test_csrf_with_a_redis_session(make_client: ClientFactory) -> None:
    import uuid

    from tests.services import REDIS, require

    require(REDIS)
    prefix = f"oakling-test:{uuid.uuid4().hex}:"
    app, stored = make_app(session_backend="redis", session_redis_prefix=prefix)
    client = make_client(app)
    token = token_of(client)
    assert client.post("/api/notes", json={"text": "forged"}).status_code == 403
    response = client.post("/api/notes", json={"text": "ok"}, headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert client.post("/notes", data={"text": "form", "csrf_token": token}).status_code == 200
    assert stored == ["ok", "form"]
    import redis

    redis_client = redis.Redis(host=REDIS[0], port=REDIS[1])
    for key in redis_client.scan_iter(prefix + "*"):
        redis_client.delete(key)
    redis_client.close()
