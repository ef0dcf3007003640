"""Contract test: schemathesis drives the showcase API from its own OpenAPI document.

Every generated request (valid and invalid) must get no 5xx, a documented status,
a documented content type and a body that matches the documented schema.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection
from tests.api.conftest import load_showcase

from oakling import App

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

app = load_showcase().create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("OAKLING_CONTRACT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_showcase_api_honours_its_document(case: schemathesis.Case) -> None:
    excluded = []
    if case.media_type in FORMS:
        # NOTE: in a form every value is text: "false" or "12" sent for a string field is
        # a valid string, not the boolean or number schemathesis meant as invalid.
        excluded.append(negative_data_rejection)
    case.call_and_validate(excluded_checks=excluded)


def _resource_app() -> App:
    import tempfile

    import sqlalchemy as sa
    from tests.api.test_resource import Base, make_app

    from oakling.db import sync_url

    folder = tempfile.mkdtemp(prefix="oakling-contract-")
    url = f"sqlite:///{folder}/contract.sqlite3"
    engine = sa.create_engine(sync_url(url))
    Base.metadata.create_all(engine)
    engine.dispose()
    return make_app(url)


resource_schema = schemathesis.openapi.from_asgi("/openapi.json", _resource_app())


@resource_schema.parametrize()
@settings(
    max_examples=int(os.environ.get("OAKLING_CONTRACT_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_model_resource_honours_its_document(case: schemathesis.Case) -> None:
    case.call_and_validate()
