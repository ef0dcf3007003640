from __future__ import annotations

import asyncio
import os
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

import pytest

from oakling import App
from oakling.http.files import (
    Conditions,
    FilePlan,
    FileResponse,
    content_disposition,
    parse_range,
    plan_file_response,
)
from oakling.testing import TestClient

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from oakling._types import Message, Scope
    from oakling.http.response import Response

CONTENT = b"0123456789"
MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> App:
    return App(debug=True)


@pytest.fixture
def client(interface: str, app: App) -> Iterator[TestClient]:
    # NOTE: `interface` (tests/conftest.py) is parametrized ["asgi", "wsgi"].
    with TestClient(app, wsgi=(interface == "wsgi")) as client:
        yield client


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "digits.txt"
    file.write_bytes(CONTENT)
    os.utime(file, (MTIME, MTIME))
    return file


@pytest.fixture
def etag(path: Path) -> str:
    stat = path.stat()
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


@pytest.fixture
def serve(app: App, path: Path) -> Path:
    """Serve ``path`` at ``/file`` (GET, HEAD and POST)."""

    @app.get("/file")
    def get_file() -> Response:
        return FileResponse(path)

    @app.post("/file")
    def post_file() -> Response:
        return FileResponse(path)

    return path


# -- 200, HEAD -------------------------------------------------------------------------------


def test_whole_file_with_validators(serve: Path, client: TestClient, etag: str) -> None:
    response = client.get("/file")
    assert response.status_code == 200
    assert response.content == CONTENT
    assert response.headers["content-length"] == "10"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert response.headers["etag"] == etag
    assert "content-disposition" not in response.headers


def test_head_has_the_headers_and_no_body(serve: Path, client: TestClient, etag: str) -> None:
    response = client.head("/file")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "10"
    assert response.headers["etag"] == etag


def test_large_file_is_read_in_chunks(app: App, client: TestClient, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    big = tmp_path / "big.bin"
    big.write_bytes(data)

    @app.get("/big")
    def get_big() -> Response:
        return FileResponse(big, chunk_size=7_000)

    response = client.get("/big")
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    ranged = client.get("/big", headers={"Range": "bytes=12345-250000"})
    assert ranged.status_code == 206
    assert ranged.content == data[12345:250001]


def test_empty_file(app: App, client: TestClient, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    @app.get("/empty")
    def get_empty() -> Response:
        return FileResponse(empty)

    response = client.get("/empty")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "0"
    assert client.get("/empty", headers={"Range": "bytes=0-"}).status_code == 416


# -- 304 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', '"a","b",W/{etag}', "*"],
)
def test_if_none_match_gives_304(
    serve: Path, client: TestClient, etag: str, if_none_match: str
) -> None:
    response = client.get("/file", headers={"If-None-Match": if_none_match.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert "content-type" not in response.headers
    assert "content-length" not in response.headers


def test_if_none_match_not_matching_gives_200(serve: Path, client: TestClient) -> None:
    response = client.get("/file", headers={"If-None-Match": '"stale", W/"older"'})
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.parametrize(
    "since", [LAST_MODIFIED, "Wed, 15 Nov 2023 00:00:00 GMT", "Tuesday, 14-Nov-23 22:13:20 GMT"]
)
def test_if_modified_since_not_older_gives_304(serve: Path, client: TestClient, since: str) -> None:
    response = client.get("/file", headers={"If-Modified-Since": since})
    assert response.status_code == 304
    assert response.content == b""


@pytest.mark.parametrize("since", ["Tue, 14 Nov 2023 22:13:19 GMT", "yesterday", ""])
def test_if_modified_since_older_or_invalid_gives_200(
    serve: Path, client: TestClient, since: str
) -> None:
    response = client.get("/file", headers={"If-Modified-Since": since})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_if_none_match_wins_over_if_modified_since(serve: Path, client: TestClient) -> None:
    response = client.get(
        "/file", headers={"If-None-Match": '"stale"', "If-Modified-Since": LAST_MODIFIED}
    )
    assert response.status_code == 200


def test_conditions_ignored_for_post(serve: Path, client: TestClient, etag: str) -> None:
    response = client.post("/file", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert response.status_code == 200
    assert response.content == CONTENT


def test_conditions_ignored_for_other_statuses(
    app: App, client: TestClient, path: Path, etag: str
) -> None:
    @app.get("/created")
    def created() -> Response:
        return FileResponse(path, status_code=201)

    response = client.get("/created", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert response.status_code == 201
    assert response.content == CONTENT


def test_etag_given_in_headers_is_used(app: App, client: TestClient, path: Path) -> None:
    @app.get("/tagged")
    def tagged() -> Response:
        return FileResponse(
            path, headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )

    response = client.get("/tagged")
    assert response.headers.get_list("etag") == ['"v1"']
    assert response.headers.get_list("last-modified") == ["Mon, 01 Jan 2024 00:00:00 GMT"]
    assert client.get("/tagged", headers={"If-None-Match": '"v1"'}).status_code == 304
    since = {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    assert client.get("/tagged", headers=since).status_code == 304


# -- 206, 416 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-4", b"01234", "bytes 0-4/10"),
        ("bytes=5-", b"56789", "bytes 5-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=8-100", b"89", "bytes 8-9/10"),
        ("bytes=-100", CONTENT, "bytes 0-9/10"),
        ("bytes=3-3", b"3", "bytes 3-3/10"),
        ("BYTES = 2 - 3", b"23", "bytes 2-3/10"),
        ("bytes=1-2,", b"12", "bytes 1-2/10"),
    ],
)
def test_single_range_gives_206(
    serve: Path, client: TestClient, header: str, body: bytes, content_range: str
) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == body
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))


def test_head_with_range_gives_206_headers(serve: Path, client: TestClient) -> None:
    response = client.head("/file", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206
    assert response.content == b""
    assert response.headers["content-range"] == "bytes 2-5/10"
    assert response.headers["content-length"] == "4"


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=99-"])
def test_unsatisfiable_range_gives_416(serve: Path, client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10"
    assert response.headers["content-length"] == "0"
    assert response.content == b""


@pytest.mark.parametrize("header", ["bytes=0-1,3-4", "bytes=0-1, -2", "bytes=-1,0-0"])
def test_multiple_ranges_give_the_whole_file(serve: Path, client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == CONTENT
    assert "content-range" not in response.headers


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",
        "items=0-1",
        "bytes=",
        "bytes=-",
        "0-1",
        "bytes=1-2-3",
        "bytes=0x1-",
    ],
)
def test_malformed_range_is_ignored(serve: Path, client: TestClient, header: str) -> None:
    response = client.get("/file", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == CONTENT


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        ("{etag}", 206),
        ("W/{etag}", 200),
        ('"stale"', 200),
        (LAST_MODIFIED, 206),
        ("Tue, 14 Nov 2023 22:13:19 GMT", 200),
        ("not a date", 200),
    ],
)
def test_if_range(serve: Path, client: TestClient, etag: str, if_range: str, status: int) -> None:
    response = client.get(
        "/file", headers={"Range": "bytes=0-1", "If-Range": if_range.format(etag=etag)}
    )
    assert response.status_code == status
    assert response.content == (b"01" if status == 206 else CONTENT)


# -- Content-Disposition and Content-Type ----------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", 'attachment; filename="report.pdf"'),
        (
            "résumé €.pdf",
            'attachment; filename="resume _.pdf"; '
            "filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf",
        ),
        ("文件.txt", "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%96%87%E4%BB%B6.txt"),
        ('a"b\\c.txt', "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%5Cc.txt"),
        ("a\r\nb.txt", "attachment; filename=\"a__b.txt\"; filename*=UTF-8''a%0D%0Ab.txt"),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    assert content_disposition("attachment", filename) == expected


def test_download_with_unicode_filename(app: App, client: TestClient, path: Path) -> None:
    @app.get("/download")
    def download() -> Response:
        return FileResponse(path, filename="naïve café.txt")

    @app.get("/inline")
    def inline() -> Response:
        return FileResponse(path, filename="plan.pdf", content_disposition_type="inline")

    response = client.get("/download")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"naive cafe.txt\"; filename*=UTF-8''na%C3%AFve%20caf%C3%A9.txt"
    )
    inline_response = client.get("/inline")
    assert inline_response.headers["content-disposition"] == 'inline; filename="plan.pdf"'
    # NOTE: the type comes from the download name, not the path on disk.
    assert inline_response.headers["content-type"] == "application/pdf"


def test_content_disposition_type_is_checked(path: Path) -> None:
    with pytest.raises(ValueError, match="'attachment' or 'inline'"):
        FileResponse(path, content_disposition_type="form-data")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size must be positive"):
        FileResponse(path, chunk_size=0)


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("page.html", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("image.png", "image/png"),
        ("data.json", "application/json"),
        ("archive.tar.gz", "application/gzip"),
        ("blob.unknownext", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_media_type_is_guessed(
    app: App, client: TestClient, tmp_path: Path, name: str, media_type: str
) -> None:
    file = tmp_path / name
    file.write_bytes(b"x")

    @app.get("/typed")
    def typed() -> Response:
        return FileResponse(file)

    assert client.get("/typed").headers["content-type"] == media_type


def test_media_type_given_wins(app: App, client: TestClient, path: Path) -> None:
    @app.get("/typed")
    def typed() -> Response:
        return FileResponse(path, media_type="application/x-digits")

    assert client.get("/typed").headers["content-type"] == "application/x-digits"


# -- missing files ---------------------------------------------------------------------------


def test_file_vanished_before_sending_gives_404(app: App, client: TestClient, path: Path) -> None:
    @app.get("/gone")
    def gone() -> Response:
        response = FileResponse(path, filename="digits.txt", headers={"X-Kept": "yes"})
        path.unlink()
        return response

    response = client.get("/gone")
    assert response.status_code == 404
    assert response.text == "Not Found"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-kept"] == "yes"
    assert "content-disposition" not in response.headers
    assert "etag" not in response.headers


def test_missing_file_and_directory_give_404(app: App, client: TestClient, tmp_path: Path) -> None:
    @app.get("/missing")
    def missing() -> Response:
        return FileResponse(tmp_path / "nope.txt")

    @app.get("/directory")
    def directory() -> Response:
        return FileResponse(tmp_path)

    @app.get("/under-a-file")
    def under_a_file() -> Response:
        (tmp_path / "plain").write_bytes(b"")
        return FileResponse(tmp_path / "plain" / "child")

    for url in ("/missing", "/directory", "/under-a-file"):
        response = client.get(url)
        assert response.status_code == 404, url
    assert client.head("/missing").content == b""


def test_unreadable_file_gives_403(
    app: App, client: TestClient, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NOTE: open() is replaced rather than chmod 0, which root (in CI containers) ignores.
    def denied(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("oakling.http.files.open", denied, raising=False)

    @app.get("/secret")
    def secret() -> Response:
        return FileResponse(path)

    response = client.get("/secret")
    assert response.status_code == 403
    assert response.text == "Forbidden"


# -- the pure decision -----------------------------------------------------------------------


def test_plan_file_response() -> None:
    def plan(method: str = "GET", **headers: str) -> FilePlan:
        return plan_file_response(
            method, Conditions(**headers), size=10, etag='"e"', last_modified=MTIME
        )

    assert plan() == FilePlan(200, 0, 10)
    assert plan(if_none_match='W/"e"') == FilePlan(304)
    assert plan("HEAD", range="bytes=1-2") == FilePlan(206, 1, 3)
    assert plan("DELETE", range="bytes=1-2") == FilePlan(200, 0, 10)
    assert plan(range="bytes=1-2", if_range='"e"').length == 2
    assert plan(range="bytes=20-") == FilePlan(416)


def test_parse_range() -> None:
    assert parse_range("bytes=0-0", 1) == (0, 1)
    assert parse_range("bytes=-5", 3) == (0, 3)
    assert parse_range("bytes=0-", 0) == (-1, -1)
    assert parse_range("bytes=-1", 0) == (-1, -1)
    assert parse_range("bytes 0-1", 10) is None
    assert parse_range("bytes=0-1,2-3", 10) is None
    assert parse_range("bytes=\u0663-", 10) is None  # an Arabic-Indic digit is not a digit here


def test_conditions_from_scope_and_environ() -> None:
    scope: Scope = {
        "headers": [
            (b"if-none-match", b'"a"'),
            (b"if-none-match", b'"b"'),
            (b"range", b"bytes=0-1"),
            (b"accept", b"*/*"),
        ]
    }
    assert Conditions.from_scope(scope) == Conditions('"a", "b"', None, "bytes=0-1", None)
    environ = {"HTTP_IF_MODIFIED_SINCE": LAST_MODIFIED, "HTTP_IF_RANGE": '"a"'}
    assert Conditions.from_environ(environ) == Conditions(None, LAST_MODIFIED, None, '"a"')


# -- raw ASGI and WSGI ---------------------------------------------------------------------


def asgi_scope(method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": headers or [],
        "extensions": {"http.response.pathsend": {}},
    }


async def run_asgi(response: FileResponse, scope: Scope) -> list[Message]:
    messages: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    await asyncio.wait_for(response(scope, receive, send), timeout=5)
    return messages


@pytest.mark.anyio
async def test_pathsend_is_used_for_whole_files(path: Path) -> None:
    messages = await run_asgi(FileResponse(path), asgi_scope())
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.pathsend"]
    assert messages[1]["path"] == str(path.resolve())
    assert (b"content-length", b"10") in messages[0]["headers"]


@pytest.mark.anyio
async def test_pathsend_is_not_used_for_ranges(path: Path) -> None:
    messages = await run_asgi(FileResponse(path), asgi_scope(headers=[(b"range", b"bytes=1-")]))
    assert messages[0]["status"] == 206
    assert [m["type"] for m in messages[1:]] == ["http.response.body"]
    assert messages[1] == {"type": "http.response.body", "body": b"123456789", "more_body": False}


@pytest.mark.anyio
async def test_stat_result_given_saves_the_stat_call(path: Path) -> None:
    stat = path.stat()
    response = FileResponse(path, stat_result=stat, chunk_size=4)
    scope = asgi_scope()
    scope["extensions"] = {}
    messages = await run_asgi(response, scope)
    assert [m.get("body") for m in messages[1:]] == [b"0123", b"4567", b"89"]
    assert [m.get("more_body") for m in messages[1:]] == [True, True, False]


@pytest.mark.anyio
async def test_client_gone_mid_download_is_not_an_error(path: Path) -> None:
    sent: list[Message] = []
    opened: list[Any] = []
    real_open = open

    def tracking_open(*args: Any, **kwargs: Any) -> Any:
        file = real_open(*args, **kwargs)
        opened.append(file)
        return file

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and len(sent) == 2:
            raise ConnectionResetError("client went away")
        sent.append(message)

    scope = asgi_scope()
    scope["extensions"] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr("oakling.http.files.open", tracking_open, raising=False)
        await FileResponse(path, chunk_size=2)(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert opened[0].closed


class FileWrapper:
    def __init__(self, file: Any, block_size: int) -> None:
        self.file = file
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:
        return iter(lambda: self.file.read(self.block_size), b"")

    def close(self) -> None:
        self.file.close()


def call_wsgi(response: FileResponse, **environ: Any) -> tuple[list[Any], Any]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> Any:
        started.extend([status, headers])

    environ.setdefault("REQUEST_METHOD", "GET")
    return started, response.to_wsgi(environ, start_response)


def test_wsgi_file_wrapper_is_used_for_whole_files(path: Path) -> None:
    started, body = call_wsgi(
        FileResponse(path, chunk_size=3), **{"wsgi.file_wrapper": FileWrapper}
    )
    assert started[0] == "200 OK"
    assert isinstance(body, FileWrapper)
    assert body.block_size == 3
    assert b"".join(body) == CONTENT
    body.close()
    assert body.file.closed


def test_wsgi_range_is_not_sent_with_the_file_wrapper(path: Path) -> None:
    started, body = call_wsgi(
        FileResponse(path), HTTP_RANGE="bytes=2-3", **{"wsgi.file_wrapper": FileWrapper}
    )
    assert started[0] == "206 Partial Content"
    assert not isinstance(body, FileWrapper)
    assert b"".join(body) == b"23"
    body.close()


def test_wsgi_body_closed_without_iterating_closes_the_file(path: Path) -> None:
    _, body = call_wsgi(FileResponse(path))
    file = body.file
    assert not file.closed
    body.close()
    assert file.closed


def test_wsgi_head_opens_no_file(path: Path) -> None:
    started, body = call_wsgi(FileResponse(path), REQUEST_METHOD="HEAD")
    assert started[0] == "200 OK"
    assert ("Content-Length".lower(), "10") in [(k.lower(), v) for k, v in started[1]]
    assert body == []


def test_last_modified_matches_the_files_mtime(path: Path) -> None:
    started, body = call_wsgi(FileResponse(path))
    body.close()
    assert ("last-modified", formatdate(MTIME, usegmt=True)) in started[1]
