"""Responses: a status, headers and a body, sent over ASGI or WSGI.

Every response class is itself an ASGI app (``await response(scope, receive, send)``)
and can answer a WSGI call (``response.to_wsgi(environ, start_response)``), so the
same object serves both interfaces.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import msgspec

from oakling.http.cookies import SameSite, format_set_cookie
from oakling.http.datastructures import MutableHeaders

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from oakling._types import RawHeaders, Receive, Scope, Send, StartResponse, WSGIEnviron

__all__ = (
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "json_encode",
    "status_line",
)


def _enc_hook(obj: Any) -> Any:
    # NOTE: str subclasses (URL), pydantic models (when installed), objects with __json__.
    if isinstance(obj, str):
        return str(obj)
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    to_json = getattr(obj, "__json__", None)
    if to_json is not None:
        return to_json()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


json_encode = msgspec.json.Encoder(enc_hook=_enc_hook).encode
"""Encode a value to JSON bytes (msgspec; Structs, dataclasses, pydantic models)."""

_STATUS_LINES: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def status_line(status_code: int) -> str:
    """Return the WSGI status line for ``status_code``, e.g. ``"404 Not Found"``."""
    return _STATUS_LINES.get(status_code) or f"{status_code} Unknown"


_CONTENT_TYPE = b"content-type"
_CONTENT_LENGTH = b"content-length"
# NOTE: no body for these statuses (RFC 9110 §6.4.1); no Content-Length either for 1xx/204.
_NO_BODY = frozenset({204, 304}) | frozenset(range(100, 200))


class Response:
    """A response with a complete body.

    Args:
        content: The body: ``bytes``, or ``str`` encoded with ``charset``.
        status_code: The HTTP status.
        headers: Extra headers.
        media_type: The Content-Type without charset; ``text/*`` gets ``; charset=utf-8``.
    """

    # NOTE: slots make creating a response (the hot path) much cheaper; subclasses
    # without __slots__ get a __dict__ as usual.
    __slots__ = ("body", "raw_headers", "status_code")

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"
    sets_content_length: ClassVar[bool] = True
    """Whether the body's length is known up front (not for streams and files)."""

    def __init__(
        self,
        content: bytes | bytearray | memoryview | str | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        media_type = media_type or self.media_type
        if (
            content.__class__ is str
            and headers is None
            and media_type is not None
            and self.__class__.render is _RENDER
        ):
            # NOTE: the common case, built in one go (no render/_init_headers calls).
            body = self.body = content.encode(self.charset)
            content_type = _CONTENT_TYPES.get(media_type)
            if content_type is None or self.charset != "utf-8":
                content_type = _content_type(media_type, self.charset)
            self.raw_headers: RawHeaders = [
                (_CONTENT_TYPE, content_type),
                (_CONTENT_LENGTH, str(len(body)).encode()),
            ]
            if status_code in _NO_BODY:
                del self.raw_headers[1]
                self.body = b""
            return
        self.body = self.render(content)
        self.raw_headers = []
        self._init_headers(headers, media_type)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into body bytes; subclasses override this."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}"
        )

    def _init_headers(self, headers: Mapping[str, str] | None, media_type: str | None) -> None:
        raw = self.raw_headers
        if headers:
            mutable = MutableHeaders(raw=raw)
            for key, value in headers.items():
                mutable.append(key, value)
        if media_type is not None and (not headers or not _has(raw, _CONTENT_TYPE)):
            raw.append((_CONTENT_TYPE, _content_type(media_type, self.charset)))
        if self.status_code in _NO_BODY:
            self.body = b""
        elif self.sets_content_length and (not headers or not _has(raw, _CONTENT_LENGTH)):
            raw.append((_CONTENT_LENGTH, str(len(self.body)).encode()))

    @property
    def headers(self) -> MutableHeaders:
        """The response headers, changeable in place."""
        return MutableHeaders(raw=self.raw_headers)

    @property
    def media_type_header(self) -> str | None:
        """The Content-Type header as sent, if any."""
        return self.headers.get("content-type")

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header; HttpOnly and SameSite=Lax by default."""
        header = format_set_cookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.raw_headers.append((b"set-cookie", header.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        *,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Tell the client to forget cookie ``key`` (same path and domain as set)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send this response over ASGI."""
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = b"" if scope.get("method") == "HEAD" else self.body
        await send({"type": "http.response.body", "body": body})

    def to_wsgi(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """Send this response over WSGI: call ``start_response``, return the body."""
        start_response(status_line(self.status_code), wsgi_headers(self.raw_headers))
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [self.body]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


_CONTENT_TYPES: dict[str, bytes] = {}
"""Content-Type header values by media type, for the default charset (utf-8)."""


def _content_type(media_type: str, charset: str) -> bytes:
    if media_type.startswith("text/") and "charset=" not in media_type:
        value = f"{media_type}; charset={charset}".encode("latin-1")
    else:
        value = media_type.encode("latin-1")
    if charset == "utf-8" and len(_CONTENT_TYPES) < 256:
        _CONTENT_TYPES[media_type] = value
    return value


def _has(raw: RawHeaders, name: bytes) -> bool:
    return any(k == name for k, _ in raw)


_RENDER = Response.render


def wsgi_headers(raw: RawHeaders) -> list[tuple[str, str]]:
    """Convert raw header pairs to WSGI's ``(str, str)`` pairs."""
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


class HTMLResponse(Response):
    """A ``text/html`` response."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """A ``text/plain`` response."""

    media_type = "text/plain"


class JSONResponse(Response):
    """A JSON response; ``content`` is any value msgspec can encode."""

    media_type = "application/json"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type)

    def render(self, content: Any) -> bytes:
        """Encode ``content`` as JSON."""
        return json_encode(content)


class RedirectResponse(Response):
    """Redirect to ``url`` (302 Found by default; 303 after a POST, 307/308 keep the method)."""

    def __init__(
        self,
        url: str,
        status_code: int = 302,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers)
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers.append((b"location", location.encode("latin-1")))
