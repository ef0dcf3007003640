"""HTTP primitives: requests, responses, headers, cookies, forms, websockets.

Streaming, file, websocket and upload classes load on first use, to keep
``import oakling`` light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from oakling.http.datastructures import Headers, MultiDict, MutableHeaders, QueryParams, State
from oakling.http.request import Request
from oakling.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from oakling.http.url import URL

if TYPE_CHECKING:
    from oakling.http.files import FileResponse
    from oakling.http.multipart import FormData, UploadFile
    from oakling.http.streaming import EventSourceResponse, ServerSentEvent, StreamingResponse
    from oakling.http.websocket import WebSocket, WebSocketDisconnect

__all__ = (
    "URL",
    "EventSourceResponse",
    "FileResponse",
    "FormData",
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
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
)

LAZY = {
    "EventSourceResponse": "oakling.http.streaming",
    "FileResponse": "oakling.http.files",
    "FormData": "oakling.http.multipart",
    "ServerSentEvent": "oakling.http.streaming",
    "StreamingResponse": "oakling.http.streaming",
    "UploadFile": "oakling.http.multipart",
    "WebSocket": "oakling.http.websocket",
    "WebSocketDisconnect": "oakling.http.websocket",
}
"""Names loaded on first access, and the module each comes from."""


def __getattr__(name: str) -> Any:
    module = LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'oakling.http' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
