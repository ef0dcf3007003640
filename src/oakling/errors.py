"""Error responses: RFC 9457 problem+json for API clients, a small HTML page otherwise.

For HTML clients, the project's ``<status>.html`` template (``404.html``,
``500.html``...) is used when the app has a template folder and Jinja2 is
installed; the built-in page is the fallback when the template is missing or
fails, and always in debug for unhandled errors (the traceback page).
"""

from __future__ import annotations

import html
import os
import traceback
from typing import TYPE_CHECKING, Any

from oakling.exceptions import status_phrase
from oakling.http.response import HTMLResponse, JSONResponse, Response

if TYPE_CHECKING:
    from oakling.http.request import Request

__all__ = ("error_response", "wants_html")


def wants_html(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers HTML over JSON (browsers do; curl does not)."""
    if not accept:
        return False
    accept = accept.lower()
    html_at = accept.find("text/html")
    if html_at < 0:
        return False
    json_at = accept.find("json")
    return json_at < 0 or html_at < json_at


def error_response(
    status: int,
    detail: str,
    *,
    accept: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    request_id: str | None = None,
    exc: BaseException | None = None,
    request: Request | None = None,
) -> Response:
    """Build the error response for ``status``; with ``exc``, a debug page with its traceback.

    Pass ``exc`` only in debug mode: the traceback is shown to the client. With
    ``request``, an HTML client gets the app's ``<status>.html`` template if it has one.
    """
    title = status_phrase(status)
    if wants_html(accept):
        if request is not None and exc is None:
            context = {
                "status": status,
                "title": title,
                "detail": detail,
                "errors": errors,
                "request_id": request_id,
            }
            page = _template_page(request, status, context, headers)
            if page is not None:
                return page
        return HTMLResponse(
            _html_page(status, title, detail, errors, request_id, exc), status, headers
        )
    problem: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    problem["detail"] = detail
    if errors is not None:
        problem["errors"] = errors
    if request_id is not None:
        problem["request_id"] = request_id
    if exc is not None:
        problem["traceback"] = traceback.format_exception(exc)
    return JSONResponse(problem, status, headers, media_type="application/problem+json")


def _template_page(
    request: Request, status: int, context: dict[str, Any], headers: dict[str, str] | None
) -> Response | None:
    app = request.app
    extensions = getattr(app, "extensions", None)
    if extensions is None or ("templates" not in extensions and not _has_template_folder(app)):
        return None
    try:
        # NOTE: imported only for an app with templates: `import oakling` stays light.
        from oakling.web.templating import error_page
    except ImportError:  # Jinja2 is not installed: the built-in page
        return None
    return error_page(request, status, context, headers)


def _has_template_folder(app: Any) -> bool:
    # NOTE: the folders of oakling.web.templating.template_folders, without Jinja2.
    folders = [app._folder(folder) for folder in app.settings.template_dirs]
    folders += [c._folder(c.template_folder) for c in app.components if c.template_folder]
    return any(os.path.isdir(folder) for folder in folders)


def _html_page(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None,
    request_id: str | None,
    exc: BaseException | None,
) -> str:
    esc = html.escape
    items = "".join(
        f"<li><code>{esc('.'.join(str(p) for p in e['loc']))}</code>: {esc(str(e['msg']))}</li>"
        for e in errors or []
    )
    error_list = f"<ul>{items}</ul>" if items else ""
    rid = f"<p><small>Request id: {esc(request_id)}</small></p>" if request_id else ""
    trace = ""
    if exc is not None:
        trace = (
            "<h2>Traceback (debug mode only)</h2><pre>"
            + esc("".join(traceback.format_exception(exc)))
            + "</pre>"
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{status} {esc(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:3rem auto;"
        "padding:0 1rem;color:#222}pre{background:#f6f6f6;padding:1rem;overflow:auto}</style>"
        f"</head><body><h1>{status} {esc(title)}</h1><p>{esc(detail)}</p>{error_list}{rid}{trace}"
        "</body></html>"
    )
