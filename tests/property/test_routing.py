"""Properties of the router and converters: one answer per path, and url_for round-trips."""

from __future__ import annotations

import uuid
from urllib.parse import quote, unquote

from hypothesis import given
from hypothesis import strategies as st

from oakling import App
from oakling.routing.router import Router

from .conftest import PROPERTY, call_asgi, call_wsgi

ROUTES = {
    "home": "/",
    "items": "/items",
    "item_new": "/items/new",
    "item": "/items/{id:int}",
    "item_slug": "/items/{slug:slug}",
    "price": "/prices/{value:float}",
    "user": "/users/{uid:uuid}",
    "page": "/pages/{name}",
    "page_edit": "/pages/{name}/edit",
    "file": "/files/{rest:path}",
    "pair": "/pair/{a:int}/{b:str}/",
}


def make_router() -> Router[str]:
    router: Router[str] = Router()
    for name, path in ROUTES.items():
        router.add(path, name, ["GET"], name)
    return router


ROUTER = make_router()

segment_text = st.text(
    st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1, max_size=20
)
path_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1)
PARAMS = {
    "int": st.integers(min_value=0, max_value=10**30),
    "float": st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False),
    "uuid": st.uuids(),
    "slug": st.from_regex(r"[-a-zA-Z0-9_]{1,20}", fullmatch=True),
    "str": segment_text,
    "path": path_text,
}

# Paths made of pieces that look like the routes, plus arbitrary text.
path_piece = st.one_of(
    st.sampled_from(["items", "new", "prices", "users", "pages", "edit", "files", "pair", ""]),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True),
    st.uuids().map(str),
    segment_text,
)
any_path = st.one_of(
    st.lists(path_piece, max_size=5).map(lambda parts: "/" + "/".join(parts)),
    st.text(max_size=40).map(lambda text: "/" + text),
)


@PROPERTY
@given(any_path)
def test_a_path_matches_one_route_or_none(path: str) -> None:
    match = ROUTER.lookup("GET", path)
    found = ROUTER.find("GET", path)
    if found is not None:
        # the hot path agrees with the full lookup
        assert match is not None
        assert (match.endpoint, match.params or {}) == (found[0], found[1] or {})
    if match is None or match.endpoint is None:
        return
    name, params = match.endpoint, match.params or {}
    # the params rebuild a path that matches the same route with the same params
    rebuilt = unquote(ROUTER.url_path_for(name, params))
    again = ROUTER.lookup("GET", rebuilt)
    assert again is not None
    assert again.endpoint == name
    assert (again.params or {}) == params


@PROPERTY
@given(st.data())
def test_url_for_and_matching_round_trip_for_every_converter(data: st.DataObject) -> None:
    converter = data.draw(st.sampled_from(sorted(PARAMS)))
    value = data.draw(PARAMS[converter])
    router: Router[str] = Router()
    router.add(f"/x/{{v:{converter}}}", "x", ["GET"], "x")
    url = router.url_path_for("x", {"v": value})
    assert url.isascii()
    match = router.lookup("GET", unquote(url))
    assert match is not None, url
    assert match.endpoint == "x"
    assert match.params == {"v": value}


def test_uuid_converter_gives_a_uuid() -> None:
    router: Router[str] = Router()
    router.add("/u/{v:uuid}", "u", ["GET"], "u")
    value = uuid.uuid4()
    match = router.lookup("GET", f"/u/{value}")
    assert match is not None
    assert match.params == {"v": value}


def make_app() -> App:
    app = App(debug=True)

    @app.get("/")
    def home() -> str:
        return "home"

    @app.get("/items/{id:int}")
    def item(id: int) -> dict[str, int]:
        return {"id": id}

    @app.get("/items/{slug:slug}")
    def item_slug(slug: str) -> dict[str, str]:
        return {"slug": slug}

    @app.get("/prices/{value:float}")
    def price(value: float) -> dict[str, float]:
        return {"value": value}

    @app.get("/pages/{name}")
    def page(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/pages/{name}/edit")
    def page_edit(name: str) -> dict[str, str]:
        return {"name": name}

    @app.get("/files/{rest:path}")
    def file(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.get("/pair/{a:int}/{b}/")
    def pair(a: int, b: str) -> dict[str, object]:
        return {"a": a, "b": b}

    return app


APP = make_app()
raw_paths = st.one_of(
    any_path.map(lambda path: quote(path, safe="/%").encode("ascii")),
    st.binary(max_size=40).map(lambda raw: b"/" + quote(raw, safe="/%").encode("ascii")),
)


@PROPERTY
@given(raw_paths, st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "DELETE"]))
def test_any_path_and_method_is_answered_without_a_500(raw_path: bytes, method: str) -> None:
    for call in (call_asgi, call_wsgi):
        status, _ = call(APP, method, raw_path)
        assert status in (200, 204, 308, 400, 404, 405), (call.__name__, raw_path, status)


@PROPERTY
@given(st.sampled_from(["int", "float", "uuid", "slug"]), st.data())
def test_a_trailing_newline_is_not_ignored(converter: str, data: st.DataObject) -> None:
    # regression: the route regex ended in "$", which matches before a final "\n"
    router: Router[str] = Router()
    router.add(f"/x/{{v:{converter}}}", "x", ["GET"], "x")
    router.add("/static", "s", ["GET"], "s")
    text = unquote(router.url_path_for("x", {"v": data.draw(PARAMS[converter])}))
    assert router.lookup("GET", text) is not None
    assert router.lookup("GET", text + "\n") is None
    assert router.find("GET", text + "\n") is None


def test_path_converter_takes_a_newline() -> None:
    router: Router[str] = Router()
    router.add("/files/{rest:path}", "f", ["GET"], "f")
    match = router.lookup("GET", "/files/a\nb")
    assert match is not None
    assert match.params == {"rest": "a\nb"}


def test_small_float_builds_a_url_that_matches() -> None:
    router: Router[str] = Router()
    router.add("/p/{v:float}", "p", ["GET"], "p")
    url = router.url_path_for("p", {"v": 1e-7})
    assert url == "/p/0.0000001"
    match = router.lookup("GET", url)
    assert match is not None
    assert match.params == {"v": 1e-7}
