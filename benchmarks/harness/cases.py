"""The benchmark cases: one request each, plus what a correct response looks like."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ITEM_BODY = b'{"name": "widget", "price": 9.5, "tags": ["a", "b"]}'


@dataclass(frozen=True, slots=True)
class Case:
    """One request and its expected response."""

    name: str
    method: str
    path: str
    query: bytes = b""
    body: bytes = b""
    status: int = 200
    expect_json: Any = None
    expect_text: bytes | None = None
    media_type: str | None = None

    @property
    def target(self) -> str:
        """The request target as it would appear on the request line."""
        return f"{self.path}?{self.query.decode()}" if self.query else self.path


CASES: tuple[Case, ...] = (
    Case(
        "plaintext",
        "GET",
        "/plaintext",
        expect_text=b"Hello, World!",
        media_type="text/plain",
    ),
    Case(
        "json",
        "GET",
        "/json",
        expect_json={"message": "Hello, World!"},
        media_type="application/json",
    ),
    Case(
        "path param",
        "GET",
        "/users/123",
        expect_json={"id": 123, "name": "user123"},
        media_type="application/json",
    ),
    Case(
        "query params",
        "GET",
        "/query",
        query=b"limit=5&offset=10",
        expect_json={"limit": 5, "offset": 10},
        media_type="application/json",
    ),
    Case(
        "POST JSON",
        "POST",
        "/items",
        body=ITEM_BODY,
        status=201,
        expect_json={"id": 1, "name": "widget", "price": 9.5, "tags": ["a", "b"]},
        media_type="application/json",
    ),
    Case("404", "GET", "/does-not-exist", status=404),
)


def content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Return the decoded Content-Type header, if any."""
    for name, value in headers:
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


def check(case: Case, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> str | None:
    """Return None when the response is correct, else a description of what was wrong."""
    got = f"status={status} content-type={content_type(headers)!r} body={body[:200]!r}"
    if status != case.status:
        return f"expected status {case.status}; got {got}"
    if case.media_type is not None:
        ctype = content_type(headers) or ""
        if not ctype.startswith(case.media_type):
            return f"expected content-type {case.media_type}; got {got}"
    if case.expect_text is not None and body != case.expect_text:
        return f"expected body {case.expect_text!r}; got {got}"
    if case.expect_json is not None:
        return _check_json(case.expect_json, body, got)
    return None


def _check_json(expected: Any, body: bytes, got: str) -> str | None:
    try:
        decoded = json.loads(body)
    except ValueError:
        return f"body is not JSON; got {got}"
    if decoded != expected or not _same_types(decoded, expected):
        return f"expected JSON {expected!r}; got {got}"
    return None


def _same_types(a: Any, b: Any) -> bool:
    """JSON equality that also tells 5 from 5.0 from "5" (ints must stay ints)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True
