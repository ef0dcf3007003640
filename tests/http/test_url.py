from __future__ import annotations

import pytest

from oakling.http.response import json_encode
from oakling.http.url import URL


def test_url_is_a_str_with_its_parts() -> None:
    url = URL("https://Example.COM:8443/a%20b/c?x=1&y=2#top")
    assert isinstance(url, str)
    assert url == "https://Example.COM:8443/a%20b/c?x=1&y=2#top"
    assert url.scheme == "https"
    assert url.netloc == "Example.COM:8443"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.path == "/a%20b/c"  # percent-encoded as sent
    assert url.query == "x=1&y=2"
    assert url.fragment == "top"


def test_url_without_port_query_or_fragment() -> None:
    url = URL("http://testserver/")
    assert url.port is None
    assert url.query == ""
    assert url.fragment == ""


def test_relative_url_has_no_scheme_or_host() -> None:
    url = URL("/items/3?page=2")
    assert url.scheme == ""
    assert url.netloc == ""
    assert url.hostname is None
    assert url.path == "/items/3"
    assert url.query == "page=2"


def test_url_ipv6_host() -> None:
    url = URL("http://[::1]:8000/x")
    assert url.hostname == "::1"
    assert url.port == 8000
    assert url.netloc == "[::1]:8000"


def test_empty_url() -> None:
    url = URL()
    assert url == ""
    assert url.path == ""


def test_copy_with_changes_only_the_parts_given() -> None:
    url = URL("http://example.com/a?x=1#f")
    changed = url.copy_with(scheme="https", path="/b")
    assert isinstance(changed, URL)
    assert changed == "https://example.com/b?x=1#f"
    assert changed.path == "/b"
    assert url == "http://example.com/a?x=1#f"  # unchanged
    assert url.copy_with(query="", fragment="") == "http://example.com/a"
    assert url.copy_with(netloc="other.org:81").port == 81


def test_copy_with_an_unknown_part_is_an_error() -> None:
    with pytest.raises(ValueError, match="host"):
        URL("http://x/").copy_with(host="y")


def test_include_query_params_adds_params() -> None:
    url = URL("http://example.com/search#results")
    assert url.include_query_params(q="a b", page=2) == (
        "http://example.com/search?q=a+b&page=2#results"
    )
    assert URL("/p").include_query_params({"a": "1"}) == "/p?a=1"


def test_include_query_params_lists_become_repeated_keys() -> None:
    assert URL("/p").include_query_params(tag=["a", "b"]) == "/p?tag=a&tag=b"
    assert URL("/p").include_query_params(tag=("a", "b")) == "/p?tag=a&tag=b"


def test_include_query_params_replaces_values_of_the_same_name() -> None:
    url = URL("http://example.com/list?page=1&sort=name&page=3")
    next_page = url.include_query_params(page=2)
    assert next_page == "http://example.com/list?sort=name&page=2"
    assert next_page.include_query_params(page=3) == "http://example.com/list?sort=name&page=3"


def test_include_query_params_keeps_the_other_params_as_they_were_encoded() -> None:
    url = URL("/p?q=caf%C3%A9&flag&x=a%2Bb&page=1")
    assert url.include_query_params(page=2) == "/p?q=caf%C3%A9&flag&x=a%2Bb&page=2"


def test_include_query_params_matches_encoded_names() -> None:
    url = URL("/p?my+key=1&my%20key=2&other=3")
    assert url.include_query_params({"my key": "x"}) == "/p?other=3&my+key=x"


def test_include_query_params_mapping_and_keywords_merge_keywords_win() -> None:
    url = URL("/p").include_query_params({"a": "1", "b": "2"}, b="3")
    assert url == "/p?a=1&b=3"


def test_include_query_params_with_nothing_is_the_same_url() -> None:
    url = URL("/p?a=1")
    assert url.include_query_params() is url
    assert url.include_query_params({}) is url


def test_url_encodes_as_a_json_string_with_the_apps_encoder() -> None:
    assert json_encode({"next": URL("http://x/?a=1")}) == b'{"next":"http://x/?a=1"}'
