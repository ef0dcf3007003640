from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oakling.exceptions import BadRequest, HTTPError, PayloadTooLarge, UnsupportedMediaType
from oakling.http.limits import Limits
from oakling.http.multipart import (
    FormData,
    FormParser,
    UploadFile,
    is_form_content_type,
    parse_form,
)

if TYPE_CHECKING:
    from pathlib import Path

URLENCODED = "application/x-www-form-urlencoded"
BOUNDARY = "oaklingboundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = Limits()


def part(
    name: str | None = "field",
    body: bytes = b"",
    *,
    filename: str | None = None,
    headers: list[str] | None = None,
    disposition: str | None = None,
) -> bytes:
    """Build one multipart part, opening boundary included."""
    if disposition is None:
        disposition = "form-data"
        if name is not None:
            disposition += f'; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
    lines = [f"--{BOUNDARY}", f"Content-Disposition: {disposition}", *(headers or [])]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def raw_part(header_block: bytes, body: bytes = b"") -> bytes:
    """Build a part from exact header bytes (for non-ASCII or odd headers)."""
    return f"--{BOUNDARY}\r\n".encode() + header_block + b"\r\n\r\n" + body + b"\r\n"


def feed_bytewise(content_type: str, body: bytes, limits: Limits = LIMITS) -> FormData:
    parser = FormParser(content_type, limits)
    for i in range(len(body)):
        parser.feed(body[i : i + 1])
    return parser.finish()


def expect_error(
    error: type[HTTPError], status: int, message: str, content_type: str, body: bytes, **limits: Any
) -> HTTPError:
    with pytest.raises(error) as info:
        parse_form(content_type, body, Limits(**limits))
    assert info.value.status_code == status
    assert message in info.value.detail
    return info.value


def rolled(upload: UploadFile) -> bool:
    """Tell whether the upload's spooled file has moved to disk."""
    return bool(upload.file._rolled)  # type: ignore[attr-defined]


@pytest.fixture
def spooled_files(monkeypatch: pytest.MonkeyPatch) -> list[tempfile.SpooledTemporaryFile[bytes]]:
    """Record every spooled file the parser creates."""
    created: list[tempfile.SpooledTemporaryFile[bytes]] = []
    original = tempfile.SpooledTemporaryFile

    def factory(*args: Any, **kwargs: Any) -> tempfile.SpooledTemporaryFile[bytes]:
        file: tempfile.SpooledTemporaryFile[bytes] = original(*args, **kwargs)
        created.append(file)
        return file

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", factory)
    return created


# --- content types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (URLENCODED, True),
        ("Application/X-WWW-Form-Urlencoded; charset=utf-8", True),
        (MULTIPART, True),
        ("multipart/form-data", True),
        ("application/json", False),
        ("multipart/mixed; boundary=x", False),
        ("", False),
    ],
)
def test_is_form_content_type(content_type: str, expected: bool) -> None:
    assert is_form_content_type(content_type) is expected


def test_other_content_type_is_415_naming_the_accepted_ones() -> None:
    error = expect_error(UnsupportedMediaType, 415, "'application/json'", "application/json", b"{}")
    assert URLENCODED in error.detail
    assert "multipart/form-data" in error.detail


def test_missing_content_type_is_415() -> None:
    expect_error(UnsupportedMediaType, 415, "no Content-Type", "", b"a=1")


# --- urlencoded ---------------------------------------------------------------


def test_urlencoded_fields_blank_values_and_plus() -> None:
    form = parse_form(URLENCODED, b"a=1&b=&c=x+y&a=2&d&e=%C3%A9t%C3%A9%2B", LIMITS)
    assert form.getlist("a") == ["1", "2"]
    assert form["b"] == ""
    assert form["c"] == "x y"
    assert form["d"] == ""
    assert form["e"] == "été+"


def test_urlencoded_empty_body_is_empty_form() -> None:
    assert parse_form(URLENCODED, b"", LIMITS) == FormData()


def test_urlencoded_fed_byte_by_byte() -> None:
    body = b"name=J%C3%BCrgen&tags=a&tags=b&empty="
    form = feed_bytewise(URLENCODED, body)
    assert form.multi_items() == [("name", "Jürgen"), ("tags", "a"), ("tags", "b"), ("empty", "")]


@pytest.mark.parametrize("body", [b"a=%zz", b"a=100%", b"a=%4", b"%G1=x"])
def test_urlencoded_bad_percent_encoding_is_400(body: bytes) -> None:
    error = expect_error(BadRequest, 400, "Invalid percent-encoding", URLENCODED, body)
    assert "%25" in error.detail


def test_urlencoded_escape_that_is_not_utf8_is_400_naming_the_field() -> None:
    error = expect_error(BadRequest, 400, "not valid UTF-8", URLENCODED, b"ok=1&city=%FF")
    assert "'city'" in error.detail


def test_urlencoded_raw_bytes_that_are_not_utf8_are_400() -> None:
    expect_error(BadRequest, 400, "Form body is not valid UTF-8", URLENCODED, b"a=\xff")


def test_urlencoded_raw_utf8_is_accepted() -> None:
    assert parse_form(URLENCODED, "a=ü".encode(), LIMITS)["a"] == "ü"


def test_urlencoded_field_bomb_is_413() -> None:
    body = b"&".join(b"f%d=1" % i for i in range(5000))
    error = expect_error(PayloadTooLarge, 413, "Too many form fields (over 1000)", URLENCODED, body)
    assert "OAKLING_MAX_FORM_FIELDS" in error.detail


def test_urlencoded_field_limit_fails_while_streaming() -> None:
    parser = FormParser(URLENCODED, Limits(max_form_fields=3))
    parser.feed(b"a=1&b=2&c=3")
    with pytest.raises(PayloadTooLarge):
        parser.feed(b"&d=4")
    with pytest.raises(RuntimeError):
        parser.feed(b"more")


def test_urlencoded_field_limit_counts_fields_split_across_chunks_once() -> None:
    limits = Limits(max_form_fields=3)
    body = b"&&alpha=1&&beta=22&gamma=333&"
    assert len(feed_bytewise(URLENCODED, body, limits)) == 3
    with pytest.raises(PayloadTooLarge):
        feed_bytewise(URLENCODED, body + b"x", limits)


def test_urlencoded_body_over_max_body_size_is_413_before_buffering() -> None:
    parser = FormParser(URLENCODED, Limits(max_body_size=10))
    parser.feed(b"a=12345")
    with pytest.raises(PayloadTooLarge) as info:
        parser.feed(b"6789")
    assert info.value.status_code == 413
    assert "over 10 bytes" in info.value.detail
    assert "OAKLING_MAX_BODY_SIZE" in info.value.detail


@given(
    st.dictionaries(
        st.text(st.characters(exclude_categories=["Cs"])),
        st.text(st.characters(exclude_categories=["Cs"])),
        max_size=20,
    )
)
def test_urlencoded_round_trips_any_dict_of_strings(fields: dict[str, str]) -> None:
    form = parse_form(URLENCODED, urlencode(fields).encode(), LIMITS)
    assert dict(form) == fields


# --- multipart: results ------------------------------------------------------------


def httpx_body(data: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://testserver/", data=data, files=files)
    return request.headers["content-type"], request.read()


def test_multipart_fields_and_files_from_httpx() -> None:
    content_type, body = httpx_body(
        {"title": "Hello", "note": "été"},
        {"doc": ("report.txt", b"line1\r\nline2", "text/plain")},
    )
    with parse_form(content_type, body, LIMITS) as form:
        assert form["title"] == "Hello"
        assert form["note"] == "été"
        upload = form["doc"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "report.txt"
        assert upload.raw_filename == "report.txt"
        assert upload.content_type == "text/plain"
        assert upload.size == 12
        assert upload.read() == b"line1\r\nline2"
        assert upload.headers["content-type"] == "text/plain"


def test_multipart_fed_byte_by_byte_gives_the_same_form() -> None:
    payload = bytes(range(256)) * 4 + f"\r\n--{BOUNDARY}-not-quite\r\n".encode()
    body = multipart(
        part("a", b"first"),
        part("a", b"second"),
        part("blank", b""),
        part("upload", payload, filename="bin.dat", headers=["Content-Type: image/png"]),
    )
    whole = parse_form(MULTIPART, body, LIMITS)
    bytewise = feed_bytewise(MULTIPART, body)
    for form in (whole, bytewise):
        assert form.getlist("a") == ["first", "second"]
        assert form["blank"] == ""
        upload = form["upload"]
        assert isinstance(upload, UploadFile)
        assert upload.read() == payload
        assert upload.size == len(payload)
        assert upload.content_type == "image/png"
        form.close()


def test_multipart_with_no_parts_is_empty_form() -> None:
    assert parse_form(MULTIPART, multipart(), LIMITS) == FormData()


def test_multipart_quoted_boundary_and_leading_crlf() -> None:
    body = b"\r\n" + multipart(part("a", b"1"))
    assert parse_form(f'multipart/form-data; boundary="{BOUNDARY}"', body, LIMITS)["a"] == "1"


def test_multipart_file_without_content_type_is_octet_stream() -> None:
    form = parse_form(MULTIPART, multipart(part("f", b"x", filename="a.bin")), LIMITS)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.content_type == "application/octet-stream"
    form.close()


def test_multipart_empty_filename_is_an_empty_file_part() -> None:
    form = parse_form(MULTIPART, multipart(part("f", b"", filename="")), LIMITS)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.size, upload.read()) == ("", 0, b"")
    form.close()


def test_multipart_file_spooled_to_disk_above_spool_size() -> None:
    limits = Limits(spool_max_size=100)
    body = multipart(part("small", b"x" * 100, filename="s"), part("big", b"y" * 101, filename="b"))
    with feed_bytewise(MULTIPART, body, limits) as form:
        small, big = form["small"], form["big"]
        assert isinstance(small, UploadFile)
        assert isinstance(big, UploadFile)
        assert rolled(small) is False
        assert rolled(big) is True
        assert big.read() == b"y" * 101


def test_multipart_spool_size_zero_means_always_on_disk() -> None:
    body = multipart(part("f", b"abc", filename="a"))
    with parse_form(MULTIPART, body, Limits(spool_max_size=0)) as form:
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert rolled(upload) is True
        assert upload.read() == b"abc"


def test_multipart_field_charset_is_respected() -> None:
    body = multipart(
        part(
            "city",
            "Zürich".encode("latin-1"),
            headers=["Content-Type: text/plain; charset=ISO-8859-1"],
        )
    )
    assert parse_form(MULTIPART, body, LIMITS)["city"] == "Zürich"


def test_multipart_unknown_charset_is_400() -> None:
    body = multipart(part("a", b"x", headers=["Content-Type: text/plain; charset=klingon"]))
    expect_error(BadRequest, 400, "unknown charset 'klingon'", MULTIPART, body)


def test_multipart_field_not_utf8_is_400_naming_the_field() -> None:
    body = multipart(part("bio", b"caf\xe9"))
    error = expect_error(BadRequest, 400, "Form field 'bio' is not valid utf-8", MULTIPART, body)
    assert "offset 3" in error.detail


def test_multipart_field_name_not_utf8_is_400() -> None:
    body = multipart(raw_part(b'Content-Disposition: form-data; name="\xff"', b"x"))
    expect_error(BadRequest, 400, "The name of part 1 is not valid utf-8", MULTIPART, body)


def test_multipart_utf8_names_and_filenames() -> None:
    header = 'Content-Disposition: form-data; name="pièce"; filename="résumé.pdf"'.encode()
    with parse_form(MULTIPART, multipart(raw_part(header, b"%PDF")), LIMITS) as form:
        upload = form["pièce"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "résumé.pdf"


def test_multipart_rfc5987_filename_star() -> None:
    disposition = "form-data; name=\"f\"; filename*=UTF-8''na%C3%AFve%20file.txt"
    with parse_form(MULTIPART, multipart(part(disposition=disposition)), LIMITS) as form:
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "naïve file.txt"


def test_multipart_plain_filename_wins_over_filename_star() -> None:
    disposition = 'form-data; name="f"; filename="plain.txt"; filename*=UTF-8\'\'other.php'
    with parse_form(MULTIPART, multipart(part(disposition=disposition)), LIMITS) as form:
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "plain.txt"


# --- filenames ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/x.txt", "x.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("evil.php\x00.jpg", "evil.php.jpg"),
        ("tab\there\r\n.txt", "tabhere.txt"),
        ("..", ""),
        ("../", ""),
        (".htaccess", "htaccess"),
        ("...hidden", "hidden"),
        ("  . spaced.txt  ", "spaced.txt"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("\x00\x01", ""),
    ],
)
def test_upload_filename_is_made_safe(raw: str, safe: str) -> None:
    with tempfile.SpooledTemporaryFile() as file:
        upload = UploadFile(file, filename=raw)
        assert upload.filename == safe
        assert upload.raw_filename == raw


@pytest.mark.parametrize(
    ("header_filename", "safe", "raw"),
    [
        (b"../../etc/passwd", "passwd", "../../etc/passwd"),
        (b"..\\..\\boot.ini", "boot.ini", "..\\..\\boot.ini"),
        (b"a\x00b.txt", "ab.txt", "a\x00b.txt"),
    ],
)
def test_multipart_filename_traversal_is_stripped(
    header_filename: bytes, safe: str, raw: str
) -> None:
    header = b'Content-Disposition: form-data; name="f"; filename="' + header_filename + b'"'
    with feed_bytewise(MULTIPART, multipart(raw_part(header, b"data"))) as form:
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == safe
        assert upload.raw_filename == raw


# --- multipart: errors -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; charset=utf-8", "multipart/form-data; boundary="],
)
def test_multipart_without_boundary_is_400(content_type: str) -> None:
    with pytest.raises(BadRequest) as info:
        FormParser(content_type, LIMITS)
    assert info.value.status_code == 400
    assert info.value.detail == "multipart/form-data body has no boundary in its Content-Type"


@pytest.mark.parametrize("boundary", ["x" * 201, "ends-in-space ", "caf\u00e9"])
def test_multipart_invalid_boundary_is_400(boundary: str) -> None:
    with pytest.raises(BadRequest) as info:
        FormParser(f'multipart/form-data; boundary="{boundary}"', LIMITS)
    assert "multipart/form-data body has no boundary in its Content-Type" in info.value.detail
    assert "not 1 to 200 printable ASCII" in info.value.detail


@pytest.mark.parametrize(
    "body",
    [
        b"",
        part("a", b"1"),
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\nvalue".encode(),
        f"--{BOUNDARY}\r\nContent-Disposition: form-da".encode(),
        part("f", b"partial", filename="f.txt") + f"--{BOUNDARY}".encode(),
    ],
)
def test_multipart_unterminated_body_is_400(
    body: bytes, spooled_files: list[tempfile.SpooledTemporaryFile[bytes]]
) -> None:
    expect_error(
        BadRequest, 400, "multipart body ended before its closing boundary", MULTIPART, body
    )
    assert all(file.closed for file in spooled_files)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not multipart at all",
        b"--wrongboundary\r\n\r\n",
        f"--{BOUNDARY}\r\nBad Header Name: x\r\n\r\n".encode(),
        f"--{BOUNDARY}\r\nContent-Disposition form-data\r\n\r\n".encode(),
        f"--{BOUNDARY}garbage".encode(),
    ],
)
def test_multipart_garbage_is_400(body: bytes) -> None:
    expect_error(BadRequest, 400, "Malformed multipart body", MULTIPART, body)


def test_multipart_part_without_content_disposition_is_400() -> None:
    body = multipart(raw_part(b"Content-Type: text/plain", b"x"))
    expect_error(
        BadRequest, 400, "Part 1 of the multipart body has no Content-Disposition", MULTIPART, body
    )


def test_multipart_part_without_name_is_400() -> None:
    body = multipart(part("ok", b"1"), part(None, b"x", filename="f.txt"))
    expect_error(BadRequest, 400, "Part 2 of the multipart body has no name", MULTIPART, body)


def test_multipart_thousands_of_parts_is_413() -> None:
    body = multipart(*(part(f"f{i}", b"v") for i in range(5000)))
    error = expect_error(
        PayloadTooLarge, 413, "Too many parts in the multipart body (over 1000)", MULTIPART, body
    )
    assert "OAKLING_MAX_MULTIPART_PARTS" in error.detail


def test_multipart_too_many_fields_is_413() -> None:
    body = multipart(*(part(f"f{i}", b"v") for i in range(4)))
    error = expect_error(
        PayloadTooLarge, 413, "Too many form fields (over 3)", MULTIPART, body, max_form_fields=3
    )
    assert "OAKLING_MAX_FORM_FIELDS" in error.detail


def test_multipart_files_do_not_count_as_form_fields() -> None:
    body = multipart(*(part(f"f{i}", b"v", filename="x") for i in range(4)), part("a", b"1"))
    with parse_form(MULTIPART, body, Limits(max_form_fields=1)) as form:
        assert len(form) == 5


def test_multipart_huge_field_name_is_413() -> None:
    body = multipart(part("n" * 100_000, b"v"))
    for feed in (parse_form, feed_bytewise):
        with pytest.raises(PayloadTooLarge) as info:
            feed(MULTIPART, body, LIMITS)
        assert (
            "Headers of part 1 of the multipart body are too large (over 8192 bytes = 8 KiB)"
            in info.value.detail
        )
        assert "OAKLING_MAX_PART_HEADER_SIZE" in info.value.detail


def test_multipart_part_header_limit_counts_all_headers_of_a_part() -> None:
    headers = [f"X-Pad-{i}: {'p' * 50}" for i in range(3)]
    body = multipart(part("a", b"1", headers=headers))
    assert parse_form(MULTIPART, body, Limits(max_part_header_size=300))["a"] == "1"
    expect_error(
        PayloadTooLarge,
        413,
        "are too large (over 150 bytes)",
        MULTIPART,
        body,
        max_part_header_size=150,
    )


def test_multipart_too_many_part_headers_is_400() -> None:
    body = multipart(part("a", b"1", headers=[f"X-H{i}: v" for i in range(10)]))
    expect_error(
        BadRequest, 400, "Part 1 of the multipart body has too many headers", MULTIPART, body
    )


def test_multipart_field_over_max_field_size_is_413() -> None:
    body = multipart(part("comment", b"x" * 11))
    error = expect_error(
        PayloadTooLarge,
        413,
        "Form field 'comment' is too large (over 10 bytes)",
        MULTIPART,
        body,
        max_field_size=10,
    )
    assert "OAKLING_MAX_FIELD_SIZE" in error.detail


def test_multipart_file_may_exceed_max_field_size() -> None:
    body = multipart(part("f", b"x" * 1000, filename="big"))
    with parse_form(MULTIPART, body, Limits(max_field_size=10)) as form:
        upload = form["f"]
        assert isinstance(upload, UploadFile)
        assert upload.size == 1000


def test_multipart_body_over_max_upload_size_is_413_while_streaming(
    spooled_files: list[tempfile.SpooledTemporaryFile[bytes]],
) -> None:
    body = multipart(part("f", b"x" * 5000, filename="big"))
    parser = FormParser(MULTIPART, Limits(max_upload_size=4096))
    for start in range(0, 4000, 1000):
        parser.feed(body[start : start + 1000])
    with pytest.raises(PayloadTooLarge) as info:
        parser.feed(body[4000:5000])
    assert "Multipart body is too large (over 4096 bytes = 4 KiB)" in info.value.detail
    assert "OAKLING_MAX_UPLOAD_SIZE" in info.value.detail
    assert len(spooled_files) == 1
    assert spooled_files[0].closed


def test_multipart_error_after_files_closes_every_file(
    spooled_files: list[tempfile.SpooledTemporaryFile[bytes]],
) -> None:
    body = multipart(
        part("a", b"x" * 50, filename="a"),
        part("b", b"y" * 50, filename="b"),
        part("field", b"z" * 100),
    )
    expect_error(
        PayloadTooLarge,
        413,
        "Form field 'field'",
        MULTIPART,
        body,
        max_field_size=10,
        spool_max_size=10,
    )
    assert len(spooled_files) == 2
    assert all(file.closed for file in spooled_files)


def test_close_abandons_parse_and_closes_files(
    spooled_files: list[tempfile.SpooledTemporaryFile[bytes]],
) -> None:
    parser = FormParser(MULTIPART, LIMITS)
    parser.feed(part("f", b"data", filename="f.txt"))
    parser.close()
    assert spooled_files[0].closed
    with pytest.raises(RuntimeError):
        parser.finish()


def test_close_after_finish_leaves_files_to_the_form() -> None:
    parser = FormParser(MULTIPART, LIMITS)
    parser.feed(multipart(part("f", b"data", filename="f.txt")))
    form = parser.finish()
    parser.close()
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.read() == b"data"
    with pytest.raises(RuntimeError):
        parser.feed(b"more")
    form.close()
    assert upload.file.closed


# --- UploadFile --------------------------------------------------------------------


def make_upload(content: bytes, spool_max_size: int = 1024) -> UploadFile:
    body = multipart(part("f", content, filename="f.bin"))
    upload = parse_form(MULTIPART, body, Limits(spool_max_size=spool_max_size))["f"]
    assert isinstance(upload, UploadFile)
    return upload


def test_upload_read_and_seek() -> None:
    upload = make_upload(b"0123456789")
    assert upload.read(4) == b"0123"
    assert upload.read() == b"456789"
    upload.seek(2)
    assert upload.read(3) == b"234"
    upload.close()


@pytest.mark.parametrize("spool_max_size", [1024, 4])
def test_upload_save_copies_everything_and_keeps_position(
    tmp_path: Path, spool_max_size: int
) -> None:
    content = b"abc" * 50_000
    upload = make_upload(content, spool_max_size)
    upload.read(7)
    target = tmp_path / "saved.bin"
    upload.save(target)
    assert target.read_bytes() == content
    assert upload.read(3) == content[7:10]
    upload.close()


@pytest.mark.anyio
@pytest.mark.parametrize("spool_max_size", [1024, 4])
async def test_upload_aread_in_memory_and_on_disk(spool_max_size: int) -> None:
    upload = make_upload(b"hello world", spool_max_size)
    assert rolled(upload) is (spool_max_size == 4)
    assert await upload.aread(5) == b"hello"
    assert await upload.aread() == b" world"
    upload.close()


def test_upload_repr_shows_safe_name() -> None:
    upload = make_upload(b"x")
    assert (
        repr(upload)
        == "UploadFile(filename='f.bin', content_type='application/octet-stream', size=1)"
    )
    upload.close()
