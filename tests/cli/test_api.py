"""``oakling openapi``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result
from openapi_spec_validator import validate

Invoke = Callable[..., Result]


def test_openapi_prints_the_served_document(invoke: Invoke, apps: Path) -> None:
    result = invoke("openapi", cwd=apps / "api")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "Showcase shop"
    assert "/v1/items" in document["paths"]
    validate(document)


def test_openapi_yaml(invoke: Invoke, apps: Path) -> None:
    result = invoke("openapi", "--yaml", cwd=apps / "api")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("openapi: 3.1.0\n")
    assert yaml.safe_load(result.stdout)["info"]["version"] == "1.2.0"


def test_openapi_to_a_file(invoke: Invoke, apps: Path, tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    result = invoke("openapi", "--indent", "0", "-o", str(target), cwd=apps / "api")
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["openapi"] == "3.1.0"
    assert "\n" not in target.read_text().strip()


def test_openapi_of_an_app_without_the_component(invoke: Invoke) -> None:
    result = invoke("openapi")  # the hello app
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["info"] == {"title": "API", "version": "0.1.0"}
    assert "/" in document["paths"]


def test_openapi_unknown_component_name(invoke: Invoke, apps: Path) -> None:
    result = invoke("openapi", "--name", "v9", cwd=apps / "api")
    assert result.exit_code == 2
    assert "no OpenAPI component named 'v9' (it has: openapi)" in result.output


def test_openapi_reports_configuration_errors(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from oakling import App\n"
        "from oakling.api import OpenAPI, doc\n"
        "app = App()\n"
        "@app.get('/x')\n"
        "@doc(security=['nope'])\n"
        "def x() -> dict:\n"
        "    return {}\n"
        "app.include(OpenAPI(docs_path=None))\n"
    )
    result = invoke("openapi", cwd=tmp_path)
    assert result.exit_code == 2
    assert "'nope' is used but not declared" in result.output
