"""pytest plugin (registered by the ``oakling`` entry point): ``app`` and ``client`` fixtures.

Define your own ``app`` fixture in ``conftest.py``, or name the app with the
``oakling_app = "module:attr"`` ini option (or ``OAKLING_APP``); ``client`` is then a
``TestClient`` with the app's lifespan running, and ``wsgi_client`` the same over WSGI.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from oakling.app import App
    from oakling.testing import TestClient

__all__ = ("app", "client", "pytest_addoption", "wsgi_client")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``oakling_app`` ini option."""
    parser.addini("oakling_app", "The app under test, as 'module:attribute'", default="")


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    value = getattr(module, attr or "app")
    return value() if callable(value) and not hasattr(value, "router") else value


@pytest.fixture
def app(request: pytest.FixtureRequest) -> App:
    """The app under test: override this fixture, or set ``oakling_app``/``OAKLING_APP``."""
    target = str(request.config.getini("oakling_app")) or os.environ.get("OAKLING_APP", "")
    if not target:
        pytest.fail(
            "No app to test: define an 'app' fixture in conftest.py, or set "
            "oakling_app = 'module:app' in the pytest ini options (or OAKLING_APP)",
            pytrace=False,
        )
    loaded: App = _load(target)
    return loaded


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    """A ``TestClient`` for ``app`` over ASGI, with the lifespan running."""
    from oakling.testing import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def wsgi_client(app: App) -> Iterator[TestClient]:
    """A ``TestClient`` for ``app`` over WSGI."""
    from oakling.testing import TestClient

    with TestClient(app, wsgi=True) as test_client:
        yield test_client
