from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from oakling import App

SHOWCASE = Path(__file__).resolve().parents[1] / "apps" / "api" / "app.py"


def load_showcase() -> ModuleType:
    """Import tests/apps/api/app.py under a private name (a fresh module each call)."""
    spec = importlib.util.spec_from_file_location("oakling_api_showcase", SHOWCASE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def showcase_module() -> ModuleType:
    return load_showcase()


@pytest.fixture
def showcase(showcase_module: ModuleType) -> App:
    app: App = showcase_module.create_app()
    return app


@pytest.fixture(scope="session")
def document(showcase_module: ModuleType) -> dict[str, Any]:
    from oakling.api import OpenAPI

    app: App = showcase_module.create_app()
    component = next(c for c in app.components if isinstance(c, OpenAPI))
    return component.document(app)
