"""File responses: a file from disk, with validators, conditional requests and ranges.

``FileResponse`` sends a file with ``Content-Length``, ``Last-Modified``, a
strong ``ETag`` built from the modification time and size, and ``Accept-Ranges:
bytes``. It answers conditional and range requests from the request headers:

* ``If-None-Match`` (weak comparison, ``*``) matching, or else
  ``If-Modified-Since`` not older than the file: ``304 Not Modified``.
* One range, ``Range: bytes=a-b``, ``a-`` or ``-n``: ``206 Partial Content``
  with ``Content-Range``; a range past the end: ``416`` with
  ``Content-Range: bytes */size``.
* Several ranges: the whole file with 200 (a multipart/byteranges answer is
  allowed but not required by RFC 9110, and browsers and media players ask
  for one range). A malformed ``Range``, or one in another unit: ignored, 200.
* ``If-Range`` with a validator that no longer matches: the whole file, 200.

Conditions apply to GET and HEAD with the default status 200. The decision is
one pure function, ``plan_file_response``, shared by the ASGI and WSGI paths.

The file is looked at when the response is sent, not when it is created:
a file that is missing (or vanished) then gives ``404 Not Found``, an
unreadable one ``403 Forbidden``, never a 500. For that reason the length and
validators are not among ``response.headers`` before sending.
"""

from __future__ import annotations

import os
import re
import stat as stat_module
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from typing import IO, TYPE_CHECKING, Final, Literal, NamedTuple
from urllib.parse import quote

from oakling.http.response import PlainTextResponse, Response, status_line, wsgi_headers
from oakling.http.streaming import sync_runner

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from oakling._types import (
        Message,
        RawHeaders,
        Receive,
        Scope,
        Send,
        StartResponse,
        WSGIEnviron,
    )
    from oakling.http.streaming import RunSync

__all__ = (
    "Conditions",
    "FilePlan",
    "FileResponse",
    "content_disposition",
    "guess_media_type",
    "make_etag",
    "parse_http_date",
    "parse_range",
    "plan_file_response",
)

_PATHSEND: Final = "http.response.pathsend"
# NOTE: what describes the body itself; dropped from 304/416/404 answers.
_REPRESENTATION: Final = frozenset(
    {b"content-type", b"content-length", b"content-disposition", b"content-range"}
)
_COMPRESSED_TYPES: Final = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}


# -- the decision: a pure function of the request headers and the file's stat -------------


class Conditions(NamedTuple):
    """The request headers that decide a file response (``None`` when absent)."""

    if_none_match: str | None = None
    if_modified_since: str | None = None
    range: str | None = None
    if_range: str | None = None

    @classmethod
    def from_scope(cls, scope: Scope) -> Conditions:
        """Read the conditions from an ASGI scope's headers."""
        values: list[str | None] = [None, None, None, None]
        for key, value in scope.get("headers", ()):
            index = _CONDITION_HEADERS.get(key)
            if index is not None:
                text = value.decode("latin-1")
                previous = values[index]
                values[index] = text if previous is None else f"{previous}, {text}"
        return cls(*values)

    @classmethod
    def from_environ(cls, environ: WSGIEnviron) -> Conditions:
        """Read the conditions from a WSGI environ."""
        get = environ.get
        return cls(
            get("HTTP_IF_NONE_MATCH"),
            get("HTTP_IF_MODIFIED_SINCE"),
            get("HTTP_RANGE"),
            get("HTTP_IF_RANGE"),
        )


_CONDITION_HEADERS: Final = {
    b"if-none-match": 0,
    b"if-modified-since": 1,
    b"range": 2,
    b"if-range": 3,
}


class FilePlan(NamedTuple):
    """What to send: a status and the byte range ``[start, end)`` of the file."""

    status: int
    start: int = 0
    end: int = 0

    @property
    def length(self) -> int:
        """The number of bytes in the body."""
        return self.end - self.start


def plan_file_response(
    method: str,
    conditions: Conditions,
    *,
    size: int,
    etag: str | None,
    last_modified: int | None,
    status_code: int = 200,
) -> FilePlan:
    """Decide how to answer a request for a file (RFC 9110 §13.2.2 and §14).

    Args:
        method: The request method.
        conditions: The request's conditional and range headers.
        size: The file's size in bytes.
        etag: The file's entity tag, quoted (``"..."`` or ``W/"..."``).
        last_modified: The file's modification time, in whole seconds since the epoch.
        status_code: The status the response was created with; only 200 is negotiated.

    Returns:
        200 (whole file), 206 (one range), 304 (not modified) or 416 (unsatisfiable).
    """
    whole = FilePlan(status_code, 0, size)
    if status_code != 200 or method not in ("GET", "HEAD"):
        return whole
    if _not_modified(conditions, etag, last_modified):
        return FilePlan(304)
    if conditions.range is None:
        return whole
    if conditions.if_range is not None and not _if_range_matches(
        conditions.if_range, etag, last_modified
    ):
        return whole
    byte_range = parse_range(conditions.range, size)
    if byte_range is None:
        return whole
    if byte_range == _UNSATISFIABLE:
        return FilePlan(416)
    return FilePlan(206, *byte_range)


_UNSATISFIABLE: Final = (-1, -1)
# NOTE: at most 18 digits (under 1 EiB): a longer number is ignored as malformed, and
# int() of thousands of digits would raise ValueError (and cost quadratic time).
_RANGE_SPEC = re.compile(r"([0-9]{0,18})[ \t]*-[ \t]*([0-9]{0,18})")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Parse a ``Range`` header for a file of ``size`` bytes.

    Returns:
        ``(start, end)`` with ``end`` exclusive for one satisfiable range;
        ``(-1, -1)`` when it cannot be satisfied; ``None`` to ignore the header
        (malformed, another unit, or several ranges).
    """
    unit, equals, ranges = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            return _UNSATISFIABLE
        return (max(0, size - suffix), size)
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return _UNSATISFIABLE
    end = min(int(last) + 1, size) if last else size
    return (start, end)


def _not_modified(conditions: Conditions, etag: str | None, last_modified: int | None) -> bool:
    if conditions.if_none_match is not None:
        # NOTE: when If-None-Match is present, If-Modified-Since is ignored (RFC 9110 §13.1.3).
        header = conditions.if_none_match.strip()
        if header == "*":
            return True
        return etag is not None and _opaque(etag) in {_opaque(tag) for tag in _etags(header)}
    if conditions.if_modified_since is not None and last_modified is not None:
        since = parse_http_date(conditions.if_modified_since)
        return since is not None and last_modified <= since
    return False


def _if_range_matches(header: str, etag: str | None, last_modified: int | None) -> bool:
    value = header.strip()
    if value.startswith(('"', 'W/"')):
        # NOTE: If-Range uses the strong comparison: weak tags never match.
        return etag is not None and not etag.startswith("W/") and value == etag
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified


_ETAG = re.compile(r'(?:W/)?"[^"]*"')


def _etags(header: str) -> list[str]:
    return _ETAG.findall(header)


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def parse_http_date(value: str) -> int | None:
    """Parse an HTTP date to whole seconds since the epoch; ``None`` if it is not one."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        # NOTE: "-0000" gives a naive datetime; HTTP dates are always GMT.
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


# -- headers --------------------------------------------------------------------------------


def make_etag(stat: os.stat_result) -> str:
    """Return a strong entity tag from a file's modification time (ns) and size."""
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def content_disposition(disposition_type: str, filename: str) -> str:
    """Build a ``Content-Disposition`` value (RFC 6266).

    ``filename`` is given as an ASCII fallback and, when that differs from it,
    in full as ``filename*=UTF-8''...`` (percent-encoded), which browsers prefer.
    """
    fallback = _ascii_filename(filename)
    value = f'{disposition_type}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='!#$&+^`|')}"
    return value


def _ascii_filename(filename: str) -> str:
    import unicodedata  # imported here: keeps `import oakling` light

    chars = []
    for char in unicodedata.normalize("NFKD", filename):
        if unicodedata.combining(char):
            continue  # "é" -> "e" + U+0301: keep the "e"
        if " " <= char <= "~" and char not in '"\\':
            chars.append(char)
        else:
            chars.append("_")
    return "".join(chars)


def guess_media_type(path: str) -> str:
    """Guess a file's media type from its name (``application/octet-stream`` if unknown)."""
    import mimetypes  # imported here: keeps `import oakling` light

    media_type, encoding = mimetypes.guess_type(path, strict=False)
    if encoding is not None:
        # NOTE: "x.tar.gz" is gzip data: sending "application/x-tar" would be wrong unless
        # with Content-Encoding, which makes browsers unpack the download.
        return _COMPRESSED_TYPES.get(encoding, "application/octet-stream")
    return media_type or "application/octet-stream"


# -- the response -----------------------------------------------------------------------------


class _Prepared:
    """The outcome of looking at the file: what to send, or a fallback response."""

    __slots__ = ("fallback", "file", "headers", "pathsend", "plan")

    def __init__(
        self, plan: FilePlan, headers: RawHeaders, fallback: Response | None = None
    ) -> None:
        self.plan = plan
        self.headers = headers
        self.file: IO[bytes] | None = None
        self.pathsend = False
        self.fallback = fallback


class FileResponse(Response):
    """A file from disk, answering conditional and range requests.

    Args:
        path: The file's path.
        status_code: The HTTP status; conditions and ranges apply only to 200.
        headers: Extra headers; an ``ETag`` or ``Last-Modified`` given here replaces
            the computed one (and is used to evaluate conditional requests).
        media_type: The Content-Type; guessed from ``filename`` or ``path`` if not given
            (``text/*`` gets ``; charset=utf-8``).
        filename: Sets ``Content-Disposition`` with this name (for downloads).
        content_disposition_type: ``"attachment"`` (download) or ``"inline"`` (display).
        stat_result: The file's ``os.stat()``, if already known (saves a system call).
        chunk_size: How many bytes to read at a time.

    Raises:
        ValueError: ``content_disposition_type`` is neither attachment nor inline, or
            ``chunk_size`` is not positive.
    """

    sets_content_length = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
        content_disposition_type: Literal["attachment", "inline"] = "attachment",
        stat_result: os.stat_result | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        if content_disposition_type not in ("attachment", "inline"):
            raise ValueError(
                "content_disposition_type must be 'attachment' or 'inline', "
                f"not {content_disposition_type!r}"
            )
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self.path = os.fspath(path)
        self.filename = filename
        self.stat_result = stat_result
        self.chunk_size = chunk_size
        if media_type is None:
            media_type = guess_media_type(filename or self.path)
        super().__init__(None, status_code, headers, media_type)
        raw = self.raw_headers
        if filename is not None:
            value = content_disposition(content_disposition_type, filename)
            raw.append((b"content-disposition", value.encode("latin-1")))
        raw.append((b"accept-ranges", b"bytes"))

    # -- shared by ASGI and WSGI ------------------------------------------------------------

    def _prepare(self, method: str, conditions: Conditions, pathsend: bool) -> _Prepared:
        """Stat (and open) the file and decide the answer; blocking."""
        try:
            stat = self.stat_result or os.stat(self.path)
            if not stat_module.S_ISREG(stat.st_mode):
                return self._fallback(FileNotFoundError())
            headers = self.headers
            etag = headers.get("etag") or make_etag(stat)
            last_modified = headers.get("last-modified") or formatdate(stat.st_mtime, usegmt=True)
            plan = plan_file_response(
                method,
                conditions,
                size=stat.st_size,
                etag=etag,
                last_modified=parse_http_date(last_modified),
                status_code=self.status_code,
            )
            prepared = _Prepared(plan, self._headers_for(plan, stat.st_size, etag, last_modified))
            if method != "HEAD" and plan.status not in (304, 416) and plan.length > 0:
                if pathsend and plan.status == 200:
                    prepared.pathsend = True
                else:
                    prepared.file = open(self.path, "rb")  # noqa: SIM115 - closed after sending
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
            return self._fallback(exc)
        except ValueError:  # a NUL byte in the path, e.g. from a query parameter
            return self._fallback(FileNotFoundError())
        return prepared

    def _headers_for(self, plan: FilePlan, size: int, etag: str, last_modified: str) -> RawHeaders:
        own = self.raw_headers
        if plan.status in (304, 416):
            headers = [(k, v) for k, v in own if k not in _REPRESENTATION and k != b"etag"]
            if plan.status == 416:
                headers.append((b"content-range", f"bytes */{size}".encode("latin-1")))
                headers.append((b"content-length", b"0"))
        else:
            headers = [(k, v) for k, v in own if k not in (b"content-length", b"etag")]
            headers.append((b"content-length", str(plan.length).encode("latin-1")))
            if plan.status == 206:
                content_range = f"bytes {plan.start}-{plan.end - 1}/{size}"
                headers.append((b"content-range", content_range.encode("latin-1")))
        headers.append((b"etag", etag.encode("latin-1")))
        if not any(k == b"last-modified" for k, _ in own):
            headers.append((b"last-modified", last_modified.encode("latin-1")))
        return headers

    def _fallback(self, exc: OSError) -> _Prepared:
        if isinstance(exc, PermissionError):
            response: Response = PlainTextResponse("Forbidden", 403)
        else:
            response = PlainTextResponse("Not Found", 404)
        # NOTE: headers about the file go; the others (cookies, request id...) stay.
        about_file = (b"accept-ranges", b"etag", b"last-modified")
        response.raw_headers.extend(
            (k, v) for k, v in self.raw_headers if k not in _REPRESENTATION and k not in about_file
        )
        return _Prepared(FilePlan(response.status_code), response.raw_headers, fallback=response)

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the file over ASGI, reading it in the thread pool (or with pathsend)."""
        run_sync = sync_runner(scope)
        pathsend = _PATHSEND in (scope.get("extensions") or {})
        prepared: _Prepared = await run_sync(
            self._prepare, scope.get("method", "GET"), Conditions.from_scope(scope), pathsend
        )
        if prepared.fallback is not None:
            await prepared.fallback(scope, receive, send)
            return
        plan, file = prepared.plan, prepared.file
        try:
            start = {
                "type": "http.response.start",
                "status": plan.status,
                "headers": prepared.headers,
            }
            if not await _deliver(send, start):
                return
            if prepared.pathsend:
                await _deliver(send, {"type": _PATHSEND, "path": os.path.abspath(self.path)})
            elif file is None:
                await _deliver(
                    send, {"type": "http.response.body", "body": b"", "more_body": False}
                )
            else:
                await self._send_chunks(file, plan, send, run_sync)
        finally:
            if file is not None:
                file.close()

    async def _send_chunks(
        self, file: IO[bytes], plan: FilePlan, send: Send, run_sync: RunSync
    ) -> None:
        if plan.start:
            await run_sync(file.seek, plan.start)
        remaining = plan.length
        chunk_size = self.chunk_size
        while remaining > 0:
            chunk = await run_sync(file.read, min(chunk_size, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            message = {"type": "http.response.body", "body": chunk, "more_body": remaining > 0}
            if not await _deliver(send, message):
                return
        if remaining > 0:
            # NOTE: the file shrank while being sent; end the body, short of Content-Length,
            # which tells the client that it is incomplete.
            await _deliver(send, {"type": "http.response.body", "body": b"", "more_body": False})

    # -- WSGI -------------------------------------------------------------------------------

    def to_wsgi(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """Send the file over WSGI, with the server's ``wsgi.file_wrapper`` if it has one."""
        prepared = self._prepare(
            environ.get("REQUEST_METHOD", "GET"), Conditions.from_environ(environ), False
        )
        if prepared.fallback is not None:
            return prepared.fallback.to_wsgi(environ, start_response)
        plan, file = prepared.plan, prepared.file
        try:
            start_response(status_line(plan.status), wsgi_headers(prepared.headers))
        except BaseException:
            if file is not None:
                file.close()
            raise
        if file is None:
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None and plan.start == 0 and plan.status == 200:
            # NOTE: the wrapper lets the server use sendfile(); it closes the file.
            body: Iterable[bytes] = wrapper(file, self.chunk_size)
            return body
        return _FileChunks(file, plan.start, plan.length, self.chunk_size)


async def _deliver(send: Send, message: Message) -> bool:
    """Send ``message``; False if the client has gone away."""
    try:
        await send(message)
    except OSError:
        # NOTE: servers raise an OSError from send() once the client is gone (ASGI 2.4):
        # a normal end for a download, not an error to report.
        return False
    return True


class _FileChunks:
    """A WSGI body reading ``length`` bytes from ``start``; ``close()`` closes the file.

    A class rather than a generator: a server may close the body without
    iterating it, and a generator that never started would not close the file.
    """

    def __init__(self, file: IO[bytes], start: int, length: int, chunk_size: int) -> None:
        self.file = file
        self.start = start
        self.length = length
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        file = self.file
        if self.start:
            file.seek(self.start)
        remaining = self.length
        chunk_size = self.chunk_size
        try:
            while remaining > 0:
                chunk = file.read(min(chunk_size, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            file.close()

    def close(self) -> None:
        """Close the file."""
        self.file.close()
