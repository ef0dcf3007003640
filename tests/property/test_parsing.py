"""Properties of what oakling parses from client bytes: query strings, cookies, headers."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from oakling.exceptions import BadRequest
from oakling.http.cookies import format_set_cookie, parse_cookie_header
from oakling.http.datastructures import Headers, QueryParams
from oakling.http.request import Request

from .conftest import PROPERTY

utf8_text = st.text(st.characters(codec="utf-8"), max_size=20)
pairs = st.lists(st.tuples(utf8_text, utf8_text), max_size=10)


@PROPERTY
@given(pairs)
def test_query_string_round_trips(items: list[tuple[str, str]]) -> None:
    query = QueryParams(urlencode(items).encode("ascii"))
    kept = list(items)  # urlencode writes "=" even for two empty strings: a pair
    assert query.multi_items() == kept
    for name, _ in kept:
        assert query.getlist(name) == [v for n, v in kept if n == name]


@PROPERTY
@given(st.binary(max_size=60))
def test_any_query_string_parses_or_is_a_400(raw: bytes) -> None:
    request = Request({"type": "http", "headers": [], "query_string": raw})
    try:
        query = request.query
    except BadRequest as exc:
        error = exc.detail
    else:
        error = ""
    if error:
        assert "not valid UTF-8" in error
        return
    for name, value in query.multi_items():
        assert isinstance(name, str)
        assert isinstance(value, str)


cookie_name = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}", fullmatch=True)
cookie_value = st.from_regex(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,20}", fullmatch=True)


@PROPERTY
@given(st.lists(st.tuples(cookie_name, cookie_value), max_size=8))
def test_cookie_header_round_trips_first_value_wins(items: list[tuple[str, str]]) -> None:
    header = "; ".join(f"{name}={value}" for name, value in items)
    expected: dict[str, str] = {}
    for name, value in items:
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        expected.setdefault(name, value)
    assert parse_cookie_header(header) == expected


@PROPERTY
@given(cookie_name, cookie_value)
def test_a_set_cookie_value_reads_back(name: str, value: str) -> None:
    set_cookie = format_set_cookie(name, value)
    name_value = set_cookie.split("; ", 1)[0]
    parsed = parse_cookie_header(name_value)
    expected = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    assert parsed == {name: expected}


@PROPERTY
@given(st.text(max_size=80))
def test_any_cookie_header_parses_without_error(header: str) -> None:
    cookies = parse_cookie_header(header)
    for name in cookies:
        assert name
        assert ";" not in name
        assert "=" not in name


header_name = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,15}", fullmatch=True)
header_value = st.binary(max_size=30).filter(lambda v: b"\r" not in v and b"\n" not in v)


@PROPERTY
@given(st.lists(st.tuples(header_name, header_value), max_size=10), header_name)
def test_headers_are_case_insensitive_and_keep_order(
    items: list[tuple[str, bytes]], probe: str
) -> None:
    raw = [(name.lower().encode(), value) for name, value in items]
    headers = Headers(raw=raw)
    wanted = [v.decode("latin-1") for n, v in raw if n == probe.lower().encode()]
    assert headers.getlist(probe) == wanted
    assert headers.getlist(probe.upper()) == wanted
    assert headers.get(probe) == (wanted[0] if wanted else None)
    assert (probe in headers) == bool(wanted)
    assert len(headers) == len({n for n, _ in raw})


@PROPERTY
@given(st.binary(max_size=40))
def test_any_host_header_is_checked_without_error(host: bytes) -> None:
    from oakling._internal.hosts import HostValidator, split_host

    validator = HostValidator(["example.com", ".example.org"])
    scope = {"type": "http", "headers": [(b"host", host)], "server": ("10.0.0.1", 80)}
    allowed = validator.allows_scope(scope)
    text = host.decode("latin-1")
    if allowed and host:
        name = split_host(text)
        assert name == "example.com" or name == "example.org" or name.endswith(".example.org")
