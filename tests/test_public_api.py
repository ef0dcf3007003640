from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import oakling

PUBLIC_MODULES = [
    "oakling",
    "oakling.http",
    "oakling.routing",
    "oakling.exceptions",
    "oakling.config",
    "oakling.params",
    "oakling.component",
    "oakling.views",
    "oakling.testing",
]


def _isort_key(name: str) -> tuple[int, str]:
    # NOTE: ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[0].isupper() else 2
    return (kind, name)


def test_all_is_sorted_and_complete() -> None:
    assert list(oakling.__all__) == sorted(oakling.__all__, key=_isort_key)
    public = {n for n in vars(oakling) if not n.startswith("_")} | set(oakling.__all__)
    public -= {"Any", "TYPE_CHECKING"}
    public -= {
        "annotations",
        "app",
        "component",
        "config",
        "exceptions",
        "http",
        "params",
        "routing",
        "scaffold",
        "views",
        "errors",
        "logs",
    }
    public = {n for n in public if not isinstance(getattr(oakling, n), type(sys))}
    assert public == set(oakling.__all__)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_modules_have_sorted_all_with_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key), name
    for item in exported:
        value = getattr(module, item)
        if callable(value):
            assert value.__doc__, f"{name}.{item} has no docstring"


def test_import_oakling_stays_light() -> None:
    code = (
        "import sys, oakling; "
        "heavy = [m for m in ('click', 'jinja2', 'sqlalchemy', 'httpx', 'python_multipart',"
        " 'granian', 'uvicorn') if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
