"""The WSGI side: the same app served by gunicorn, and bridges between ASGI and WSGI.

Sync endpoints run directly in the WSGI worker thread. Endpoints that need an
event loop (async handlers, async dependencies or hooks) run on a loop kept per
thread. An app with ASGI middleware runs entirely through the ASGI chain.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from oakling._internal.dispatch import (
    NO_DEPS,
    default_error_response,
    handle_error_async,
    handle_error_sync,
    load_body_sync,
    log_unhandled,
    respond_async,
    respond_sync,
)
from oakling._internal.endpoint import Endpoint, to_response
from oakling._internal.hosts import PROCESS_ID, new_request_id, request_counter
from oakling._internal.injection import solve_sync
from oakling.exceptions import BadRequest, HTTPError
from oakling.http.request import Request
from oakling.http.response import Response, status_line, wsgi_headers
from oakling.logs import log_access

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Iterator

    from oakling._internal.injection import RequestContext
    from oakling._types import Message, Receive, Scope, Send, StartResponse, WSGIApp, WSGIEnviron
    from oakling.app import App
    from oakling.http.limits import Limits
    from oakling.web.security import SecurityHeaders

__all__ = ("WSGIAdapter", "call_asgi_from_wsgi", "call_wsgi_from_asgi", "is_asgi_app")

T = TypeVar("T")
_local = threading.local()


def is_asgi_app(app: Any) -> bool:
    """Guess whether ``app`` speaks ASGI (an async callable) rather than WSGI."""
    from oakling.app import App

    if isinstance(app, App):
        return True
    call = app if inspect.isroutine(app) else type(app).__call__
    return inspect.iscoroutinefunction(call)


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on this thread's own event loop."""
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


async def _call_directly(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class WSGIScope(dict[str, Any]):
    """An ASGI-style scope over a WSGI environ.

    ``headers`` and ``raw_path`` are built on first use (``scope["headers"]``): most
    requests never need all of them.
    """

    __slots__ = ("environ",)

    environ: WSGIEnviron

    def __missing__(self, key: str) -> Any:
        if key == "headers":
            value: Any = _headers_from_environ(self.environ)
        elif key == "raw_path":
            value = _raw_path(self.environ)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _headers_from_environ(environ: WSGIEnviron) -> list[tuple[bytes, bytes]]:
    headers = [
        (key[5:].replace("_", "-").lower().encode("latin-1"), value.encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    content_type = environ.get("CONTENT_TYPE")
    if content_type:
        headers.append((b"content-type", content_type.encode("latin-1")))
    content_length = environ.get("CONTENT_LENGTH")
    if content_length:
        headers.append((b"content-length", content_length.encode("latin-1")))
    return headers


def _raw_path(environ: WSGIEnviron) -> bytes:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return bytes(raw.encode("latin-1").split(b"?", 1)[0])
    path = environ.get("SCRIPT_NAME", "") + (environ.get("PATH_INFO", "") or "/")
    return quote(path.encode("latin-1"), safe="/").encode("ascii")


def scope_from_environ(environ: WSGIEnviron) -> Scope:
    """Build an ASGI-style HTTP scope from a WSGI environ.

    A path that is not UTF-8 is replaced by ``/`` and flagged with
    ``scope["oakling.bad_path"]``: the caller answers 400.
    """
    scope = WSGIScope()
    scope.environ = environ
    script_name = environ.get("SCRIPT_NAME", "")
    path = script_name + (environ.get("PATH_INFO", "") or "/")
    if not path.isascii():
        try:
            path = path.encode("latin-1").decode("utf-8")
            script_name = script_name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            path, script_name = "/", ""
            scope["oakling.bad_path"] = True
    remote_port = environ.get("REMOTE_PORT")
    server_port = environ.get("SERVER_PORT")
    scope["type"] = "http"
    scope["method"] = environ["REQUEST_METHOD"]
    scope["scheme"] = environ.get("wsgi.url_scheme", "http")
    scope["path"] = path
    scope["root_path"] = script_name
    scope["query_string"] = environ.get("QUERY_STRING", "").encode("latin-1")
    scope["http_version"] = environ.get("SERVER_PROTOCOL", "HTTP/1.1")[5:] or "1.1"
    scope["client"] = (environ.get("REMOTE_ADDR", ""), int(remote_port) if remote_port else 0)
    scope["server"] = (
        environ.get("SERVER_NAME", "localhost"),
        int(server_port) if server_port and server_port.isdigit() else None,
    )
    host = environ.get("HTTP_HOST")
    if host is not None:
        scope["oakling.host"] = host
    if environ.get("oakling.testing"):
        scope["oakling.testing"] = True
    return scope


class WSGIAdapter:
    """Serves an ``App`` as a WSGI application."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._checked = False
        self._lock = threading.Lock()
        self._sync_ok: dict[int, bool] = {}
        self._stack: Any = None
        self._chain: WSGIApp | None = None

    def _prepare(self, environ: WSGIEnviron) -> None:
        app = self.app
        if not self._checked:
            self.startup(testing=bool(environ.get("oakling.testing")))
        if app._stack is None or app._stack is not self._stack:
            self._stack = app.asgi_app
            self._chain = _wsgi_chain(self, app.middleware) if app.middleware else None
            native = not app.middleware or self._chain is not None
            self._sync_ok = {
                id(e): _runs_without_loop(e) and native
                for e in (*app.endpoints, *app._router_endpoints)
            }

    def startup(self, *, testing: bool = False) -> None:
        """Check settings, run start-up hooks and enter the lifespan (once).

        WSGI has no lifespan protocol: this runs before the first request, on that
        thread's event loop, and ``shutdown`` runs when the process exits.
        """
        with self._lock:
            if self._checked:
                return
            if not self.app._started:
                run_coroutine(self.app.startup(testing=testing))
                atexit.register(self.shutdown)
                # NOTE: granian's WSGI workers exit without running atexit handlers;
                # multiprocessing's finalizers run there too.
                from multiprocessing.util import Finalize

                Finalize(self, self.shutdown, exitpriority=10)
            self._checked = True

    def shutdown(self) -> None:
        """Leave the lifespan and run shutdown hooks (once)."""
        with self._lock:
            if self.app._started:
                run_coroutine(self.app.shutdown())
            self._checked = False

    def __call__(  # noqa: C901 - the WSGI hot path, kept in one piece on purpose
        self, environ: WSGIEnviron, start_response: StartResponse
    ) -> Iterable[bytes]:
        """Serve one WSGI request."""
        self._prepare(environ)
        app = self.app
        if app.middleware and environ.get("oakling.wsgi_inner") is not self:
            if self._chain is not None:
                return self._chain(environ, start_response)
            return call_asgi_from_wsgi(app, environ, start_response, app.limits)
        scope = scope_from_environ(environ)
        scope["app"] = app
        settings = app.settings
        started = time.perf_counter() if settings.access_log else 0.0
        if app.proxies is not None:
            app.proxies.apply(scope)
        if not settings.request_id:
            request_id = None
        elif (sent_id := environ.get("HTTP_X_REQUEST_ID")) is None:
            request_id = b"%s%06x" % (PROCESS_ID, next(request_counter))
        else:
            request_id = new_request_id(sent_id)
        scope["oakling.request_id"] = request_id
        request = Request(scope, None, limits=app.limits, wsgi_input=environ.get("wsgi.input"))
        context: RequestContext | None = None
        security = app._security
        try:
            route = _resolve(app, scope)
            if app._route_web:
                route, security = app._route_web_answer(scope, route)
        except HTTPError as exc:
            response = self._router_answer(request, exc)
        else:
            # NOTE: an unsafe method carrying the session cookie must pass the CSRF check.
            unsafe = scope["method"] not in _SAFE_METHODS
            if (
                route.__class__ is Endpoint
                and route.fast_sync
                and (not unsafe or not _has_cookie(environ, app._csrf_marker))
            ):
                response = _call_fast_sync(app, route, request)
            elif isinstance(route, Endpoint):
                refusal = self._guard(route, request) if unsafe else None
                if refusal is None:
                    response, context = self._respond(route, request)
                else:
                    response = refusal
            elif isinstance(route, Response | HTTPError):
                response = self._router_answer(request, route)
            else:
                return self._to_mount(route, environ, start_response)
        extra = security.wsgi_http
        if security.dynamic and (scope["scheme"] == "https" or security.templates):
            https = scope["scheme"] == "https"
            extra = (
                _as_str(security.for_scope(scope, https))
                if security.templates
                else security.wsgi_https
            )
        if request._session is not None:
            response, extra = self._save_session(request, response, extra)
        if request_id is not None:
            extra = (*extra, ("x-request-id", request_id.decode()))
        # NOTE: the headers go on the list given to the server, never on the response
        # object, which may be shared between requests.
        if response.__class__.to_wsgi is _WHOLE_TO_WSGI:
            raw = response.raw_headers
            names = security.names
            for key, _value in raw:
                if key in names:
                    # NOTE: a header the response sets itself wins over the default.
                    present = {name.decode("latin-1") for name, _ in raw}
                    extra = tuple(header for header in extra if header[0] not in present)
                    break
            headers = wsgi_headers(raw)
            headers.extend(extra)
            start_response(status_line(response.status_code), headers)
            body: Iterable[bytes] = [] if scope["method"] == "HEAD" else [response.body]
        else:
            if extra:
                start_response = _adding_headers(start_response, extra, security)
            body = response.to_wsgi(environ, start_response)
        if context is None and request._form is None and not settings.access_log:
            return body

        def finish() -> None:
            try:
                _cleanup(context)
            except Exception as exc:  # a dependency's cleanup failed: log it, go on
                log_unhandled(request, exc)
            finally:
                request.release()
                if settings.access_log:
                    log_access(scope, response.status_code, started)

        return _on_close(body, finish, environ.get("wsgi.file_wrapper"))

    def _guard(self, endpoint: Endpoint, request: Request) -> Response | None:
        """Run the CSRF check; a refusal is the response."""
        app = self.app
        try:
            if app._csrf_marker is not None and app.csrf.needed(request, endpoint.handler):
                app.csrf.check_sync(request)
        except Exception as exc:  # a refusal (403) or a bad body (400)
            return self._error(endpoint, request, exc)
        return None

    def _save_session(
        self, request: Request, response: Response, extra: tuple[tuple[str, str], ...]
    ) -> tuple[Response, tuple[tuple[str, str], ...]]:
        """Save a session that changed; return the response and the headers to add."""
        session = request._session
        assert session is not None
        try:
            added = self.app.sessions.save(request, session)
        except Exception as exc:  # too big for a cookie (500, logged) or store down (503)
            return self._error(None, request, exc), extra
        return response, (*extra, *_as_str(tuple(added)))

    def _error(self, endpoint: Endpoint | None, request: Request, exc: Exception) -> Response:
        app = self.app
        # NOTE: rare; on this thread's loop, so async error handlers work too.
        return run_coroutine(
            handle_error_async(endpoint, request, exc, app.error_handlers, app.debug)
        )

    def _router_answer(self, request: Request, answer: Response | HTTPError) -> Response:
        app = self.app
        endpoint = app._router_endpoints[1]
        if endpoint.hooks.empty:
            if isinstance(answer, Response):
                return answer
            return handle_error_sync(None, request, answer, app.error_handlers, app.debug)
        request.scope["oakling.answer"] = answer
        return self._respond(endpoint, request)[0]

    def _respond(
        self, endpoint: Endpoint, request: Request
    ) -> tuple[Response, RequestContext | None]:
        app = self.app
        if self._sync_ok.get(id(endpoint), False):
            return respond_sync(endpoint, request, app.error_handlers, app.debug)
        return run_coroutine(
            respond_async(endpoint, request, _call_directly, app.error_handlers, app.debug)
        )

    def _to_mount(
        self, mount: tuple[str, Any, bool], environ: WSGIEnviron, start_response: StartResponse
    ) -> Iterable[bytes]:
        prefix, target, is_asgi = mount
        child = dict(environ)
        script = environ.get("SCRIPT_NAME", "")
        child["SCRIPT_NAME"] = script + prefix
        child["PATH_INFO"] = environ.get("PATH_INFO", "")[len(prefix) :]
        from oakling.app import App

        if isinstance(target, App):
            return target.wsgi(child, start_response)
        if is_asgi:
            return call_asgi_from_wsgi(target, child, start_response, self.app.limits)
        result: Iterable[bytes] = target(child, start_response)
        return result


def _wsgi_chain(
    adapter: WSGIAdapter, middleware: list[tuple[Callable[..., Any], dict[str, Any]]]
) -> WSGIApp | None:
    # NOTE: a middleware class with a `wrap_wsgi(wsgi_app, **options)` twin (CORS) runs
    # natively under WSGI; if any lacks one, the whole chain goes through the ASGI bridge.
    wrappers = [getattr(cls, "wrap_wsgi", None) for cls, _ in middleware]
    if not all(callable(wrap) for wrap in wrappers):
        return None

    def inner(environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        environ["oakling.wsgi_inner"] = adapter
        return adapter(environ, start_response)

    chain: WSGIApp = inner
    for (_, options), wrap in zip(reversed(middleware), reversed(wrappers), strict=True):
        chain = wrap(chain, **options)
    return chain


def _adding_headers(
    start_response: StartResponse, extra: tuple[tuple[str, str], ...], security: SecurityHeaders
) -> StartResponse:
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        names = security.names
        for key, _value in headers:
            if key.lower().encode("latin-1") in names:
                # NOTE: a header the response sets itself wins over the default.
                headers.extend(security.merge_wsgi(headers, extra))
                break
        else:
            headers.extend(extra)
        return start_response(status, headers, exc_info)

    return start


def _has_cookie(environ: WSGIEnviron, marker: bytes | None) -> bool:
    cookie = environ.get("HTTP_COOKIE")
    return marker is not None and cookie is not None and marker.decode("latin-1") in cookie


def _as_str(headers: tuple[tuple[bytes, bytes], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_WHOLE_TO_WSGI = Response.to_wsgi


def _call_fast_sync(app: App, endpoint: Endpoint, request: Request) -> Response:
    # NOTE: a sync handler with no hooks or dependencies: read its body if it has one,
    # call it, nothing else.
    dependant = endpoint.dependant
    try:
        if dependant.path_only:
            result = endpoint.handler(**request.scope["path_params"])
        else:
            if dependant.body is not None:
                load_body_sync(endpoint, request)
            result = endpoint.handler(**solve_sync(dependant, request, NO_DEPS))
        return result if isinstance(result, Response) else to_response(result, endpoint.status)
    except Exception as exc:  # every handler error becomes a response
        return handle_error_sync(endpoint, request, exc, app.error_handlers, app.settings.debug)


def _resolve(app: App, scope: Scope) -> Endpoint | Response | HTTPError | tuple[str, Any, bool]:
    if "oakling.bad_path" in scope:
        raise BadRequest("The request path is not valid UTF-8")
    return app.resolve(scope)


def _on_close(body: Iterable[bytes], finish: Callable[[], None], wrapper: Any) -> Iterable[bytes]:
    """Make the server's ``close()`` of ``body`` also run ``finish``."""
    if isinstance(wrapper, type) and isinstance(body, wrapper):
        # NOTE: keep the server's own file wrapper so it can use sendfile().
        close = getattr(body, "close", None)

        def close_then_finish() -> None:
            try:
                if close is not None:
                    close()
            finally:
                finish()

        body.close = close_then_finish  # type: ignore[attr-defined]
        return body
    return _Closing(body, finish)


def _cleanup(context: RequestContext | None) -> None:
    if context is not None and context.has_cleanup:
        if context.needs_loop:
            run_coroutine(context.close_async())
        else:
            context.close_sync()


def _runs_without_loop(endpoint: Endpoint) -> bool:
    hooks = endpoint.hooks
    funcs = [*hooks.before, *hooks.after, *hooks.teardown]
    funcs += [fn for table in hooks.error_handlers for fn in table.values()]
    return not endpoint.dependant.any_async and not any(
        inspect.iscoroutinefunction(fn) for fn in funcs
    )


class _Closing:
    """A WSGI body that runs ``on_close`` when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.on_close()


# -- bridges ------------------------------------------------------------------------------


def call_asgi_from_wsgi(
    asgi_app: Any, environ: WSGIEnviron, start_response: StartResponse, limits: Limits
) -> Iterable[bytes]:
    """Serve a WSGI request with an ASGI app on this thread's loop (response buffered)."""
    scope = scope_from_environ(environ)
    stream = environ.get("wsgi.input")
    request = Request(scope, None, limits=limits, wsgi_input=stream)
    chunks = request.iter_body(limits.max_upload_size) if stream is not None else iter(())
    started: dict[str, Any] = {}
    body: list[bytes] = []
    state = {"body_done": False}
    done = asyncio.Event()

    async def receive() -> Message:
        if state["body_done"]:
            # NOTE: like a server: after the body, wait until the response is over.
            await done.wait()
            return {"type": "http.disconnect"}
        chunk = next(chunks, None)
        if chunk is None:
            state["body_done"] = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    async def run() -> None:
        try:
            await asgi_app(scope, receive, send)
        finally:
            done.set()

    try:
        run_coroutine(run())
    except HTTPError as exc:
        response = default_error_response(request, exc, False)
        return response.to_wsgi(environ, start_response)
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in started.get("headers", [])]
    start_response(status_line(started.get("status", 500)), headers)
    return body


async def call_wsgi_from_asgi(
    wsgi_app: Any,
    scope: Scope,
    receive: Receive,
    send: Send,
    run_sync: Callable[..., Any],
    limits: Limits,
) -> None:
    """Serve an ASGI request with a WSGI app in the thread pool (request body buffered)."""
    import io

    request = Request(scope, receive, limits=limits)
    try:
        body = b"".join([chunk async for chunk in request.stream(limits.max_upload_size)])
    except HTTPError as exc:
        await default_error_response(request, exc, False)(scope, receive, send)
        return
    environ = environ_from_scope(scope, io.BytesIO(body))
    status_headers: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        status_headers[:] = [status, headers]
        return lambda data: None

    def run() -> list[bytes]:
        result = wsgi_app(environ, start_response)
        try:
            return list(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    chunks = await run_sync(run)
    status, headers = status_headers
    await send(
        {
            "type": "http.response.start",
            "status": int(status.split(" ", 1)[0]),
            "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": b"".join(chunks)})


def environ_from_scope(scope: Scope, body: Any) -> WSGIEnviron:
    """Build a WSGI environ from an ASGI HTTP scope (for a mounted WSGI app)."""
    root = scope.get("root_path", "")
    path = scope["path"]
    path_info = path[len(root) :] if path.startswith(root) else path
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: WSGIEnviron = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path_info.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for key, value in scope["headers"]:
        name = key.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = text
        else:
            name = "HTTP_" + name
            environ[name] = f"{environ[name]},{text}" if name in environ else text
    return environ
