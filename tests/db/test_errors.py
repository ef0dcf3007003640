"""Database errors answer 409 or 503, never 500, and leave nothing half-written."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from tests.db.conftest import count
from tests.db.models import DbtAuthor
from tests.services import MARIADB, POSTGRES

import oakling.db.engine
from oakling import App
from oakling.db import Session, databases, sync_url
from oakling.testing import TestClient


def _author(client: TestClient, name: str = "Ada") -> int:
    response = client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_unique_violation_is_a_409_naming_the_field(client: TestClient, engine: sa.Engine) -> None:
    _author(client)
    response = client.post("/authors", json={"name": "Ada"})
    assert response.status_code == 409
    assert response.json()["detail"] == "A dbt_author with this name already exists."
    assert count(engine, "dbt_author") == 1


def test_no_partial_write_when_a_later_insert_conflicts(
    client: TestClient, engine: sa.Engine
) -> None:
    _author(client)
    response = client.post("/authors/many", json=[{"name": "Bob"}, {"name": "Ada"}])
    assert response.status_code == 409
    assert count(engine, "dbt_author") == 1  # Bob was rolled back with the request


def test_missing_foreign_key_is_a_409(client: TestClient, engine: sa.Engine) -> None:
    response = client.post("/books", json={"title": "T", "author_id": 424242})
    assert response.status_code == 409
    detail = response.json()["detail"]
    if engine.dialect.name == "sqlite":  # SQLite does not say which key
        assert detail.startswith("This dbt_book refers to a record that does not exist")
    else:
        assert detail == "dbt_book.author_id refers to a record that does not exist."
    assert count(engine, "dbt_book") == 0


def test_deleting_a_referenced_row_is_a_409(client: TestClient, engine: sa.Engine) -> None:
    author = _author(client)
    assert client.post("/books", json={"title": "T", "author_id": author}).status_code == 201
    response = client.delete(f"/authors/{author}")
    assert response.status_code == 409
    if engine.dialect.name != "sqlite":
        assert response.json()["detail"] == (
            "This dbt_author is still referred to by other records and cannot be removed."
        )
    assert count(engine, "dbt_author") == 1


def test_null_in_a_required_column_is_a_409(client: TestClient, engine: sa.Engine) -> None:
    author = _author(client)
    response = client.post("/books", json={"title": None, "author_id": author})
    assert response.status_code == 409
    assert response.json()["detail"] == "dbt_book.title is required and cannot be empty (null)."
    assert count(engine, "dbt_book") == 0


def test_check_constraint_is_a_409(client: TestClient, engine: sa.Engine) -> None:
    response = client.post("/authors", json={"name": ""})
    assert response.status_code == 409
    assert "ck_dbt_author_name_not_empty" in response.json()["detail"]
    assert count(engine, "dbt_author") == 0


def test_error_bodies_hold_no_sql(client: TestClient) -> None:
    _author(client)
    body = client.post("/authors", json={"name": "Ada"}).text
    assert "INSERT" not in body
    assert "Traceback" not in body


# -- the database goes away ---------------------------------------------------------------


class Proxy:
    """A TCP forwarder to a database server that can be stopped and started again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.pairs: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.pairs += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            # shutdown wakes the accept() of the other thread (close alone does not)
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for sock in self.pairs:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.pairs.clear()


def _unavailable(response: Any, retry_after: str = "7") -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == retry_after
    body = response.json()
    assert body["detail"] == "The database is unavailable at the moment; please try again shortly."
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text


@pytest.fixture
def server(server_url: str) -> str:
    backend = sa.make_url(server_url).get_backend_name()
    if backend == "sqlite":
        pytest.skip("SQLite has no server to lose")
    return backend


@pytest.fixture
def proxy(server: str) -> Iterator[Proxy]:
    proxy = Proxy(POSTGRES if server == "postgresql" else MARIADB)
    proxy.start()
    yield proxy
    proxy.stop()


def test_unreachable_database_is_a_503_and_recovers(
    server_url: str,
    proxy: Proxy,
    make_client: Callable[..., TestClient],
    engine: sa.Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = sa.make_url(server_url).set(port=proxy.port).render_as_string(hide_password=False)
    client = make_client(url, db_retry_after=7, db_connect_timeout=2)
    author = _author(client)
    proxy.stop()  # the server is gone: connections drop, the port is closed
    with caplog.at_level(logging.WARNING, logger="oakling.db"):
        _unavailable(client.get(f"/authors/{author}"))
        _unavailable(client.post("/authors", json={"name": "Bob"}))
    assert "Database unavailable" in caplog.text
    proxy.start()  # back again: served without a restart
    assert client.get(f"/authors/{author}").status_code == 200
    assert client.post("/authors", json={"name": "Bob"}).status_code == 201
    assert count(engine, "dbt_author") == 2


def test_closed_port_is_a_503(
    server: str, server_url: str, make_client: Callable[..., TestClient]
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    url = sa.make_url(server_url).set(port=port).render_as_string(hide_password=False)
    client = make_client(url, db_retry_after=7, db_connect_timeout=2)
    _unavailable(client.get("/authors/1"))
    assert client.get("/noop").status_code == 200  # pages without the database still work


def _kill_connections(server: str, server_url: str) -> None:
    name = sa.make_url(server_url).database
    admin_db = "postgres" if server == "postgresql" else "mysql"
    admin_url = sync_url(sa.make_url(server_url).set(database=admin_db))
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if server == "postgresql":
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        else:
            ids = conn.execute(
                sa.text(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = :name AND id <> connection_id()"
                ),
                {"name": name},
            ).scalars()
            for thread_id in list(ids):
                conn.execute(sa.text(f"KILL {int(thread_id)}"))
    admin.dispose()
    time.sleep(0.1)


def test_idle_connections_killed_are_replaced_transparently(
    server: str,
    server_url: str,
    client: TestClient,
    engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oakling.db.engine, "PING_AFTER_IDLE", 0.0)
    author = _author(client)
    assert client.get(f"/authors/{author}").status_code == 200
    _kill_connections(server, server_url)
    # idle pooled connections are pinged at checkout: the dead ones are replaced
    assert client.get(f"/authors/{author}").status_code == 200
    assert client.post("/authors", json={"name": "Bob"}).status_code == 201
    assert count(engine, "dbt_author") == 2


def test_busy_connection_killed_is_one_503_then_recovers(
    server: str, server_url: str, client: TestClient, engine: sa.Engine
) -> None:
    author = _author(client)
    assert client.get(f"/authors/{author}").status_code == 200
    _kill_connections(server, server_url)
    # used again at once (no ping): that request fails, the pool starts afresh
    response = client.post("/authors", json={"name": "Bob"})
    assert response.status_code == 503
    assert "retry-after" in response.headers
    assert client.get(f"/authors/{author}").status_code == 200
    assert client.post("/authors", json={"name": "Bob"}).status_code == 201
    assert count(engine, "dbt_author") == 2  # Ada, and Bob once


def test_no_free_pooled_connection_is_a_503(
    server_url: str, plain_app: Callable[..., App], engine: sa.Engine
) -> None:
    app = plain_app(server_url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2)

    @app.post("/add")
    def add(db: Session) -> None:
        db.add(DbtAuthor(name="Ada"))
        db.flush()

    with TestClient(app) as client:
        held = databases(app).engine().connect()  # the only pooled connection is busy
        try:
            response = client.post("/add")
        finally:
            held.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert count(engine, "dbt_author") == 0
