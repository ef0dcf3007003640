"""Tests that use the pytest plugin's fixtures; ``oakling_app`` names the app."""

from oakling import App
from oakling.testing import TestClient


def test_app_fixture_loads_the_app(app: App) -> None:
    assert app.url_for("index") == "/"


def test_home(client: TestClient) -> None:  # over ASGI, lifespan running
    assert client.get("/").text == "<h1>Hello, oakling!</h1>"


def test_home_over_wsgi(wsgi_client: TestClient) -> None:
    assert wsgi_client.get("/hello/ada").json() == {"message": "Hello, ada."}
