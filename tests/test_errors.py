from __future__ import annotations

import logging

import pytest
from tests.conftest import ClientFactory

from oakling import App, HTTPError, Request
from oakling.errors import wants_html
from oakling.exceptions import Conflict


def make_app(debug: bool) -> App:
    app = App(debug=debug)

    @app.get("/boom")
    def boom() -> None:
        raise ZeroDivisionError("secret internals /etc/app.py")

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPError(418, "short and stout", headers={"X-Pot": "1"})

    @app.get("/conflict")
    def conflict() -> None:
        raise Conflict("name taken")

    return app


def test_unhandled_error_is_500_without_traceback(make_client: ClientFactory) -> None:
    client = make_client(make_app(debug=False))
    for accept in ("application/json", "text/html"):
        response = client.get("/boom", headers={"accept": accept})
        assert response.status_code == 500
        assert "ZeroDivisionError" not in response.text
        assert "secret internals" not in response.text
        assert "Traceback" not in response.text
        assert response.headers["x-request-id"] in response.text


def test_debug_page_shows_traceback(make_client: ClientFactory) -> None:
    client = make_client(make_app(debug=True))
    html = client.get("/boom", headers={"accept": "text/html"})
    assert html.status_code == 500
    assert "ZeroDivisionError" in html.text
    assert "Traceback" in html.text
    problem = client.get("/boom")
    assert any("ZeroDivisionError" in line for line in problem.json()["traceback"])


def test_unhandled_error_is_logged_once_with_request_id(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(make_app(debug=False))
    with caplog.at_level(logging.ERROR, logger="oakling.error"):
        response = client.get("/boom", headers={"x-request-id": "req-123"})
    assert response.headers["x-request-id"] == "req-123"
    records = [r for r in caplog.records if r.name == "oakling.error"]
    assert len(records) == 1
    assert "req-123" in records[0].getMessage()
    assert records[0].exc_info is not None


def test_http_error_status_detail_and_headers(make_client: ClientFactory) -> None:
    client = make_client(make_app(debug=False))
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.headers["x-pot"] == "1"
    assert response.json()["detail"] == "short and stout"
    assert client.get("/conflict").json()["detail"] == "name taken"


def test_error_handlers_by_status_and_class(make_client: ClientFactory) -> None:
    app = make_app(debug=False)

    @app.errorhandler(404)
    def not_found(request: Request, exc: Exception) -> tuple[str, int]:
        return f"nothing at {request.path}", 404

    @app.errorhandler(ArithmeticError)
    async def arithmetic(request: Request, exc: Exception) -> tuple[dict[str, str], int]:
        return {"error": type(exc).__name__}, 400

    @app.get("/missing")
    def missing() -> None:
        raise HTTPError(404)

    client = make_client(app)
    assert client.get("/missing").text == "nothing at /missing"
    assert client.get("/unrouted").text == "nothing at /unrouted"
    response = client.get("/boom")
    assert (response.status_code, response.json()) == (400, {"error": "ZeroDivisionError"})


def test_failing_error_handler_gives_500(make_client: ClientFactory) -> None:
    app = make_app(debug=False)

    @app.errorhandler(ZeroDivisionError)
    def broken(request: Request, exc: Exception) -> None:
        raise RuntimeError("handler broke")

    assert make_client(app).get("/boom").status_code == 500


def test_request_id_generated_and_insane_ones_replaced(make_client: ClientFactory) -> None:
    client = make_client(make_app(debug=False))
    generated = client.get("/teapot").headers["x-request-id"]
    assert len(generated) == 16
    replaced = client.get("/teapot", headers={"x-request-id": "<script>"}).headers["x-request-id"]
    assert replaced != "<script>"


def test_html_error_page_escapes_input(make_client: ClientFactory) -> None:
    client = make_client(make_app(debug=False))
    response = client.get("/<script>alert(1)</script>", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/html,application/xhtml+xml,*/*;q=0.8", True),
        ("application/json", False),
        ("*/*", False),
        ("", False),
        ("application/json, text/html", False),
    ],
)
def test_wants_html(accept: str, expected: bool) -> None:
    assert wants_html(accept) is expected


def test_access_log_line(make_client: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    from oakling import Settings

    app = App(settings=Settings(debug=True, access_log=True))

    @app.get("/hi")
    def hi() -> str:
        return "hi"

    client = make_client(app)
    with caplog.at_level(logging.INFO, logger="oakling.access"):
        response = client.get("/hi")
    lines = [r.getMessage() for r in caplog.records if r.name == "oakling.access"]
    assert len(lines) == 1
    assert '"GET /hi" 200' in lines[0]
    assert response.headers["x-request-id"] in lines[0]
