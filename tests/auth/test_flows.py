from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from sqlalchemy import select
from tests.auth.conftest import PASSWORD, AppFactory, add_user, csrf_token, log_in

from oakling import Request
from oakling.auth import CurrentUser, User, login_required, permission_required, staff_required
from oakling.auth.models import Permission
from oakling.db.session import session
from oakling.mail import mailer


def add_pages(app: Any) -> None:
    @app.get("/me")
    @login_required
    def me(request: Request) -> dict[str, Any]:
        return {"username": request.user.username}

    @app.get("/whoami")
    def whoami(user: Annotated[User, CurrentUser]) -> str:
        return f"<p>{user.username}</p>"

    @app.get("/staff")
    @staff_required
    def staff() -> str:
        return "staff only"

    @app.get("/docs/edit")
    @permission_required("docs.change_doc")
    def edit() -> str:
        return "editing"


def test_log_in_and_out(make_app: AppFactory) -> None:
    app, client = make_app()
    add_pages(app)
    add_user(app)
    assert client.get("/me").status_code == 401
    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.get("/me").json() == {"username": "ann"}
    assert client.get("/whoami").text == "<p>ann</p>"
    with session(app) as db:
        user = db.scalars(select(User).where(User.username == "ann")).one()
        assert user.last_login is not None
    token = csrf_token(client.get("/auth/logout", headers={"Accept": "text/html"}).text)
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/me").status_code == 401


def test_login_by_email_any_case(make_app: AppFactory) -> None:
    app, client = make_app()
    add_pages(app)
    add_user(app)
    assert log_in(client, login="ANN@example.com").status_code == 303
    assert client.get("/me").json() == {"username": "ann"}


@pytest.mark.parametrize(("login", "password"), [("ann", "wrong-password"), ("nobody", PASSWORD)])
def test_wrong_password_and_unknown_user_look_the_same(
    make_app: AppFactory, login: str, password: str
) -> None:
    app, client = make_app()
    add_user(app)
    response = log_in(client, login=login, password=password)
    assert response.status_code == 422
    assert "Enter a correct username or e-mail and password." in response.text
    assert 'value="wrong-password"' not in response.text  # passwords never come back
    assert "auth_user_id" not in str(client.cookies)


def test_inactive_users_cannot_log_in(make_app: AppFactory) -> None:
    app, client = make_app()
    add_user(app, is_active=False)
    assert log_in(client).status_code == 422


def test_browsers_are_sent_to_the_login_page_and_back(make_app: AppFactory) -> None:
    app, client = make_app()
    add_pages(app)
    add_user(app)
    page = client.get("/me?tab=2", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2Fme%3Ftab%3D2"
    response = log_in(client, query="?next=%2Fme%3Ftab%3D2")
    assert response.headers["location"] == "/me?tab=2"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:evil",
        "javascript:x",
        "/\t/evil.example",
        " https://evil.example",
    ],
)
def test_next_never_redirects_off_site(make_app: AppFactory, target: str) -> None:
    from urllib.parse import quote

    app, client = make_app()
    add_user(app)
    response = log_in(client, query="?next=" + quote(target, safe=""))
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_session_fixation_is_defeated(make_app: AppFactory) -> None:
    app, client = make_app(settings={"session_backend": "db"})
    add_pages(app)
    add_user(app)
    client.get("/auth/login", headers={"Accept": "text/html"})
    planted = client.cookies.get("session")
    assert planted
    assert log_in(client).status_code == 303
    assert client.cookies.get("session") != planted
    assert client.get("/me").status_code == 200
    client.cookies.clear()
    client.cookies.set("session", planted)  # the attacker's copy of the old id
    assert client.get("/me").status_code == 401


def test_staff_and_permissions(make_app: AppFactory) -> None:
    app, client = make_app()
    add_pages(app)
    add_user(app)
    log_in(client)
    assert client.get("/staff").status_code == 403
    refused = client.get("/docs/edit")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You need the permission docs.change_doc for this"
    with session(app) as db:
        permission = Permission(app_label="docs", codename="change_doc", name="Can change doc")
        user = db.scalars(select(User)).one()
        user.user_permissions.append(permission)
        user.is_staff = True
    assert client.get("/docs/edit").text == "editing"
    assert client.get("/staff").text == "staff only"


def test_changing_the_password_logs_out_other_sessions(make_app: AppFactory) -> None:
    from oakling.testing import TestClient

    app, client = make_app()
    add_pages(app)
    add_user(app)
    log_in(client)
    other = TestClient(app)
    log_in(other)
    assert other.get("/me").status_code == 200
    page = client.get("/auth/password/change", headers={"Accept": "text/html"})
    response = client.post(
        "/auth/password/change",
        data={
            "old_password": PASSWORD,
            "new_password": "amber-kettle-lantern",
            "new_password_again": "amber-kettle-lantern",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303
    assert client.get("/me").status_code == 200  # this session stays logged in
    assert other.get("/me").status_code == 401  # the other one is out
    other.close()


def test_password_change_refuses_weak_and_wrong_passwords(make_app: AppFactory) -> None:
    app, client = make_app()
    add_user(app)
    log_in(client)
    page = client.get("/auth/password/change", headers={"Accept": "text/html"})
    token = csrf_token(page.text)
    wrong = client.post(
        "/auth/password/change",
        data={
            "old_password": "nope",
            "new_password": "amber-kettle-lantern",
            "new_password_again": "amber-kettle-lantern",
            "csrf_token": token,
        },
    )
    assert wrong.status_code == 422
    assert "Your current password is not correct." in wrong.text
    weak = client.post(
        "/auth/password/change",
        data={
            "old_password": PASSWORD,
            "new_password": "12345678",
            "new_password_again": "12345678",
            "csrf_token": token,
        },
    )
    assert weak.status_code == 422
    assert "This password is too common." in weak.text
    assert log_in(client, password=PASSWORD).status_code == 303  # unchanged


def test_password_reset_round_trip(make_app: AppFactory) -> None:
    app, client = make_app()
    add_user(app)
    page = client.get("/auth/password/reset", headers={"Accept": "text/html"})
    token = csrf_token(page.text)
    known = client.post(
        "/auth/password/reset", data={"email": "ann@example.com", "csrf_token": token}
    )
    unknown = client.post(
        "/auth/password/reset", data={"email": "zed@example.com", "csrf_token": token}
    )
    assert known.status_code == unknown.status_code == 200
    nonce = re.compile(r'nonce="[^"]+"')
    assert nonce.sub("", known.text) == nonce.sub("", unknown.text)  # no account enumeration
    [message] = mailer(app).outbox
    assert message["To"] == "ann@example.com"
    link = re.search(r"http://testserver(/auth/password/reset/\S+)", message.get_content())
    assert link
    path = link.group(1)
    form = client.get(path, headers={"Accept": "text/html"})
    assert form.status_code == 200
    done = client.post(
        path,
        data={
            "new_password": "amber-kettle-lantern",
            "new_password_again": "amber-kettle-lantern",
            "csrf_token": csrf_token(form.text),
        },
    )
    assert done.status_code == 303
    assert client.get(path).status_code == 400  # single use
    assert log_in(client, password="amber-kettle-lantern").status_code == 303


def test_login_is_rate_limited_per_account(make_app: AppFactory) -> None:
    app, client = make_app(login_rate="3/minute")
    add_user(app)
    statuses = [log_in(client, password=f"wrong-{i}").status_code for i in range(3)]
    assert statuses == [422, 422, 422]
    locked = log_in(client)  # even the right password waits now
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0


def test_login_form_needs_a_csrf_token(make_app: AppFactory) -> None:
    app, client = make_app()
    add_user(app)
    forged = client.post("/auth/login", data={"login": "ann", "password": PASSWORD})
    assert forged.status_code == 403


def test_api_tokens(make_app: AppFactory) -> None:
    from oakling.auth.tokens import new_token

    app, client = make_app()
    add_pages(app)
    user_id = add_user(app)
    with session(app) as db:
        token, plain = new_token(user_id, "cli")
        db.add(token)
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/me", headers=headers).json() == {"username": "ann"}
    assert client.get("/me", headers={"Authorization": "Bearer oak_nope_x"}).status_code == 401
    unauthorised = client.get("/me")
    assert unauthorised.headers["www-authenticate"] == 'Bearer realm="api"'


def test_signup_is_off_by_default_and_works_when_on(make_app: AppFactory) -> None:
    _app, client = make_app()
    assert client.get("/auth/signup").status_code == 404
    app2, client2 = make_app(signup=True)
    add_pages(app2)
    page = client2.get("/auth/signup", headers={"Accept": "text/html"})
    response = client2.post(
        "/auth/signup",
        data={
            "username": "bob",
            "email": "bob@example.com",
            "new_password": "amber-kettle-lantern",
            "new_password_again": "amber-kettle-lantern",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 303
    assert client2.get("/me").json() == {"username": "bob"}


def test_password_reset_mail_goes_through_a_real_smtp_server(make_app: AppFactory) -> None:
    from email import message_from_bytes

    from aiosmtpd.controller import Controller
    from tests.cli.conftest import free_port

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(message_from_bytes(envelope.content))
            return "250 OK"

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        app, client = make_app(
            settings={"email_backend": "smtp", "email_host": "127.0.0.1", "email_port": port}
        )
        add_user(app)
        page = client.get("/auth/password/reset", headers={"Accept": "text/html"})
        client.post(
            "/auth/password/reset",
            data={"email": "ann@example.com", "csrf_token": csrf_token(page.text)},
        )
    finally:
        smtp.stop()
    [message] = received
    body = message.get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/auth/password/reset/\S+)", body)
    assert link
    form = client.get(link.group(1), headers={"Accept": "text/html"})
    assert form.status_code == 200


def test_unknown_user_takes_as_long_as_a_wrong_password(make_app: AppFactory) -> None:
    import statistics
    import time

    from oakling.db.session import session as db_session

    app, _client = make_app(settings={"password_time_cost": 2, "password_memory_cost": 8192})
    add_user(app)
    auth = app.extensions["auth"]

    def median(login: str) -> float:
        times = []
        with db_session(app) as db:
            for _ in range(15):
                start = time.perf_counter()
                assert auth.authenticate(db, login, "wrong-password") is None
                times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median("ann"), median("nobody-here")
    # the hash dominates both; without the dummy hash "unknown" would be ~100x faster
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_remember_me_decides_the_cookie_lifetime(make_app: AppFactory) -> None:
    app, client = make_app()
    add_user(app)
    kept = log_in(client, remember="on")
    assert "max-age=" in kept.headers["set-cookie"].lower()
    client.cookies.clear()
    session_only = log_in(client)  # the box left unticked
    assert "max-age=" not in session_only.headers["set-cookie"].lower()


def test_auth_is_included_once_and_request_user_needs_it() -> None:
    from oakling import App
    from oakling.auth import Auth
    from oakling.exceptions import ConfigurationError
    from oakling.testing import TestClient

    app = App(debug=True)
    app.include(Auth())
    with pytest.raises(ConfigurationError, match="already includes an auth component"):
        app.include(Auth(name="auth2", prefix="/auth2"))

    bare = App(debug=True)

    @bare.get("/who")
    def who(request: Request) -> str:
        return str(request.user)

    with TestClient(bare) as client:
        response = client.get("/who")
    assert response.status_code == 500  # a configuration mistake, logged with its message
    assert "request.user needs the auth component" in response.text  # debug page
