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
