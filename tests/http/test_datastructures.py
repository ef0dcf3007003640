from __future__ import annotations

import copy
import pickle
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oakling.http.datastructures import (
    Headers,
    MultiDict,
    MutableHeaders,
    QueryParams,
    State,
    parse_query,
)

# -- MultiDict -----------------------------------------------------------------------------


def test_multidict_item_access_gives_the_last_value_and_getlist_all() -> None:
    md = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert md["a"] == "3"
    assert md.get("a") == "3"
    assert md.getlist("a") == ["1", "3"]
    assert md.getlist("missing") == []
    assert md.get("missing") is None
    assert md.get("missing", "x") == "x"
    with pytest.raises(KeyError):
        md["missing"]


def test_multidict_iterates_each_key_once_in_first_seen_order() -> None:
    md = MultiDict([("b", 1), ("a", 2), ("b", 3)])
    assert list(md) == ["b", "a"]
    assert len(md) == 2
    assert "a" in md
    assert "z" not in md
    assert dict(md) == {"b": 3, "a": 2}


def test_multidict_multi_items_keeps_repeats_and_is_a_copy() -> None:
    md = MultiDict([("a", "1"), ("a", "2")])
    items = md.multi_items()
    assert items == [("a", "1"), ("a", "2")]
    items.append(("b", "3"))
    assert md.multi_items() == [("a", "1"), ("a", "2")]


def test_multidict_from_a_mapping() -> None:
    md = MultiDict({"a": "1", "b": "2"})
    assert md.multi_items() == [("a", "1"), ("b", "2")]


def test_multidict_equality_ignores_order_but_not_repeats() -> None:
    first = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert first == MultiDict([("b", "2"), ("a", "3"), ("a", "1")])
    assert first != MultiDict([("a", "1"), ("b", "2")])
    assert first != MultiDict([("a", "3"), ("b", "2"), ("a", "3")])
    assert (first == {"a": "3", "b": "2"}) is False  # a dict loses the repeats


def test_equal_multidicts_hash_equal() -> None:
    first = MultiDict([("a", "1"), ("b", "2")])
    second = MultiDict([("b", "2"), ("a", "1")])
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


def test_multidict_repr_shows_every_pair() -> None:
    assert repr(MultiDict([("a", "1"), ("a", "2")])) == "MultiDict([('a', '1'), ('a', '2')])"


# -- QueryParams ---------------------------------------------------------------------------


def test_query_params_parse_repeats_blanks_plus_and_percent() -> None:
    query = QueryParams("tag=a&tag=b&empty=&flag&sp=a+b&plus=%2B&amp=%26&utf=caf%C3%A9")
    assert query.getlist("tag") == ["a", "b"]
    assert query["tag"] == "b"
    assert query["empty"] == ""
    assert query["flag"] == ""
    assert query["sp"] == "a b"
    assert query["plus"] == "+"
    assert query["amp"] == "&"
    assert query["utf"] == "café"


def test_query_params_from_bytes_are_utf8() -> None:
    assert QueryParams(b"q=caf\xc3\xa9&r=%E2%82%AC")["q"] == "café"
    assert QueryParams(b"r=%E2%82%AC")["r"] == "€"


def test_query_params_refuse_bytes_that_are_not_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        QueryParams(b"q=\xff")
    with pytest.raises(UnicodeDecodeError):
        QueryParams("q=%FF")


def test_query_params_skip_empty_pairs() -> None:
    assert QueryParams("&&a=1&&").multi_items() == [("a", "1")]
    assert QueryParams("").multi_items() == []
    assert QueryParams(b"").multi_items() == []


def test_query_params_value_may_hold_an_equals_sign() -> None:
    assert QueryParams("token=abc==&x==y")["token"] == "abc=="
    assert QueryParams("x==y")["x"] == "=y"


def test_query_params_from_pairs_and_mapping() -> None:
    assert QueryParams([("a", "1"), ("a", "2")]).getlist("a") == ["1", "2"]
    assert QueryParams({"a": "1"})["a"] == "1"


def test_query_params_semicolon_is_not_a_separator() -> None:
    assert QueryParams("a=1;b=2").multi_items() == [("a", "1;b=2")]


@given(st.text(alphabet="ab=&+%20;Xé", max_size=30))
def test_parse_query_fast_path_agrees_with_parse_qsl(query: str) -> None:
    try:
        expected = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            parse_query(query)
        return
    assert parse_query(query) == expected


# -- Headers -------------------------------------------------------------------------------


def test_headers_lookup_is_case_insensitive_and_gives_the_first_value() -> None:
    headers = Headers(raw=[(b"x-tag", b"a"), (b"content-type", b"text/plain"), (b"x-tag", b"b")])
    assert headers["X-Tag"] == "a"
    assert headers["CONTENT-TYPE"] == "text/plain"
    assert headers.get("x-TAG") == "a"
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    assert headers.getlist("X-TAG") == ["a", "b"]
    assert headers.getlist("missing") == []
    assert "X-Tag" in headers
    assert "nope" not in headers
    assert 3 not in headers  # type: ignore[comparison-overlap]
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_iterate_names_once_lower_case() -> None:
    headers = Headers({"X-A": "1", "Content-Type": "text/plain"})
    assert list(headers) == ["x-a", "content-type"]
    assert len(Headers(raw=[(b"a", b"1"), (b"a", b"2"), (b"b", b"3")])) == 2
    assert dict(headers) == {"x-a": "1", "content-type": "text/plain"}


def test_headers_from_pairs_keep_repeats() -> None:
    headers = Headers([("Accept", "a"), ("accept", "b")])
    assert headers.getlist("accept") == ["a", "b"]
    assert headers.multi_items() == [("accept", "a"), ("accept", "b")]
    assert Headers().multi_items() == []


def test_headers_are_latin1() -> None:
    headers = Headers(raw=[(b"x-name", "café".encode("latin-1"))])
    assert headers["x-name"] == "café"


def test_headers_equality_ignores_order_and_equal_headers_hash_equal() -> None:
    first = Headers(raw=[(b"a", b"1"), (b"b", b"2")])
    second = Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert first == second
    assert hash(first) == hash(second)
    assert first != Headers(raw=[(b"a", b"1")])
    assert repr(Headers({"A": "1"})) == "Headers([('a', '1')])"


# -- MutableHeaders ------------------------------------------------------------------------


def test_mutable_headers_set_replaces_every_value() -> None:
    raw = [(b"x-a", b"1"), (b"x-b", b"2"), (b"x-a", b"3")]
    headers = MutableHeaders(raw=raw)
    headers["X-A"] = "new"
    assert raw == [(b"x-b", b"2"), (b"x-a", b"new")]  # a view: the list itself changes


def test_mutable_headers_append_keeps_earlier_values() -> None:
    headers = MutableHeaders()
    headers.append("Set-Cookie", "a=1")
    headers.append("set-cookie", "b=2")
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]


def test_mutable_headers_delete_removes_every_value() -> None:
    headers = MutableHeaders(raw=[(b"x-a", b"1"), (b"x-b", b"2"), (b"x-a", b"3")])
    del headers["X-A"]
    assert headers.multi_items() == [("x-b", "2")]
    with pytest.raises(KeyError):
        del headers["x-a"]


def test_mutable_headers_setdefault_and_update() -> None:
    headers = MutableHeaders({"A": "1"})
    assert headers.setdefault("a", "2") == "1"
    assert headers.setdefault("B", "3") == "3"
    headers.update({"a": "9", "C": "4"})
    assert headers.multi_items() == [("b", "3"), ("a", "9"), ("c", "4")]


@pytest.mark.parametrize(
    "value", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb", "a\x00b"], ids=["crlf", "lf", "cr", "nul"]
)
def test_mutable_headers_refuse_line_breaks_and_nul_in_values(value: str) -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="Invalid character in the value of header 'X-A'"):
        headers["X-A"] = value
    with pytest.raises(ValueError, match="CR, LF and NUL are not allowed"):
        headers.append("X-A", value)
    assert headers.multi_items() == []


@pytest.mark.parametrize("name", ["X-A\r\nEvil", "X-A\n", "X:A", "X A", "", "X-A\x00"])
def test_mutable_headers_refuse_names_that_are_not_tokens(name: str) -> None:
    headers = MutableHeaders()
    with pytest.raises(ValueError, match="Invalid header name"):
        headers[name] = "1"
    with pytest.raises(ValueError, match="Invalid header name"):
        headers.append(name, "1")
    assert headers.multi_items() == []


def test_mutable_headers_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(MutableHeaders())


# -- State ---------------------------------------------------------------------------------


def test_state_is_an_attribute_bag() -> None:
    state = State({"db": "conn"})
    state.user = "ada"
    assert state.db == "conn"
    assert state.user == "ada"
    assert "user" in state
    assert "nobody" not in state
    assert state.get("user") == "ada"
    assert state.get("nobody") is None
    assert state.get("nobody", 0) == 0
    del state.user
    assert "user" not in state


def test_state_missing_attribute_raises_attribute_error() -> None:
    state = State()
    with pytest.raises(AttributeError, match="state has no attribute 'missing'"):
        _ = state.missing
    with pytest.raises(AttributeError, match="state has no attribute 'missing'"):
        del state.missing
    assert getattr(state, "missing", "fallback") == "fallback"
    assert not hasattr(state, "missing")


def test_state_copies_and_pickles() -> None:
    state = State({"items": [1]})
    shallow = copy.copy(state)
    deep = copy.deepcopy(state)
    assert shallow.items == [1]
    assert deep.items == [1]
    assert deep.items is not state.items
    assert pickle.loads(pickle.dumps(state)).items == [1]


def test_states_do_not_share_values() -> None:
    values = {"a": 1}
    first = State(values)
    second = State()
    first.b = 2
    assert "b" not in second
    assert "b" not in values
