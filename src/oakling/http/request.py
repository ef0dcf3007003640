"""The incoming request, the same object under ASGI and WSGI."""

from __future__ import annotations

from itertools import accumulate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from oakling.exceptions import BadRequest, ClientDisconnected, PayloadTooLarge
from oakling.http.cookies import parse_cookie_header
from oakling.http.datastructures import Headers, QueryParams, State
from oakling.http.limits import Limits
from oakling.http.url import URL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from oakling._types import Receive, Scope
    from oakling.http.multipart import FormData
    from oakling.http.session import Session

__all__ = ("Request", "decode_json")

_DEFAULT_LIMITS = Limits()
_CHUNK = 64 * 1024


class Request:
    """An HTTP request: method, URL, headers, cookies and a body read on demand.

    Under ASGI the body is read with ``await request.body()`` (or ``json()``,
    ``form()``, ``stream()``). A sync handler uses the blocking twins
    ``read_body()``, ``read_json()`` and ``read_form()``.
    """

    # NOTE: no __slots__: class-level defaults keep __init__ to three assignments,
    # which matters on the hot path; the lazy attributes are set on first use.
    _body: bytes | None = None
    _headers: Headers | None = None
    _query: QueryParams | None = None
    _cookies: dict[str, str] | None = None
    _form: FormData | None = None
    _state: State | None = None
    _stream_consumed: bool = False
    _pending: bytes = b""
    _wsgi_input: Any = None
    _session: Session | None = None
    _user: Any = None

    def __init__(
        self,
        scope: Scope,
        receive: Receive | None = None,
        *,
        limits: Limits = _DEFAULT_LIMITS,
        wsgi_input: Any = None,
    ) -> None:
        self.scope = scope
        self.limits = limits
        self._receive = receive
        if wsgi_input is not None:
            self._wsgi_input = wsgi_input

    # -- what was asked -------------------------------------------------------------------

    @property
    def app(self) -> Any:
        """The application serving this request."""
        return self.scope.get("app")

    @property
    def method(self) -> str:
        """The HTTP method, upper case."""
        method: str = self.scope["method"]
        return method

    @property
    def path(self) -> str:
        """The decoded path, without the query string."""
        path: str = self.scope["path"]
        return path

    @property
    def path_params(self) -> dict[str, Any]:
        """Parameters matched from the path, already converted."""
        params: dict[str, Any] = self.scope.get("path_params", {})
        return params

    @property
    def query(self) -> QueryParams:
        """The query string as a multi-dict."""
        if self._query is None:
            try:
                self._query = QueryParams(self.scope.get("query_string", b""))
            except UnicodeDecodeError:
                raise BadRequest(
                    "The query string is not valid UTF-8 after percent-decoding"
                ) from None
        return self._query

    query_params = query

    @property
    def headers(self) -> Headers:
        """The request headers, case-insensitive."""
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies sent; malformed ones are ignored."""
        if self._cookies is None:
            # NOTE: HTTP/2 may split cookies over several headers.
            header = "; ".join(self.headers.getlist("cookie"))
            self._cookies = parse_cookie_header(header) if header else {}
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        """The client's ``(host, port)``, after trusted-proxy headers are applied."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def scheme(self) -> str:
        """``http`` or ``https`` (``ws``/``wss`` for websockets)."""
        scheme: str = self.scope.get("scheme", "http")
        return scheme

    @property
    def is_secure(self) -> bool:
        """Whether the request came over TLS."""
        return self.scheme in ("https", "wss")

    @property
    def host(self) -> str:
        """The host the client asked for, with port when not the default one."""
        host = self.scope.get("oakling.host")
        if host is not None:
            return str(host)
        for key, value in self.scope["headers"]:
            if key == b"host" and value:
                return str(value.decode("latin-1"))
        server = self.scope.get("server")
        if server:
            default = 443 if self.is_secure else 80
            name = str(server[0])
            if ":" in name:  # an IPv6 address
                name = f"[{name}]"
            return name if server[1] in (default, None) else f"{name}:{server[1]}"
        return "localhost"

    @property
    def base_url(self) -> URL:
        """``scheme://host/root_path/``, the URL the app is served at."""
        root = self.scope.get("root_path", "")
        return URL(f"{self.scheme}://{self.host}{root}/")

    @property
    def url(self) -> URL:
        """The full URL of the request."""
        raw = self.scope.get("raw_path")
        if raw is None and "headers" in self.scope:
            path = quote(self.scope["path"], safe="/%")
        else:
            path = self.scope["raw_path"].decode("latin-1")
        query = self.scope.get("query_string", b"")
        url = f"{self.scheme}://{self.host}{path}"
        if query:
            url += "?" + query.decode("latin-1")
        return URL(url)

    @property
    def session(self) -> Session:
        """The session (``oakling.web.sessions``), loaded on first use.

        Reading it adds ``Vary: Cookie`` to the response; changing it saves it after
        the handler (a ``Set-Cookie`` only then).
        """
        session = self._session
        if session is None:
            session = self._session = self.app.sessions.load(self)
        return session

    @property
    def user(self) -> Any:
        """The logged-in user (``oakling.auth``), or an anonymous one; loaded on first use.

        Raises:
            ConfigurationError: The app does not include the auth component.
        """
        user = self._user
        if user is None:
            auth = self.app.extensions.get("auth") if self.app is not None else None
            if auth is None:
                from oakling.exceptions import ConfigurationError

                raise ConfigurationError(
                    "request.user needs the auth component: app.include(Auth()) "
                    "(from oakling.auth import Auth)"
                )
            user = self._user = auth.user_for(self)
        return user

    @user.setter
    def user(self, user: Any) -> None:
        self._user = user

    @property
    def state(self) -> State:
        """A per-request attribute bag for hooks and dependencies."""
        if self._state is None:
            self._state = State()
        return self._state

    @property
    def request_id(self) -> str | None:
        """The request id (from ``X-Request-ID`` when sane, else generated)."""
        rid = self.scope.get("oakling.request_id")
        return rid.decode("latin-1") if isinstance(rid, bytes) else rid

    @property
    def content_type(self) -> str:
        """The Content-Type media type, lower case, without parameters."""
        value = self.header("content-type") or ""
        return value.partition(";")[0].strip().lower()

    def url_for(self, name: str, /, **params: Any) -> URL:
        """Build the absolute URL of route ``name``; extra params go in the query string."""
        path: str = self.app.url_for(name, **params)
        root = self.scope.get("root_path", "")
        return URL(f"{self.scheme}://{self.host}{root}{path}")

    # -- the body, async --------------------------------------------------------------

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or ``None``.

        Cheaper than ``request.headers.get`` for one header: under WSGI it reads the
        environ directly instead of converting every header.
        """
        environ = getattr(self.scope, "environ", None) if self._wsgi_input is not None else None
        if environ is None:
            return self.headers.get(name)
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        value: str | None = environ.get(key) or None
        return value

    def _declared_length(self, limit: int) -> int | None:
        value = self.header("content-length")
        if value is None:
            return None
        # NOTE: isdigit() alone accepts Arabic-Indic and other digits, and int() refuses
        # over 4300 digits: servers usually catch both, but not every server does.
        if not (value.isdigit() and value.isascii()):
            raise BadRequest(f"Invalid Content-Length header: {value[:40]!r}")
        if len(value) > 18 and len(value.lstrip("0")) > 18:
            raise PayloadTooLarge(_too_large(limit))
        length = int(value)
        if length > limit:
            raise PayloadTooLarge(_too_large(limit))
        return length

    async def stream(self, limit: int | None = None) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, at most ``limit`` bytes in all.

        Raises:
            PayloadTooLarge: The body is over ``limit`` (default: the body size limit).
            ClientDisconnected: The client went away mid-body.
        """
        limit = self.limits.max_body_size if limit is None else limit
        if self._body is not None:
            if len(self._body) > limit:
                raise PayloadTooLarge(_too_large(limit))
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("The request body was already consumed by stream()")
        if self._receive is None:
            if self._wsgi_input is not None:
                for piece in self.iter_body(limit):
                    yield piece
            else:
                self._declared_length(limit)
            return
        self._declared_length(limit)
        self._stream_consumed = True
        async for chunk in self._receive_chunks(limit):
            yield chunk

    async def _receive_chunks(self, limit: int) -> AsyncIterator[bytes]:
        assert self._receive is not None
        received = 0
        if self._pending:
            received = len(self._pending)
            yield self._pending
            self._pending = b""
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnected("Client disconnected while sending the body")
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(_too_large(limit))
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def preload(self) -> None:
        """Read the body now, so that sync code can use ``read_body()`` or ``read_form()``."""
        if self._body is None:
            chunks = [chunk async for chunk in self.stream(self._form_limit())]
            self._body = b"".join(chunks)

    async def body(self) -> bytes:
        """Read the whole body (at most the body size limit)."""
        if self._body is None and self._receive is not None and not self._stream_consumed:
            # NOTE: fast path for the usual one-message body; stream() handles the rest.
            limit = self.limits.max_body_size
            self._declared_length(limit)
            message = await self._receive()
            if message["type"] == "http.request":
                chunk: bytes = message.get("body", b"")
                if len(chunk) > limit:
                    raise PayloadTooLarge(_too_large(limit))
                if not message.get("more_body", False):
                    self._body = chunk
                    return chunk
                self._pending = chunk
            elif message["type"] == "http.disconnect":
                raise ClientDisconnected("Client disconnected while sending the body")
        if self._body is None:
            chunks = [chunk async for chunk in self.stream()]
            self._body = b"".join(chunks)
        return self._body

    async def json(self, type: Any = Any) -> Any:
        """Decode the body as JSON; with ``type``, validate it too (msgspec).

        Raises:
            BadRequest: The body is not valid JSON; the message says where.
        """
        return decode_json(await self.body(), type, self.limits.max_json_depth)

    async def form(self) -> FormData:
        """Parse an urlencoded or multipart body (files spooled to disk when large)."""
        if self._form is None:
            from oakling.http.multipart import FormParser

            parser = FormParser(self.headers.get("content-type", ""), self.limits)
            try:
                async for chunk in self.stream(self._form_limit()):
                    parser.feed(chunk)
                self._form = parser.finish()
            except BaseException:
                parser.close()  # no spooled file left open
                raise
        return self._form

    def _form_limit(self) -> int:
        if self.content_type == "multipart/form-data":
            return self.limits.max_upload_size
        return self.limits.max_body_size

    # -- the body, blocking (sync handlers) ------------------------------------------

    def iter_body(self, limit: int | None = None) -> Iterator[bytes]:
        """Yield the body in chunks, blocking; the sync twin of ``stream()``."""
        limit = self.limits.max_body_size if limit is None else limit
        if self._body is not None:
            if len(self._body) > limit:
                raise PayloadTooLarge(_too_large(limit))
            yield self._body
            return
        if self._wsgi_input is None:
            raise RuntimeError(
                "The body of this request has not been read yet: under ASGI, read it with "
                "'await request.body()' in an async handler, or declare a body parameter"
            )
        if self._stream_consumed:
            raise RuntimeError("The request body was already consumed by iter_body()")
        self._stream_consumed = True
        length = self._declared_length(limit)
        yield from _read_wsgi_input(self._wsgi_input, length, limit)

    def read_body(self) -> bytes:
        """Read the whole body, blocking; the sync twin of ``body()``."""
        if self._body is None:
            stream = self._wsgi_input
            if stream is not None and not self._stream_consumed:
                # NOTE: fast path: a declared length within the limit is one read().
                length = self._declared_length(self.limits.max_body_size)
                if length is not None:
                    self._stream_consumed = True
                    data = _read_input(stream.read, length) if length else b""
                    if len(data) < length:
                        raise ClientDisconnected("Client disconnected while sending the body")
                    self._body = data
                    return data
            self._body = b"".join(self.iter_body())
        return self._body

    def read_json(self, type: Any = Any) -> Any:
        """Decode the body as JSON, blocking; the sync twin of ``json()``."""
        return decode_json(self.read_body(), type, self.limits.max_json_depth)

    def read_form(self) -> FormData:
        """Parse a form body, blocking; the sync twin of ``form()``."""
        if self._form is None:
            from oakling.http.multipart import FormParser

            parser = FormParser(self.headers.get("content-type", ""), self.limits)
            try:
                for chunk in self.iter_body(self._form_limit()):
                    parser.feed(chunk)
                self._form = parser.finish()
            except BaseException:
                parser.close()
                raise
        return self._form

    def release(self) -> None:
        """Release what the request holds (spooled upload files)."""
        if self._form is not None:
            self._form.close()

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('path')}>"


def _too_large(limit: int) -> str:
    return (
        f"Request body is larger than the limit of {limit} bytes; "
        "send less, or raise the limit in the settings (OAKLING_MAX_BODY_SIZE, or "
        "OAKLING_MAX_UPLOAD_SIZE for multipart uploads)"
    )


def _read_input(read: Callable[[int], bytes], size: int) -> bytes:
    """Read from a WSGI input stream, turning the server's parse errors into 400s."""
    try:
        return read(size)
    except OSError as exc:
        # NOTE: gunicorn raises NoMoreData (an OSError) when the client stops mid-body.
        raise ClientDisconnected(f"Client stopped sending the body: {exc}") from None
    except Exception as exc:  # the server's own error for a malformed body
        # NOTE: each WSGI server has its own parse errors (gunicorn's InvalidChunkSize,
        # ChunkMissingTerminator...): bad framing from the client, never a 500.
        raise BadRequest(
            f"The request body is malformed ({type(exc).__name__}: {str(exc)[:100]})"
        ) from None


def _read_wsgi_input(stream: Any, length: int | None, limit: int) -> Iterator[bytes]:
    read: Callable[[int], bytes] = stream.read
    if length is not None:
        remaining = length
        while remaining > 0:
            chunk = _read_input(read, min(_CHUNK, remaining))
            if not chunk:
                raise ClientDisconnected("Client disconnected while sending the body")
            remaining -= len(chunk)
            yield chunk
        return
    # NOTE: no Content-Length: a chunked body, which WSGI servers de-chunk until EOF.
    received = 0
    while chunk := _read_input(read, _CHUNK):
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(_too_large(limit))
        yield chunk


def decode_json(body: bytes, type: Any = Any, max_depth: int = 64) -> Any:
    """Decode JSON bytes (and validate against ``type``), raising 400/422 on bad input."""
    if not body:
        raise BadRequest("Request body is empty; expected JSON")
    _check_depth(body, max_depth)
    try:
        return msgspec.json.decode(body, type=type)
    except msgspec.ValidationError as exc:
        from oakling.exceptions import ValidationError

        raise ValidationError([validation_error_item(str(exc), "body")]) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from None
    except UnicodeDecodeError as exc:  # msgspec checks UTF-8 only when it makes a str
        raise BadRequest(
            f"Malformed JSON in request body: not valid UTF-8 (bad byte at offset {exc.start})"
        ) from None


def _check_depth(body: bytes, max_depth: int) -> None:
    # NOTE: cheap upper bound first: a body with few brackets cannot be too deep.
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    # NOTE: C-speed passes, not a Python loop over every byte (that cost ~60 ms per MiB,
    # 50 times a msgspec decode): drop escaped backslashes and quotes, keep what is
    # outside strings, map brackets to +1/-1 and take the highest running sum.
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    if b'"' in body:
        body = b"".join(body.split(b'"')[0::2])
    steps = memoryview(body.translate(_BRACKET_STEPS, _NOT_BRACKETS)).cast("b")
    if max(accumulate(steps), default=0) > max_depth:
        raise BadRequest(
            f"JSON body is nested deeper than {max_depth} levels; "
            "flatten it or raise OAKLING_MAX_JSON_DEPTH"
        )


_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as int8
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def validation_error_item(message: str, source: str, *name: str) -> dict[str, Any]:
    """Turn a msgspec validation message into ``{"loc", "msg", "type"}``.

    msgspec says ``Expected `int`, got `str` - at `$.items[0].price``` or ``Object
    missing required field `name` - at `$.user```; the ``$...`` path and the missing
    or unknown field name become the location after ``source`` and ``name``.
    """
    msg, sep, where = message.rpartition(" - at `")
    if not sep:
        msg, where = message, "$`"
    path = where.rstrip("`").removeprefix("$")
    loc: list[str | int] = [source, *name]
    for part in path.replace("]", "").replace("[", ".").split("."):
        if part:
            loc.append(int(part) if part.isdigit() else part)
    kind = "invalid"
    for marker, kind_name in (
        ("missing required field `", "missing"),
        ("unknown field `", "unknown"),
    ):
        _head, found, rest = msg.partition(marker)
        if found:
            loc.append(rest.split("`", 1)[0])
            kind = kind_name
            break
    return {"loc": loc, "msg": msg, "type": kind}
