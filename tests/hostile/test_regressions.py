"""In-process regression tests for the bugs the hostile catalogue and the fuzzers found."""

from __future__ import annotations

import io

import pytest

from oakling.exceptions import BadRequest, ClientDisconnected
from oakling.http.files import FileResponse
from oakling.http.request import Request


class _BadFraming(Exception):
    """What a WSGI server's input stream raises for a malformed chunked body."""


class _Stream:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def read(self, size: int = -1) -> bytes:
        raise self.exc


def _wsgi_request(stream: object, length: str | None) -> Request:
    headers = [(b"content-length", length.encode())] if length else []
    return Request({"type": "http", "headers": headers}, None, wsgi_input=stream)


@pytest.mark.parametrize("length", [None, "10"])
def test_wsgi_server_parse_error_in_body_is_400_not_500(length: str | None) -> None:
    # gunicorn raises InvalidChunkSize / ChunkMissingTerminator from wsgi.input.read()
    request = _wsgi_request(_Stream(_BadFraming("Invalid chunk size: b'zz'")), length)
    with pytest.raises(BadRequest, match=r"malformed.*_BadFraming"):
        request.read_body()


@pytest.mark.parametrize("length", [None, "10"])
def test_wsgi_body_cut_short_is_client_disconnected(length: str | None) -> None:
    # gunicorn's NoMoreData is an OSError
    request = _wsgi_request(_Stream(OSError("No more data")), length)
    with pytest.raises(ClientDisconnected):
        request.read_body()


def test_wsgi_body_is_read_whole_when_fine() -> None:
    request = _wsgi_request(io.BytesIO(b"0123456789"), "10")
    assert request.read_body() == b"0123456789"


def test_file_response_with_nul_in_path_is_404(tmp_path: object) -> None:
    response = FileResponse(f"{tmp_path}/a\x00b.txt")
    statuses: list[str] = []
    body = response.to_wsgi(
        {"REQUEST_METHOD": "GET"}, lambda status, headers, exc_info=None: statuses.append(status)
    )
    assert statuses == ["404 Not Found"]
    assert b"".join(body) == b"Not Found"


@pytest.mark.parametrize(("length", "status"), [("9" * 5000, 413), ("\u0661", 400), ("12abc", 400)])
def test_content_length_that_servers_usually_refuse(length: str, status: int) -> None:
    import asyncio

    from oakling.exceptions import HTTPError

    request = Request({"type": "http", "headers": [(b"content-length", length.encode())]}, None)
    with pytest.raises(HTTPError) as info:
        asyncio.run(request.body())
    assert info.value.status_code == status


def test_json_with_invalid_utf8_in_a_string_is_400() -> None:
    # found by fuzz/targets.py::json: msgspec raised UnicodeDecodeError past decode_json
    from oakling.http.request import decode_json

    with pytest.raises(BadRequest, match="not valid UTF-8"):
        decode_json(b'["\xff"]')
