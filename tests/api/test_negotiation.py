"""API conventions: 406 on a refusing Accept, problem+json errors, 201 with Location, 415."""

from __future__ import annotations

import logging

import msgspec
import pytest
from tests.conftest import ClientFactory

from oakling import App, Component, Request
from oakling.api import Created, acceptable, api_conventions, created
from oakling.exceptions import ConfigurationError, Conflict


class Thing(msgspec.Struct):
    name: str


def make_app() -> App:
    app = App()
    api = Component("api", prefix="/api")
    api_conventions(api)

    @api.get("/things")
    def things() -> list[Thing]:
        return [Thing("a")]

    @api.post("/things")
    def add(thing: Thing, request: Request) -> Created[Thing]:
        return created(thing, location=str(request.url_for("api.things")) + "/1")

    @api.get("/conflict")
    def conflict() -> None:
        raise Conflict("Already there")

    @api.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals")

    @app.get("/page")
    def page() -> str:
        return "<p>html</p>"

    app.include(api)
    return app


@pytest.mark.parametrize(
    ("accept", "offered", "chosen"),
    [
        (None, ["application/json"], "application/json"),
        ("", ["application/json"], "application/json"),
        ("*/*", ["application/json"], "application/json"),
        ("application/*", ["application/json"], "application/json"),
        ("text/html, application/json;q=0.9", ["application/json"], "application/json"),
        ("text/html", ["application/json"], None),
        ("application/json;q=0", ["application/json"], None),
        ("*/*, application/json;q=0", ["application/json"], None),
        ("application/*;q=0, application/json", ["application/json"], "application/json"),
        ("text/csv;q=0.5, application/xml", ["text/csv", "application/xml"], "application/xml"),
        ("APPLICATION/JSON", ["application/json"], "application/json"),
        ("application/json;q=bogus", ["application/json"], None),
        (",,;", ["application/json"], None),
    ],
)
def test_acceptable_follows_rfc_9110(
    accept: str | None, offered: list[str], chosen: str | None
) -> None:
    assert acceptable(accept, offered) == chosen


def test_unsupported_accept_is_a_406_listing_what_is_available(
    make_client: ClientFactory,
) -> None:
    client = make_client(make_app())
    response = client.get("/api/things", headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "This endpoint sends application/json; the Accept header 'text/csv' allows none of them"
    )
    refused = client.get("/api/things", headers={"Accept": "application/json;q=0, */*;q=0"})
    assert refused.status_code == 406


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/problem+json", "text/html, */*;q=0.1"],
)
def test_acceptable_requests_pass(make_client: ClientFactory, accept: str | None) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = make_client(make_app()).get("/api/things", headers=headers)
    assert response.status_code == 200
    assert response.json() == [{"name": "a"}]


def test_routes_outside_the_conventions_are_untouched(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    assert client.get("/page", headers={"Accept": "text/csv"}).status_code == 200
    missing = client.get("/nothing", headers={"Accept": "text/html"})
    assert missing.headers["content-type"].startswith("text/html")


def test_errors_are_problem_json_even_for_browsers(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(make_app())
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    conflict = client.get("/api/conflict", headers=browser)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    assert conflict.json()["detail"] == "Already there"
    invalid = client.post("/api/things", json={"name": 1}, headers=browser)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["loc"] == ["body", "name"]
    with caplog.at_level(logging.ERROR, logger="oakling.error"):
        crash = client.get("/api/crash", headers=browser)
    assert crash.status_code == 500
    assert crash.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in crash.text
    assert "traceback" not in crash.json()
    assert any("RuntimeError" in record.getMessage() for record in caplog.records)


def test_created_sets_201_and_location(make_client: ClientFactory) -> None:
    response = make_client(make_app()).post("/api/things", json={"name": "b"})
    assert response.status_code == 201
    assert response.headers["location"] == "http://testserver/api/things/1"
    assert response.json() == {"name": "b"}


@pytest.mark.parametrize("location", ["", "/a\r\nSet-Cookie: x=1", "/a\x00"])
def test_created_refuses_a_bad_location(location: str) -> None:
    with pytest.raises(ValueError, match="not a usable Location"):
        created({"a": 1}, location)


def test_body_in_an_unsupported_content_type_is_a_415(make_client: ClientFactory) -> None:
    client = make_client(make_app())
    response = client.post("/api/things", content=b"name=a", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_conventions_apply_once_and_need_media_types() -> None:
    api = Component("api")
    api_conventions(api)
    with pytest.raises(ConfigurationError, match="already applied"):
        api_conventions(api)
    with pytest.raises(ConfigurationError, match="at least one media type"):
        api_conventions(Component("other"), media_types=[])


def test_own_error_handlers_win(make_client: ClientFactory) -> None:
    app = App()
    api = Component("api")

    @api.errorhandler(Conflict)
    def on_conflict(request: Request, exc: Conflict) -> tuple[dict[str, str], int]:
        return {"mine": exc.detail}, 409

    api_conventions(api)

    @api.get("/c")
    def c() -> None:
        raise Conflict("x")

    app.include(api)
    assert make_client(app).get("/c").json() == {"mine": "x"}
