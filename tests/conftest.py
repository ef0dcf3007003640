from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from oakling import App
from oakling.testing import TestClient

ClientFactory = Callable[[App], TestClient]


@pytest.fixture(params=["asgi", "wsgi"])
def interface(request: pytest.FixtureRequest) -> str:
    """Run a test body once over ASGI and once over WSGI."""
    return str(request.param)


@pytest.fixture
def make_client(interface: str) -> Iterator[ClientFactory]:
    clients: list[TestClient] = []

    def factory(app: App) -> TestClient:
        test_client = TestClient(app, wsgi=interface == "wsgi")
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield factory
    for test_client in clients:
        test_client.__exit__()
        test_client.close()
