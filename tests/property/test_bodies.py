"""Properties of body parsing: urlencoded and multipart forms round-trip; JSON never 500s."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from oakling import App, Form
from oakling.exceptions import HTTPError
from oakling.http.limits import Limits
from oakling.http.multipart import FormParser, UploadFile, parse_form

from .conftest import PROPERTY, call_asgi, call_wsgi

LIMITS = Limits()
utf8_text = st.text(st.characters(codec="utf-8"), max_size=30)


@PROPERTY
@given(st.lists(st.tuples(utf8_text, utf8_text), max_size=15))
def test_urlencoded_form_round_trips(items: list[tuple[str, str]]) -> None:
    body = urlencode(items).encode("ascii")
    form = parse_form("application/x-www-form-urlencoded", body, LIMITS)
    assert form.multi_items() == items


field_name = st.text(
    st.characters(codec="utf-8", exclude_characters='"\\\r\n\x00%'), min_size=1, max_size=20
)
safe_filename = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _\-]{0,15}\.[a-z]{1,4}", fullmatch=True)
boundaries = st.from_regex(r"[A-Za-z0-9'()+_,\-.]{1,70}", fullmatch=True)


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[str, bytes, list[tuple[str, Any]]]:
    boundary = draw(boundaries)
    parts: list[tuple[str, Any]] = []
    chunks: list[bytes] = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(field_name)
        if draw(st.booleans()):
            filename = draw(safe_filename)
            content = draw(st.binary(max_size=3000))
            parts.append((name, (filename, content)))
            head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            head += "Content-Type: application/octet-stream\r\n"
        else:
            value = draw(utf8_text)
            content = value.encode("utf-8")
            parts.append((name, value))
            head = f'Content-Disposition: form-data; name="{name}"\r\n'
        chunks.append(b"--" + boundary.encode() + b"\r\n" + head.encode() + b"\r\n" + content)
    body = b"\r\n".join(chunks) + (b"\r\n" if chunks else b"")
    body += b"--" + boundary.encode() + b"--\r\n"
    # a boundary that happens to occur inside a value would split it: not a valid body
    contents = [p[1][1] if isinstance(p[1], tuple) else p[1].encode() for p in parts]
    if any(b"--" + boundary.encode() in c for c in contents):
        from hypothesis import reject

        reject()
    return f"multipart/form-data; boundary={boundary}", body, parts


@PROPERTY
@given(multipart_bodies(), st.lists(st.integers(1, 5000), max_size=5))
def test_multipart_form_round_trips_fed_in_any_chunks(
    case: tuple[str, bytes, list[tuple[str, Any]]], cuts: list[int]
) -> None:
    content_type, body, parts = case
    parser = FormParser(content_type, Limits(spool_max_size=1024))
    start = 0
    for cut in sorted(set(cuts)):
        parser.feed(body[start:cut])
        start = max(start, min(cut, len(body)))
    parser.feed(body[start:])
    with parser.finish() as form:
        got = form.multi_items()
        assert [name for name, _ in got] == [name for name, _ in parts]
        for (_, value), (_, expected) in zip(got, parts, strict=True):
            if isinstance(expected, tuple):
                assert isinstance(value, UploadFile)
                assert value.filename == expected[0]
                assert value.read() == expected[1]
                assert value.size == len(expected[1])
            else:
                assert value == expected


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from(["b", "xyz", "----WebKitFormBoundary7MA4"]))
def test_any_multipart_bytes_parse_or_give_a_4xx(body: bytes, boundary: str) -> None:
    parser = FormParser(f"multipart/form-data; boundary={boundary}", LIMITS)
    status = 200
    try:
        parser.feed(body)
        parser.finish().close()
    except HTTPError as exc:
        status = exc.status_code
    assert status in (200, 400, 413)


# -- JSON bodies through a whole app ---------------------------------------------------------


class Point(msgspec.Struct):
    x: int
    y: float


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]
    tags: list[str] = []
    point: Point | None = None
    meta: dict[str, int] = {}


def make_app() -> App:
    app = App(debug=True)
    app.state.stored = []

    @app.post("/items", status=201)
    def create(item: Item) -> dict[str, bool]:
        app.state.stored.append(item)
        return {"ok": True}

    @app.post("/aitems", status=201)
    async def acreate(item: Item) -> dict[str, bool]:
        app.state.stored.append(item)
        return {"ok": True}

    @app.post("/form", status=201)
    def form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    return app


APP = make_app()
KEYS = st.sampled_from(["name", "price", "tags", "point", "x", "y", "meta", "z"])
CONTENT_TYPES = [
    b"application/json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data; boundary=b",
    b"text/plain",
    b"",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "price", "tags", "point", "x", "y", "meta", "z"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@PROPERTY
@given(json_values, st.sampled_from(["/items", "/aitems"]))
def test_random_json_never_gives_a_500(value: object, path: str) -> None:
    body = json.dumps(value).encode()
    headers = [(b"content-type", b"application/json")]
    for call in (call_asgi, call_wsgi):
        before = len(APP.state.stored)
        status, content = call(APP, "POST", path.encode(), b"", headers, body)
        assert status in (201, 400, 413, 422), (call.__name__, body, status, content)
        if status != 201:
            assert len(APP.state.stored) == before


@PROPERTY
@given(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"application/json",
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=b",
            b"text/plain",
            b"",
        ]
    ),
)
def test_random_body_bytes_never_give_a_500(body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type)] if content_type else []
    for path in (b"/items", b"/form"):
        for call in (call_asgi, call_wsgi):
            status, content = call(APP, "POST", path, b"", headers, body)
            assert status in (200, 201, 400, 413, 415, 422), (
                call.__name__,
                path,
                body,
                status,
                content,
            )


def _reference_depth_check(body: bytes, max_depth: int) -> bool:
    """The original byte-by-byte depth check: True when the body is too deep."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > max_depth:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


deep_json = st.recursive(
    st.text(st.sampled_from('[]{}"\\ab'), max_size=6) | st.integers(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(st.sampled_from('[]{}"\\'), max_size=4), children, max_size=3)
    ),
    max_leaves=40,
)


@PROPERTY
@given(st.one_of(deep_json.map(lambda v: json.dumps(v).encode()), st.binary(max_size=80)))
def test_fast_depth_check_agrees_with_the_byte_by_byte_one(body: bytes) -> None:
    from oakling.exceptions import BadRequest
    from oakling.http.request import _check_depth

    try:
        json.loads(body)
    except ValueError:
        valid = False  # e.g. a backslash outside a string: msgspec refuses it anyway
    else:
        valid = True
    for max_depth in (0, 1, 2, 3, 5):
        expected = _reference_depth_check(body, max_depth)
        try:
            _check_depth(body, max_depth)
        except BadRequest:
            got = True
        else:
            got = False
        if valid:
            assert got == expected, (body, max_depth)


def test_depth_check_examples() -> None:
    from oakling.exceptions import BadRequest
    from oakling.http.request import _check_depth

    for body in (b'["\\"]', b'["\\"[[[["]', b'{"a": "[[[[", "b": [[1]]}', b"]]][[[[", b"[[[["):
        expected = _reference_depth_check(body, 3)
        try:
            _check_depth(body, 3)
        except BadRequest:
            got = True
        else:
            got = False
        assert got == expected, body
