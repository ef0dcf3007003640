from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from oakling.http.cookies import format_set_cookie, parse_cookie_header

# -- parsing (tolerant) --------------------------------------------------------------------


def test_parse_cookie_header_reads_pairs() -> None:
    assert parse_cookie_header("sid=abc; theme=dark") == {"sid": "abc", "theme": "dark"}


def test_parse_cookie_header_strips_spaces_and_quotes() -> None:
    assert parse_cookie_header('  a = 1 ;b="quoted value";c=""') == {
        "a": "1",
        "b": "quoted value",
        "c": "",
    }


def test_parse_cookie_header_keeps_a_lone_quote_and_equals_signs_in_values() -> None:
    assert parse_cookie_header('a="x; token=abc==') == {"a": '"x', "token": "abc=="}


def test_parse_cookie_header_first_value_wins() -> None:
    # NOTE: browsers send the cookie with the most specific path first.
    assert parse_cookie_header("sid=specific; sid=general") == {"sid": "specific"}


def test_parse_cookie_header_skips_junk_pairs() -> None:
    header = "good=1; novalue; =nameless; bad name=2; bad\x00=3; (x)=4; also=ok; ;;"
    assert parse_cookie_header(header) == {"good": "1", "also": "ok"}


def test_parse_cookie_header_keeps_empty_values() -> None:
    assert parse_cookie_header("a=; b=2") == {"a": "", "b": "2"}


def test_parse_cookie_header_of_nothing_is_empty() -> None:
    assert parse_cookie_header("") == {}
    assert parse_cookie_header(" ; ; ") == {}


# -- formatting (strict) -------------------------------------------------------------------


def test_set_cookie_defaults_are_httponly_lax_and_root_path() -> None:
    assert format_set_cookie("sid", "abc") == "sid=abc; Path=/; HttpOnly; SameSite=Lax"


def test_set_cookie_with_every_attribute() -> None:
    header = format_set_cookie(
        "sid",
        "abc",
        max_age=3600,
        expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=False,
        samesite="strict",
        partitioned=True,
    )
    assert header == (
        "sid=abc; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; "
        "Path=/app; Secure; SameSite=Strict; Partitioned"
    )


def test_set_cookie_without_path_samesite_or_httponly() -> None:
    header = format_set_cookie("a", "1", path=None, samesite=None, httponly=False)
    assert header == "a=1"


def test_set_cookie_samesite_none_forces_secure() -> None:
    assert format_set_cookie("a", "1", samesite="none") == (
        "a=1; Path=/; Secure; HttpOnly; SameSite=None"
    )


def test_set_cookie_expires_from_a_timestamp_or_another_time_zone() -> None:
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in format_set_cookie("a", expires=0)
    paris = timezone(timedelta(hours=1))
    when = datetime(2030, 1, 1, 1, 0, 0, tzinfo=paris)
    assert "Expires=Tue, 01 Jan 2030 00:00:00 GMT" in format_set_cookie("a", expires=when)


def test_set_cookie_allows_every_cookie_octet() -> None:
    value = "abc-._~!#$%&'()*+/:<=>?@[]^`{|}"
    assert format_set_cookie("a", value).startswith(f"a={value};")


@pytest.mark.parametrize(
    "name", ["", "a b", "a;b", "a=b", 'a"', "a\n", "sid\r\nSet-Cookie: x", "naïve", "a,b"]
)
def test_set_cookie_refuses_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="Invalid cookie name"):
        format_set_cookie(name, "1")


@pytest.mark.parametrize(
    "value",
    ["a b", "a;b", "a,b", 'a"b', "a\\b", "abc\n", "a\r\nSet-Cookie: x=1", "caf\u00e9", "\x7f"],
)
def test_set_cookie_refuses_values_a_cookie_cannot_carry(value: str) -> None:
    with pytest.raises(ValueError, match="Invalid character in the value of cookie 'sid'"):
        format_set_cookie("sid", value)


@pytest.mark.parametrize("attribute", ["path", "domain"])
@pytest.mark.parametrize("text", ["/; Domain=evil.com", "/a\r\nX-Evil: 1", "/a\n", "/\x00"])
def test_set_cookie_refuses_injection_through_path_or_domain(attribute: str, text: str) -> None:
    with pytest.raises(ValueError, match=f"Invalid {attribute} .* for cookie 'sid'"):
        format_set_cookie("sid", "1", **{attribute: text})  # type: ignore[arg-type]


def test_set_cookie_refuses_an_unknown_samesite() -> None:
    with pytest.raises(ValueError, match="Invalid samesite 'sometimes'"):
        format_set_cookie("sid", "1", samesite="sometimes")  # type: ignore[arg-type]


def test_set_cookie_samesite_is_case_insensitive() -> None:
    assert format_set_cookie("a", "1", samesite="Strict").endswith("SameSite=Strict")  # type: ignore[arg-type]
