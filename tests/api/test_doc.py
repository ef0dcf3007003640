"""doc(): metadata checks and merging."""

from __future__ import annotations

from typing import Any

import pytest

from oakling import App, Component, View
from oakling.api import OpenAPI, ResponseDoc, doc
from oakling.api.doc import doc_of
from oakling.exceptions import ConfigurationError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"responses": {99: "x"}}, "not an HTTP status code"),
        ({"responses": {"404": "x"}}, "not an HTTP status code"),
        ({"security": "bearer"}, "takes a list"),
        ({"security": [1]}, "neither a scheme name nor a mapping"),
    ],
)
def test_malformed_metadata_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        doc(**kwargs)


def test_doc_cannot_annotate_objects_without_attributes() -> None:
    with pytest.raises(ConfigurationError, match="cannot annotate"):
        doc(deprecated=True)(1)


def test_doc_calls_accumulate_the_last_winning() -> None:
    @doc(summary="outer", tags=["b"])
    @doc(summary="inner", responses={404: "gone"})
    def handler() -> None: ...

    note = doc_of(handler)
    assert note is not None
    assert note.summary == "outer"
    assert note.tags == ("b",)
    assert note.responses == {404: ResponseDoc(description="gone")}


def test_route_doc_overrides_component_and_view_doc() -> None:
    app = App()
    admin = Component("admin")
    doc(deprecated=True, responses={403: "Not an admin"}, tags=["staff"])(admin)

    @admin.get("/old")
    def old() -> dict[str, int]:
        return {}

    @admin.get("/new")
    @doc(deprecated=False, tags=["fresh"], responses={403: "Nope"})
    def new() -> dict[str, int]:
        return {}

    @doc(security=[{"oauth": ["read"]}])
    class Report(View):
        def get(self) -> dict[str, int]:
            """Read the report."""
            return {}

    admin.add_route("/report", Report)
    app.include(admin)
    document = OpenAPI(
        docs_path=None, security_schemes={"oauth": {"type": "oauth2", "flows": {}}}
    ).document(app)
    old_op = document["paths"]["/old"]["get"]
    assert old_op["deprecated"] is True
    assert old_op["tags"] == ["staff"]
    assert old_op["responses"]["403"]["description"] == "Not an admin"
    new_op = document["paths"]["/new"]["get"]
    assert "deprecated" not in new_op
    assert new_op["tags"] == ["fresh"]
    assert new_op["responses"]["403"]["description"] == "Nope"
    report = document["paths"]["/report"]["get"]
    assert report["security"] == [{"oauth": ["read"]}]
    assert report["summary"] == "Read the report."
    assert report["operationId"] == "admin.Report"


def test_public_route_under_a_secured_default() -> None:
    app = App()

    @app.get("/private")
    def private() -> dict[str, int]:
        return {}

    @app.get("/public")
    @doc(security=[])
    def public() -> dict[str, int]:
        return {}

    document = OpenAPI(
        docs_path=None,
        security=["bearer"],
        security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
    ).document(app)
    assert document["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/private"]["get"]
    assert document["paths"]["/public"]["get"]["security"] == []
