from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from tests.services import postgres_database

from oakling import App, Settings
from oakling.auth import Auth, User
from oakling.db import Model, databases
from oakling.db.session import session
from oakling.testing import TestClient

FAST_HASHING = {"password_time_cost": 1, "password_memory_cost": 1024, "password_parallelism": 1}
PASSWORD = "violet-tram-omelette"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a throwaway PostgreSQL database."""
    manager: AbstractContextManager[str] = (
        nullcontext(f"sqlite:///{tmp_path}/auth.sqlite3")
        if request.param == "sqlite"
        else postgres_database()
    )
    with manager as url:
        yield url


AppFactory = Callable[..., tuple[App, TestClient]]


@pytest.fixture
def make_app(database_url: str) -> Iterator[AppFactory]:
    """Build an app with the auth component, its tables and a client."""
    clients: list[tuple[App, TestClient]] = []

    def factory(**options: Any) -> tuple[App, TestClient]:
        values: dict[str, Any] = {
            "secret_key": "test-secret-key-" + "x" * 40,
            "database_url": database_url,
            "email_backend": "memory",
            **FAST_HASHING,
        }
        values.update(options.pop("settings", {}))
        settings = Settings(**values)
        app = App(settings=settings)
        auth = Auth(**options)
        app.include(auth)
        Model.metadata.create_all(databases(app).engine())

        @app.get("/")
        def home() -> str:
            return "home"

        client = TestClient(app)
        client.__enter__()
        clients.append((app, client))
        return app, client

    yield factory
    for app, client in clients:
        client.__exit__()
        Model.metadata.drop_all(databases(app).engine())
        databases(app).engine().dispose()


def add_user(app: App, username: str = "ann", **fields: Any) -> int:
    auth = app.extensions["auth"]
    with session(app) as db:
        user = User(username=username, email=f"{username}@example.com", **fields)
        auth.set_password(user, fields.pop("password", PASSWORD), validate=False)
        db.add(user)
        db.flush()
        return int(user.id)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def log_in(
    client: TestClient, login: str = "ann", password: str = PASSWORD, query: str = "", **extra: str
) -> Any:
    page = client.get("/auth/login", headers={"Accept": "text/html"})
    data = {"login": login, "password": password, "csrf_token": csrf_token(page.text), **extra}
    return client.post("/auth/login" + query, data=data)
