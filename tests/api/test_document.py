"""The OpenAPI document built from the showcase app's signatures and annotations."""

from __future__ import annotations

from typing import Annotated, Any

import jsonschema
import msgspec
import pytest
from openapi_spec_validator import validate

from oakling import App, Component, Header, Query
from oakling.api import OpenAPI, doc
from oakling.exceptions import ConfigurationError
from oakling.testing import TestClient


def schema_of(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema from the document that resolves its $refs against the document."""
    return {**schema, "components": document["components"]}


def check(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    jsonschema.validate(instance, schema_of(document, schema))


def op(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


def params(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def test_showcase_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the 3.1 meta-schema


def test_info_tags_and_security_schemes(document: dict[str, Any]) -> None:
    assert document["info"] == {
        "title": "Showcase shop",
        "version": "1.2.0",
        "description": "Every kind of parameter, body and response.",
    }
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "session"}
    assert {"name": "items", "description": "Things for sale"} in document["tags"]


def test_paths_use_plain_templates_and_hide_excluded_routes(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "/v1/items/{id}" in paths
    assert "/search/{term}" in paths
    assert "/v1/admin/hidden" not in paths
    assert not any(p.startswith(("/openapi.json", "/docs")) for p in paths)


def test_query_parameters_have_types_defaults_and_constraints(document: dict[str, Any]) -> None:
    found = params(op(document, "/v1/items", "get"))
    assert found["query", "limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
    }
    assert found["query", "offset"]["schema"] == {"type": "integer", "minimum": 0, "default": 0}
    assert found["query", "q"]["description"] == "Search in names"
    assert found["query", "q"]["schema"] == {"type": "string"}
    assert found["query", "tag"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert found["query", "colour"]["schema"] == {"$ref": "#/components/schemas/Colour"}
    assert found["query", "sort"]["schema"] == {
        "enum": ["name", "price"],
        "default": "name",
    }
    assert found["query", "since"]["schema"] == {"type": "string", "format": "date"}
    assert found["query", "in_stock"]["schema"] == {"type": "boolean", "default": False}
    assert document["components"]["schemas"]["Colour"]["enum"] == ["green", "red"]


def test_path_header_and_cookie_parameters(document: dict[str, Any]) -> None:
    item = params(op(document, "/v1/items/{id}", "get"))
    assert item["path", "id"] == {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    note = params(op(document, "/v1/notes/{note_id}", "get"))
    assert note["path", "note_id"]["schema"] == {"type": "string", "format": "uuid"}
    colour = params(op(document, "/v1/items/by-colour/{colour}", "get"))
    assert colour["path", "colour"]["schema"] == {"$ref": "#/components/schemas/Colour"}
    search = params(op(document, "/search/{term}", "get"))
    assert search["path", "term"]["schema"] == {"type": "string"}
    assert search["header", "X-Client"]["required"] is False
    created = params(op(document, "/v1/items", "post"))
    assert created["header", "authorization"]["description"] == "Bearer token"
    rate = params(op(document, "/v1/admin/ratings", "post"))
    assert rate["cookie", "session_id"]["required"] is False


def test_json_bodies_from_struct_dataclass_typeddict_and_pydantic(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    body = op(document, "/v1/items", "post")["requestBody"]
    assert body["required"] is True
    media = body["content"]["application/json"]
    assert media["schema"] == {"$ref": "#/components/schemas/ItemIn"}
    assert media["examples"] == {"pen": {"value": {"name": "pen", "price": 1.5}}}
    item_in = schemas["ItemIn"]
    assert item_in["required"] == ["name", "price"]
    assert item_in["description"] == "An item to create."
    assert item_in["properties"]["name"] == {
        "examples": ["pen"],
        "type": "string",
        "minLength": 1,
        "maxLength": 50,
    }
    assert item_in["properties"]["price"]["minimum"] == 0
    assert schemas["Dimensions"]["properties"]["width"]["exclusiveMinimum"] == 0
    note = op(document, "/v1/notes/{note_id}", "put")["requestBody"]["content"]
    assert note["application/json"]["schema"] == {"$ref": "#/components/schemas/Note"}
    rating = op(document, "/v1/admin/ratings", "post")["requestBody"]["content"]
    assert schemas["Rating"]["required"] == ["comment", "stars"]
    assert rating["application/json"]["schema"] == {"$ref": "#/components/schemas/Rating"}
    review = op(document, "/v1/admin/reviews", "post")["requestBody"]["content"]
    assert review["application/json"]["schema"] == {"$ref": "#/components/schemas/Review"}
    assert schemas["Review"]["properties"]["stars"] == {
        "maximum": 5,
        "minimum": 1,
        "title": "Stars",
        "type": "integer",
    }


def test_form_and_multipart_bodies(document: dict[str, Any]) -> None:
    upload = op(document, "/upload", "post")["requestBody"]
    assert list(upload["content"]) == ["multipart/form-data"]
    schema = upload["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["file"] == {"type": "string", "format": "binary"}
    assert schema["properties"]["extras"] == {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
    }
    assert schema["properties"]["title"] == {"type": "string", "description": "A caption"}
    assert schema["properties"]["count"] == {"type": "integer"}
    assert schema["required"] == ["title", "file"]
    contact = op(document, "/contact", "post")["requestBody"]
    assert list(contact["content"]) == ["application/x-www-form-urlencoded", "multipart/form-data"]
    assert contact["content"]["application/x-www-form-urlencoded"]["schema"]["required"] == [
        "email"
    ]


def test_success_responses_follow_status_and_return_annotation(document: dict[str, Any]) -> None:
    def response(path: str, method: str, status: str) -> dict[str, Any]:
        found: dict[str, Any] = op(document, path, method)["responses"][status]
        return found

    page = response("/v1/items", "get", "200")
    assert page["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemPage"
    }
    created = response("/v1/items", "post", "201")
    assert created["headers"]["Location"]["schema"] == {"type": "string"}
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    assert "204" in op(document, "/v1/items/{id}", "delete")["responses"]
    assert "content" not in response("/v1/items/{id}", "delete", "204")
    legacy = op(document, "/v1/legacy/{id}", "get")["responses"]
    assert {"200", "204"} <= set(legacy)
    assert response("/", "get", "200")["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert response("/health", "get", "200")["content"]["text/plain"]["schema"] == {
        "type": "string"
    }
    assert response("/raw", "get", "200")["content"] == {"application/json": {"schema": {}}}
    assert "Location" in response("/contact", "post", "3XX")["headers"]
    export = response("/export.csv", "get", "200")
    assert export["description"] == "A CSV export"
    assert export["content"] == {"text/csv": {"schema": {"type": "string"}}}
    review = response("/v1/admin/reviews", "post", "201")
    assert review["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Review"
    }
    example = response("/v1/items/{id}", "get", "200")["content"]["application/json"]
    assert example["examples"]["pen"]["value"]["id"] == 1


def test_error_responses_are_the_problem_shapes(document: dict[str, Any]) -> None:
    create = op(document, "/v1/items", "post")["responses"]
    assert set(create) >= {"201", "400", "401", "406", "409", "413", "415", "422"}
    problem = {"$ref": "#/components/schemas/Problem"}
    assert create["409"]["description"] == "An item with that name exists"
    assert create["409"]["content"]["application/problem+json"]["schema"] == problem
    assert create["401"]["description"] == "Missing or bad token"
    assert create["422"]["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationProblem"
    }
    # no parameters, no 422; outside api_conventions, no 406
    assert set(op(document, "/", "get")["responses"]) == {"200"}
    assert "404" in op(document, "/v1/items/{id}", "get")["responses"]


def test_tags_summaries_descriptions_operation_ids(document: dict[str, Any]) -> None:
    listing = op(document, "/v1/items", "get")
    assert listing["tags"] == ["items"]
    assert listing["summary"] == "List items."
    assert listing["description"] == "Filter by name, tags and colour; paginated with limit/offset."
    assert listing["operationId"] == "shop.list_items"
    assert op(document, "/v1/admin/ratings", "post")["tags"] == ["admin"]
    assert op(document, "/", "get")["summary"] == "Home page."
    assert op(document, "/upload", "post")["summary"] == "Upload"
    assert op(document, "/v1/notes/{note_id}", "get")["summary"] == "Read a note."
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))
    assert "shop.NoteView_get" in ids
    assert "shop.NoteView_put" in ids


def test_security_from_components_dependencies_and_routes(document: dict[str, Any]) -> None:
    assert op(document, "/v1/items", "post")["security"] == [{"bearer": []}]
    assert op(document, "/v1/items/{id}", "delete")["security"] == [{"bearer": []}]
    assert "security" not in op(document, "/v1/items", "get")
    assert op(document, "/v1/admin/ratings", "post")["security"] == [{"session": []}]


def test_deprecated_summary_and_operation_id_override(document: dict[str, Any]) -> None:
    legacy = op(document, "/v1/legacy/{id}", "get")
    assert legacy["deprecated"] is True
    assert legacy["summary"] == "Old lookup"
    assert legacy["operationId"] == "legacyLookup"


def test_real_responses_match_their_documented_schemas(
    document: dict[str, Any], showcase: App
) -> None:
    with TestClient(showcase) as client:
        headers = {"authorization": "Bearer x"}
        answer = client.post("/v1/items", json={"name": "cup", "price": 3}, headers=headers)
        assert answer.status_code == 201
        responses = op(document, "/v1/items", "post")["responses"]
        check(document, responses["201"]["content"]["application/json"]["schema"], answer.json())
        bad = client.post("/v1/items", json={"name": "", "price": -1}, headers=headers)
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        schema = responses["422"]["content"]["application/problem+json"]["schema"]
        check(document, schema, bad.json())
        missing = client.get("/v1/items/999")
        assert missing.status_code == 404
        check(document, {"$ref": "#/components/schemas/Problem"}, missing.json())
        page = client.get("/v1/items", params={"limit": 5})
        schema = op(document, "/v1/items", "get")["responses"]["200"]["content"]
        check(document, schema["application/json"]["schema"], page.json())
        out_of_range = client.get("/v1/items", params={"limit": 500})
        assert out_of_range.status_code == 422
        check(document, {"$ref": "#/components/schemas/ValidationProblem"}, out_of_range.json())


def test_undeclared_security_scheme_is_a_configuration_error() -> None:
    app = App()

    @app.get("/x")
    @doc(security=["oauth"])
    def x() -> dict[str, int]:
        return {}

    openapi = OpenAPI(docs_path=None)
    app.include(openapi)
    with pytest.raises(ConfigurationError, match="'oauth' is used but not declared"):
        openapi.document(app)


def test_components_filter_documents_one_api_version() -> None:
    app = App()
    v1 = Component("v1", prefix="/v1")
    v2 = Component("v2", prefix="/v2")

    @v1.get("/things")
    def things_v1() -> list[str]:
        return []

    @v2.get("/things")
    def things_v2(limit: int = 10) -> list[str]:
        return []

    app.include(v1)
    app.include(v2)
    app.include(
        OpenAPI("API v1", "1", components=[v1], docs_path=None, name="openapi_v1"), prefix="/v1"
    )
    app.include(
        OpenAPI("API v2", "2", components=[v2], docs_path=None, name="openapi_v2"), prefix="/v2"
    )
    with TestClient(app) as client:
        one = client.get("/v1/openapi.json").json()
        two = client.get("/v2/openapi.json").json()
    assert list(one["paths"]) == ["/v1/things"]
    assert list(two["paths"]) == ["/v2/things"]
    assert two["info"]["version"] == "2"
    validate(one)
    validate(two)


class Opaque:
    pass


def test_unknown_types_document_as_any_value_without_failing() -> None:
    app = App()

    @app.get("/opaque")
    def opaque(limit: Annotated[int, msgspec.Meta(ge=0)] = 0) -> Opaque:
        return Opaque()

    @app.get("/typed")
    def typed(token: Annotated[str, Header()], q: Annotated[str, Query(alias="search")]) -> int:
        return 1

    document = OpenAPI(docs_path=None).document(app)
    validate(document)
    assert document["paths"]["/opaque"]["get"]["responses"]["200"]["content"] == {
        "application/json": {"schema": {}}
    }
    typed_params = params(document["paths"]["/typed"]["get"])
    assert typed_params["query", "search"]["required"] is True
    assert typed_params["header", "token"]["required"] is True


def test_cookie_secured_unsafe_operations_document_the_csrf_403(document: dict[str, Any]) -> None:
    rate = op(document, "/v1/admin/ratings", "post")["responses"]
    assert "CSRF" in rate["403"]["description"]
    assert rate["401"]["description"] == "No session"
    # bearer-secured and safe operations are not CSRF-checked
    assert "403" not in op(document, "/v1/items", "post")["responses"]
    assert "403" not in op(document, "/v1/items", "get")["responses"]
