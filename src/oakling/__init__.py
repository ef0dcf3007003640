"""oakling: a web framework that starts as small as Flask and grows as big as Django."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oakling.app import App
from oakling.component import Component
from oakling.config import Settings
from oakling.exceptions import (
    BadRequest,
    Forbidden,
    HTTPError,
    NotFound,
    Unauthorized,
    ValidationError,
)
from oakling.http.request import Request
from oakling.http.response import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from oakling.params import Body, Cookie, Depends, File, Form, Header, Path, Query, guard
from oakling.views import View

if TYPE_CHECKING:
    from oakling.http.files import FileResponse
    from oakling.http.multipart import UploadFile
    from oakling.http.streaming import StreamingResponse
    from oakling.http.websocket import WebSocket

__all__ = (
    "App",
    "BadRequest",
    "Body",
    "Component",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Forbidden",
    "Form",
    "HTMLResponse",
    "HTTPError",
    "Header",
    "JSONResponse",
    "NotFound",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "Response",
    "Settings",
    "StreamingResponse",
    "Unauthorized",
    "UploadFile",
    "ValidationError",
    "View",
    "WebSocket",
    "guard",
    "redirect",
)

__version__ = "0.1.0"


def redirect(url: str, status: int = 302) -> RedirectResponse:
    """Return a redirect to ``url`` (302 by default; 303 after a POST form)."""
    return RedirectResponse(url, status)


def __getattr__(name: str) -> Any:
    # NOTE: streaming, files, uploads and websockets load on first use (see oakling.http).
    if name in ("FileResponse", "StreamingResponse", "UploadFile", "WebSocket"):
        import oakling.http

        return getattr(oakling.http, name)
    raise AttributeError(f"module 'oakling' has no attribute {name!r}")
