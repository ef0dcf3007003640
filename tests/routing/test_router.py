from __future__ import annotations

import uuid

import pytest

from oakling.exceptions import ConfigurationError, NoRouteFound
from oakling.routing import Router
from oakling.routing.converters import Converter


def make_router() -> Router[str]:
    router: Router[str] = Router()
    router.add("/", "home", ["GET"], "home")
    router.add("/users/me", "me", ["GET"], "me")
    router.add("/users/{id:int}", "user", ["GET"], "user")
    router.add("/users/{id:int}", "user-put", ["PUT"], "user")
    router.add("/files/{rest:path}", "file", ["GET"], "file")
    router.add("/items/{key:uuid}", "item", ["GET"], "item")
    router.add("/posts/{slug:slug}/", "post", ["GET"], "post")
    router.add("/price/{value:float}", "price", ["GET"], "price")
    return router


def test_static_route_wins_over_dynamic() -> None:
    match = make_router().lookup("GET", "/users/me")
    assert match is not None
    assert match.endpoint == "me"


def test_dynamic_route_converts_params() -> None:
    match = make_router().lookup("GET", "/users/42")
    assert match is not None
    assert (match.endpoint, match.params) == ("user", {"id": 42})


def test_same_path_different_methods_share_an_entry() -> None:
    match = make_router().lookup("PUT", "/users/7")
    assert match is not None
    assert match.endpoint == "user-put"


def test_wrong_method_gives_allow_list() -> None:
    match = make_router().lookup("DELETE", "/users/7")
    assert match is not None
    assert match.endpoint is None
    assert match.allow == "GET, HEAD, OPTIONS, PUT"


def test_head_falls_back_to_get() -> None:
    match = make_router().lookup("HEAD", "/")
    assert match is not None
    assert match.endpoint == "home"


def test_path_converter_takes_slashes() -> None:
    match = make_router().lookup("GET", "/files/a/b/c.txt")
    assert match is not None
    assert match.params == {"rest": "a/b/c.txt"}


def test_uuid_converter() -> None:
    key = uuid.uuid4()
    match = make_router().lookup("GET", f"/items/{key}")
    assert match is not None
    assert match.params == {"key": key}
    assert make_router().lookup("GET", "/items/not-a-uuid") is None


def test_float_converter() -> None:
    match = make_router().lookup("GET", "/price/1.5")
    assert match is not None
    assert match.params == {"value": 1.5}


def test_int_converter_rejects_text() -> None:
    assert make_router().lookup("GET", "/users/abc") is None


def test_missing_trailing_slash_redirects() -> None:
    match = make_router().lookup("GET", "/posts/hello")
    assert match is not None
    assert match.redirect == "/posts/hello/"


def test_unknown_path_is_none() -> None:
    assert make_router().lookup("GET", "/nothing/here") is None


def test_conflicting_route_is_reported_at_registration() -> None:
    router = make_router()
    with pytest.raises(ConfigurationError, match=r"Route conflict: GET /users/\{uid:int\}"):
        router.add("/users/{uid:int}", "other", ["GET"], "other")


def test_name_reused_for_another_path_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="already used"):
        make_router().add("/elsewhere", "x", ["GET"], "home")


def test_unknown_converter_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="Unknown converter 'nope'"):
        Router[str]().add("/x/{a:nope}", "x", ["GET"], "x")


def test_path_must_start_with_slash() -> None:
    with pytest.raises(ConfigurationError, match="must start with '/'"):
        Router[str]().add("x", "x", ["GET"], "x")


def test_duplicate_param_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="appears twice"):
        Router[str]().add("/{a}/{a}", "x", ["GET"], "x")


def test_url_path_for_builds_paths_and_query() -> None:
    router = make_router()
    assert router.url_path_for("user", {"id": 3}) == "/users/3"
    assert router.url_path_for("user", {"id": 3, "tab": "posts"}) == "/users/3?tab=posts"
    assert router.url_path_for("file", {"rest": "a b/c"}) == "/files/a%20b/c"
    assert router.url_path_for("home", {"q": ["a", "b"]}) == "/?q=a&q=b"


def test_url_path_for_errors() -> None:
    router = make_router()
    with pytest.raises(NoRouteFound, match="missing parameter"):
        router.url_path_for("user", {})
    with pytest.raises(NoRouteFound, match="No route named 'nope'"):
        router.url_path_for("nope", {})
    with pytest.raises(NoRouteFound, match="non-negative int"):
        router.url_path_for("user", {"id": -1})


def test_custom_converter() -> None:
    class Upper(Converter):
        regex = "[A-Z]+"

        def to_python(self, value: str) -> str:
            return value.lower()

    router: Router[str] = Router()
    router.register_converter("upper", Upper)
    router.add("/code/{c:upper}", "code", ["GET"], "code")
    match = router.lookup("GET", "/code/ABC")
    assert match is not None
    assert match.params == {"c": "abc"}


def test_many_dynamic_routes_each_match_their_own() -> None:
    router: Router[int] = Router()
    for i in range(300):
        router.add(f"/r{i}/{{x:int}}", i, ["GET"], f"r{i}")
    for i in (0, 150, 299):
        match = router.lookup("GET", f"/r{i}/5")
        assert match is not None
        assert (match.endpoint, match.params) == (i, {"x": 5})


def test_first_pattern_lacking_method_falls_through_to_next() -> None:
    router: Router[str] = Router()
    router.add("/a/{x:int}", "int-get", ["GET"], "a1")
    router.add("/a/{y}", "str-post", ["POST"], "a2")
    match = router.lookup("POST", "/a/5")
    assert match is not None
    assert (match.endpoint, match.params) == ("str-post", {"y": "5"})
    match = router.lookup("DELETE", "/a/5")
    assert match is not None
    assert match.allow == "GET, HEAD, OPTIONS, POST"
