"""Contract test: schemathesis drives the showcase's API from its own OpenAPI document."""

from __future__ import annotations

import os
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings
from tests.examples.test_showcase import load_showcase


def _showcase_app() -> object:
    """The showcase app on its own SQLite file, without leaving variables behind."""
    folder = tempfile.mkdtemp(prefix="oakling-showcase-")
    values = {
        "OAKLING_DATABASE_URL": f"sqlite:///{folder}/contract.sqlite3",
        "OAKLING_SECRET_KEY": "contract-test-" + "k" * 40,
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        return load_showcase().app
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


schema = schemathesis.openapi.from_asgi("/openapi.json", _showcase_app())


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("OAKLING_CONTRACT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_showcase_api_honours_its_document(case: schemathesis.Case) -> None:
    case.call_and_validate()
