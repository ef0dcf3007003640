from __future__ import annotations

from tests.conftest import ClientFactory

from oakling import App, Request
from oakling.exceptions import Conflict, as_http_error, register_http_translation


class DuplicateRow(Exception):
    pass


class DuplicateEmail(DuplicateRow):
    pass


class Unexplained(Exception):
    pass


register_http_translation(DuplicateRow, lambda exc: Conflict(f"Already exists: {exc}"))
register_http_translation(Unexplained, lambda exc: None)


def test_translated_errors_become_http_errors(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.get("/dup")
    def dup() -> str:
        raise DuplicateEmail("email a@b.c")

    @app.get("/plain")
    def plain() -> str:
        raise Unexplained("no idea")

    client = make_client(app)
    response = client.get("/dup")
    assert response.status_code == 409
    assert response.json()["detail"] == "Already exists: email a@b.c"
    assert client.get("/plain").status_code == 500


def test_an_error_handler_for_the_class_wins_over_the_translation(
    make_client: ClientFactory,
) -> None:
    app = App(debug=True)

    @app.errorhandler(DuplicateRow)
    def mine(request: Request, exc: DuplicateRow) -> tuple[str, int]:
        return "handled by the app", 400

    @app.errorhandler(409)
    def conflict_page(request: Request, exc: Conflict) -> tuple[str, int]:
        return "409 page", 409

    @app.get("/dup")
    def dup() -> str:
        raise DuplicateEmail("x")

    assert make_client(app).get("/dup").text == "handled by the app"


def test_a_status_handler_renders_the_translated_error(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.errorhandler(409)
    def conflict_page(request: Request, exc: Conflict) -> tuple[str, int]:
        return f"409 page: {exc.detail}", 409

    @app.get("/dup")
    def dup() -> str:
        raise DuplicateEmail("x")

    response = make_client(app).get("/dup")
    assert (response.status_code, response.text) == (409, "409 page: Already exists: x")


def test_as_http_error_keeps_the_cause() -> None:
    original = DuplicateEmail("y")
    translated = as_http_error(original)
    assert isinstance(translated, Conflict)
    assert translated.__cause__ is original
    assert as_http_error(Conflict("already http")) is None
    assert as_http_error(KeyError("untranslated")) is None
