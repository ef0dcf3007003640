"""Form bodies, parsed as they stream in and held to the request limits.

A :class:`FormParser` reads ``application/x-www-form-urlencoded`` and
``multipart/form-data`` bodies chunk by chunk and gives a :class:`FormData` at
the end. Every limit of :class:`~oakling.http.limits.Limits` is checked while
the bytes arrive, so an oversized or malicious body is refused before it is
held in memory. Uploaded files are streamed into spooled temporary files that
move to disk above ``spool_max_size``.

Errors are :class:`~oakling.exceptions.HTTPError` subclasses whose message
tells the client what was wrong and the operator which setting to raise:
``BadRequest`` (400) for a malformed body, ``PayloadTooLarge`` (413) for a
limit, ``UnsupportedMediaType`` (415) for a body that is not a form, and a 507
``HTTPError`` when the disk fills up while an upload is spooled. On any error
every temporary file already created is closed (and so deleted).
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import re
import shutil
import tempfile
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from oakling.exceptions import BadRequest, HTTPError, PayloadTooLarge, UnsupportedMediaType
from oakling.http.datastructures import Headers, MultiDict

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from oakling._types import RawHeaders
    from oakling.http.limits import Limits

__all__ = ("FormData", "FormParser", "UploadFile", "is_form_content_type", "parse_form")

_URLENCODED: Final = "application/x-www-form-urlencoded"
_MULTIPART: Final = "multipart/form-data"
_DEFAULT_FILE_TYPE: Final = "application/octet-stream"

# NOTE: Werkzeug's rule: printable ASCII, at most 200 characters, not ending in a
# space. Looser than RFC 2046's 70 characters, which some clients exceed.
_BOUNDARY_RE: Final = re.compile(rb"[ -~]{0,199}[!-~]")
# C0/C1 controls and the bidi overrides used to disguise an extension ("evil\u202egpj.exe").
_UNSAFE_FILENAME_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BAD_PERCENT_RE: Final = re.compile("%(?![0-9A-Fa-f]{2})")
_FORM_SEGMENT_RE: Final = re.compile(rb"[^&]+")
_AMPERSAND: Final = 0x26
# A full disk (or quota) while spooling an upload: 507 Insufficient Storage.
_NO_SPACE: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
_MAX_PART_HEADERS: Final = 8  # python-multipart's default; browsers send two or three


def is_form_content_type(content_type: str) -> bool:
    """Tell whether a Content-Type header value is one a form parser reads.

    Args:
        content_type: The full header value, parameters included.
    """
    media_type, _ = parse_options_header(content_type)
    return media_type in (_URLENCODED.encode(), _MULTIPART.encode())


class UploadFile:
    r"""An uploaded file, spooled to disk above ``limits.spool_max_size``.

    Attributes:
        filename: A safe base name: directory parts (``/`` and ``\\``), control
            characters and leading dots removed; ``""`` if nothing is left, or if
            the client sent an empty filename (an empty file input).
        raw_filename: The name as the client sent it, decoded; for logging only,
            never for building a path.
        content_type: The part's Content-Type, or ``application/octet-stream``.
        headers: All headers of the part.
        file: The content; read it through the methods below or directly.
        size: The content's length in bytes.
    """

    __slots__ = ("content_type", "file", "filename", "headers", "raw_filename", "size")

    def __init__(
        self,
        file: tempfile.SpooledTemporaryFile[bytes],
        *,
        filename: str = "",
        content_type: str = _DEFAULT_FILE_TYPE,
        headers: Headers | None = None,
        size: int = 0,
    ) -> None:
        """Wrap ``file``; ``filename`` is the client's name, made safe here."""
        self.file = file
        self.raw_filename = filename
        self.filename = _safe_filename(filename)
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers()
        self.size = size

    def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that is left if negative)."""
        return self.file.read(size)

    async def aread(self, size: int = -1) -> bytes:
        """Read like :meth:`read`, in a worker thread if the file is on disk."""
        if getattr(self.file, "_rolled", False):
            return await _run_in_thread(self.file.read, size)
        return self.file.read(size)

    def seek(self, offset: int) -> None:
        """Move the read position to ``offset`` bytes from the start."""
        self.file.seek(offset)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole content to ``path``, in chunks, not all in memory.

        The read position is left where it was.
        """
        position = self.file.tell()
        self.file.seek(0)
        try:
            with open(path, "wb") as target:
                shutil.copyfileobj(self.file, target)
        finally:
            self.file.seek(position)

    def close(self) -> None:
        """Close the file and free its memory or disk space."""
        self.file.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(filename={self.filename!r}, "
            f"content_type={self.content_type!r}, size={self.size})"
        )


class FormData(MultiDict[str | UploadFile]):
    """The fields of a form: ``str`` values and :class:`UploadFile` values.

    Use it as a context manager, or call :meth:`close`, to release the files.
    """

    __slots__ = ()

    def close(self) -> None:
        """Close every :class:`UploadFile` of the form."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                value.close()

    def __enter__(self) -> FormData:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class FormParser:
    """Feed body chunks as they arrive; get a :class:`FormData` at the end.

    Args:
        content_type: The request's full Content-Type header value.
        limits: The limits to hold the body to.

    Raises:
        UnsupportedMediaType: The body is neither urlencoded nor multipart.
        BadRequest: A multipart Content-Type without a usable boundary.
    """

    __slots__ = ("_impl",)

    def __init__(self, content_type: str, limits: Limits) -> None:
        media_type, params = parse_options_header(content_type)
        self._impl: _UrlencodedParser | _MultipartFormParser
        if media_type == _URLENCODED.encode():
            self._impl = _UrlencodedParser(limits)
        elif media_type == _MULTIPART.encode():
            self._impl = _MultipartFormParser(_boundary(params), limits)
        elif not media_type:
            raise UnsupportedMediaType(
                f"The request has no Content-Type; a form must be sent as {_URLENCODED} "
                f"or {_MULTIPART}"
            )
        else:
            raise UnsupportedMediaType(
                f"Cannot read a form from a {media_type.decode('latin-1')!r} body; "
                f"send {_URLENCODED} or {_MULTIPART}"
            )

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body.

        Raises:
            BadRequest: The body is malformed.
            PayloadTooLarge: The body is over one of the limits.
            HTTPError: 507, the disk is full while spooling an upload.
            RuntimeError: The parser was finished, closed or failed already.
        """
        self._impl.feed(chunk)

    def finish(self) -> FormData:
        """Check the body is complete and return the form.

        Raises:
            BadRequest: The body is malformed or incomplete.
            RuntimeError: The parser was finished, closed or failed already.
        """
        return self._impl.finish()

    def close(self) -> None:
        """Abandon an unfinished parse, closing the files created so far.

        Call it when reading the body fails (e.g. the client went away). After
        :meth:`finish` it does nothing: the files belong to the :class:`FormData`.
        """
        self._impl.close()


def parse_form(content_type: str, body: bytes, limits: Limits) -> FormData:
    """Parse a whole form body that is already in memory.

    Args:
        content_type: The request's full Content-Type header value.
        body: The complete body.
        limits: The limits to hold the body to.

    Raises:
        UnsupportedMediaType: The body is neither urlencoded nor multipart.
        BadRequest: The body is malformed.
        PayloadTooLarge: The body is over one of the limits.
    """
    parser = FormParser(content_type, limits)
    parser.feed(body)
    return parser.finish()


class _UrlencodedParser:
    """``application/x-www-form-urlencoded``: buffered up to ``max_body_size``."""

    __slots__ = ("_body", "_done", "_fields", "_in_field", "_limits")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._body = bytearray()
        self._fields = 0
        self._in_field = False  # whether the last chunk ended inside a field
        self._done = False

    def feed(self, chunk: bytes) -> None:
        _check_open(self._done)
        if len(self._body) + len(chunk) > self._limits.max_body_size:
            self.close()
            raise _too_large(
                "Form body is too large", _size(self._limits.max_body_size), "MAX_BODY_SIZE"
            )
        self._count_fields(chunk)
        self._body += chunk

    def _count_fields(self, chunk: bytes) -> None:
        # NOTE: counts the non-empty '&'-separated segments, which is exactly the
        # number of pairs parse_qsl(keep_blank_values=True) returns.
        if not chunk:
            return
        segments = sum(1 for _ in _FORM_SEGMENT_RE.finditer(chunk))
        if self._in_field and chunk[0] != _AMPERSAND:
            segments -= 1  # the first segment continues the previous chunk's field
        self._in_field = chunk[-1] != _AMPERSAND
        self._fields += segments
        if self._fields > self._limits.max_form_fields:
            self.close()
            raise _too_many_fields(self._limits)

    def finish(self) -> FormData:
        _check_open(self._done)
        body = bytes(self._body)
        self.close()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"Form body is not valid UTF-8 (bad byte at offset {exc.start}); "
                "send it as percent-encoded UTF-8"
            ) from exc
        bad = _BAD_PERCENT_RE.search(text)
        if bad is not None:
            raise BadRequest(
                f"Invalid percent-encoding in form body at offset {bad.start()}: "
                f"{text[bad.start() : bad.start() + 3]!r}; a literal '%' must be sent as '%25'"
            )
        return FormData(_parse_urlencoded(text))

    def close(self) -> None:
        self._done = True
        self._body = bytearray()


def _parse_urlencoded(text: str) -> list[tuple[str, str | UploadFile]]:
    """Split an urlencoded string, refusing escapes that are not UTF-8."""
    pairs: list[tuple[str, str | UploadFile]] = []
    for name, value in parse_qsl(
        text, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"
    ):
        for part in (name, value):
            if not _is_clean_text(part):
                raise BadRequest(
                    f"Form field {_show(_printable(name))} has percent-escapes that are not "
                    "valid UTF-8; encode the text as UTF-8 before percent-encoding it"
                )
        pairs.append((name, value))
    return pairs


class _Part:
    """The state of the multipart part being read."""

    __slots__ = (
        "charset",
        "header_name",
        "header_size",
        "header_value",
        "headers",
        "name",
        "upload",
        "value",
    )

    def __init__(self) -> None:
        self.headers: RawHeaders = []
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.header_size = 0
        self.name = ""
        self.charset = "utf-8"
        self.value: bytearray | None = None  # set for a non-file field
        self.upload: UploadFile | None = None  # set for a file


class _MultipartFormParser:
    """``multipart/form-data`` through python-multipart's streaming parser."""

    def __init__(self, boundary: bytes, limits: Limits) -> None:
        self._limits = limits
        self._items: list[tuple[str, str | UploadFile]] = []
        self._uploads: list[UploadFile] = []  # every file created, to close on error
        self._size = 0
        self._parts = 0
        self._fields = 0
        self._part = _Part()
        self._complete = False
        self._done = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_name,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
            # Its per-line cap only backs up the per-part total counted below.
            max_header_size=limits.max_part_header_size,
            max_header_count=_MAX_PART_HEADERS,
        )

    def feed(self, chunk: bytes) -> None:
        _check_open(self._done)
        self._size += len(chunk)
        if self._size > self._limits.max_upload_size:
            self.close()
            raise _too_large(
                "Multipart body is too large",
                _size(self._limits.max_upload_size),
                "MAX_UPLOAD_SIZE",
            )
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            self.close()
            raise self._parse_error(exc) from exc
        except OSError as exc:
            self.close()  # the files written so far are closed, hence deleted
            if exc.errno in _NO_SPACE:
                raise HTTPError(
                    507,
                    "The server has no room left to store this upload; nothing was kept. "
                    "Try again later or send a smaller file",
                ) from exc
            raise
        except BaseException:
            self.close()
            raise

    def finish(self) -> FormData:
        _check_open(self._done)
        if not self._complete:
            self.close()
            raise BadRequest(
                "The multipart body ended before its closing boundary; "
                "the upload was cut short or the client did not finish the body"
            )
        self._done = True
        return FormData(self._items)

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        for upload in self._uploads:
            upload.close()
        self._items.clear()

    def _parse_error(self, exc: MultipartParseError) -> Exception:
        message = str(exc)
        if message.startswith("Maximum header size"):
            return self._header_too_large()
        if message.startswith("Maximum header count"):
            return BadRequest(
                f"Part {self._parts} of the multipart body has too many headers "
                f"(over {_MAX_PART_HEADERS}); a form part needs two or three"
            )
        return BadRequest(
            f"Malformed multipart body ({message}); check that the body uses the boundary "
            "given in the Content-Type header"
        )

    def _header_too_large(self) -> PayloadTooLarge:
        # NOTE: 413, not 431: 431 means the request's own header section is too
        # large (RFC 6585), and clients react to it by trimming their headers
        # (cookies). Part headers are body content, so the body is what is too large.
        return _too_large(
            f"Headers of part {self._parts} of the multipart body are too large",
            _size(self._limits.max_part_header_size),
            "MAX_PART_HEADER_SIZE",
        )

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self._limits.max_multipart_parts:
            raise _too_large(
                "Too many parts in the multipart body",
                str(self._limits.max_multipart_parts),
                "MAX_MULTIPART_PARTS",
            )
        self._part = _Part()

    def _count_header_bytes(self, count: int) -> None:
        self._part.header_size += count
        if self._part.header_size > self._limits.max_part_header_size:
            raise self._header_too_large()

    def _on_header_name(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._part.header_name += memoryview(data)[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._part.header_value += memoryview(data)[start:end]

    def _on_header_end(self) -> None:
        part = self._part
        part.headers.append((bytes(part.header_name).lower(), bytes(part.header_value).strip()))
        part.header_name.clear()
        part.header_value.clear()

    def _on_headers_finished(self) -> None:
        part = self._part
        headers = Headers(raw=part.headers)
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise BadRequest(
                f"Part {self._parts} of the multipart body has no Content-Disposition header; "
                "each part needs one such as 'form-data; name=\"field\"'"
            )
        _, params = parse_options_header(disposition)
        raw_name = params.get(b"name")
        if raw_name is None:
            raise BadRequest(
                f"Part {self._parts} of the multipart body has no name in its "
                "Content-Disposition; each part needs one such as 'form-data; name=\"field\"'"
            )
        part.name = _decode(raw_name, "utf-8", f"The name of part {self._parts}")
        filename = _filename(disposition, params)
        if filename is None:
            self._start_field(headers)
        else:
            self._start_file(headers, filename)

    def _start_field(self, headers: Headers) -> None:
        self._fields += 1
        if self._fields > self._limits.max_form_fields:
            raise _too_many_fields(self._limits)
        _, params = parse_options_header(headers.get("content-type"))
        charset = params.get(b"charset", b"utf-8").decode("latin-1")
        try:
            self._part.charset = codecs.lookup(charset).name
        except LookupError:
            raise BadRequest(
                f"Form field {_show(self._part.name)} declares an unknown charset {charset!r}"
            ) from None
        self._part.value = bytearray()

    def _start_file(self, headers: Headers, filename: str) -> None:
        # NOTE: a part with filename="" stays a file part (filename "", size 0):
        # that is what browsers send for an empty file input, and handlers then
        # always get an UploadFile for a file input, never sometimes a str.
        spool = self._limits.spool_max_size
        # The file outlives this call: the UploadFile owns it, and close() or
        # FormData.close() closes it.
        file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=max(spool, 0)
        )
        upload = UploadFile(
            file,
            filename=filename,
            content_type=headers.get("content-type") or _DEFAULT_FILE_TYPE,
            headers=headers,
        )
        self._uploads.append(upload)
        if spool <= 0:
            file.rollover()  # max_size=0 would mean "never roll over", not "always"
        self._part.upload = upload

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.upload is not None:
            part.upload.file.write(memoryview(data)[start:end])
            part.upload.size += end - start
        elif part.value is not None:
            if len(part.value) + end - start > self._limits.max_field_size:
                raise _too_large(
                    f"Form field {_show(part.name)} is too large",
                    _size(self._limits.max_field_size),
                    "MAX_FIELD_SIZE",
                )
            part.value += memoryview(data)[start:end]

    def _on_part_end(self) -> None:
        part = self._part
        if part.upload is not None:
            part.upload.file.seek(0)
            self._items.append((part.name, part.upload))
        elif part.value is not None:
            value = _decode(bytes(part.value), part.charset, f"Form field {_show(part.name)}")
            self._items.append((part.name, value))

    def _on_end(self) -> None:
        self._complete = True


def _boundary(params: dict[bytes, bytes]) -> bytes:
    boundary = params.get(b"boundary")
    if not boundary:
        raise BadRequest("multipart/form-data body has no boundary in its Content-Type")
    if not _BOUNDARY_RE.fullmatch(boundary):
        raise BadRequest(
            "multipart/form-data body has no boundary in its Content-Type (the boundary "
            f"{boundary[:80].decode('latin-1')!r} is not 1 to 200 printable ASCII characters)"
        )
    return boundary


def _filename(disposition: str, params: dict[bytes, bytes]) -> str | None:
    """Return the client's filename from a Content-Disposition, or None."""
    raw = params.get(b"filename")
    if raw is not None:
        # NOTE: lenient on purpose: the name is only shown, never trusted.
        return raw.decode("utf-8", "replace")
    # RFC 7578 forbids filename*= in forms and python-multipart drops it, but a
    # few clients send only that; the plain filename stays authoritative.
    if "filename*" not in disposition.lower():
        return None
    from email.message import Message
    from email.utils import collapse_rfc2231_value

    message = Message()
    message["content-disposition"] = disposition
    value = message.get_param("filename", header="content-disposition")
    if value is None:
        return None
    return collapse_rfc2231_value(value, errors="replace", fallback_charset="utf-8")


def _safe_filename(raw: str) -> str:
    name = _UNSAFE_FILENAME_CHARS.sub("", raw)
    name = name.replace("\\", "/").rpartition("/")[2]
    return name.lstrip(". ").rstrip()


def _decode(value: bytes, charset: str, what: str) -> str:
    try:
        return value.decode(charset)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid {charset} (bad byte at offset {exc.start})") from exc


def _is_clean_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _show(name: str) -> str:
    """Quote a client-sent name for a message, cut short if long."""
    return repr(name) if len(name) <= 40 else repr(name[:40]) + "..."


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= factor:
            return f"{count} bytes = {count / factor:g} {unit}"
    return f"{count} bytes"


def _too_large(what: str, limit: str, setting: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"{what} (over {limit}); raise OAKLING_{setting} if this is expected")


def _too_many_fields(limits: Limits) -> PayloadTooLarge:
    return _too_large("Too many form fields", str(limits.max_form_fields), "MAX_FORM_FIELDS")


def _check_open(done: bool) -> None:
    if done:
        raise RuntimeError("This form parser has already finished, failed or been closed")


async def _run_in_thread(func: Callable[[int], bytes], size: int) -> bytes:
    # NOTE: anyio when present, so aread works under trio as well as asyncio.
    try:
        from anyio import to_thread
    except ImportError:  # pragma: no cover - anyio comes with every test setup
        return await asyncio.to_thread(func, size)
    return await to_thread.run_sync(func, size)
