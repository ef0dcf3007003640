"""HTTP primitives: requests, responses, headers, cookies, forms, websockets."""

from __future__ import annotations

from oakling.http.datastructures import Headers, MultiDict, MutableHeaders, QueryParams, State
from oakling.http.files import FileResponse
from oakling.http.request import Request
from oakling.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from oakling.http.streaming import EventSourceResponse, ServerSentEvent, StreamingResponse
from oakling.http.url import URL

__all__ = (
    "URL",
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "Headers",
    "JSONResponse",
    "MultiDict",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "ServerSentEvent",
    "State",
    "StreamingResponse",
)
