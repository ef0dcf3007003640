"""Running one request through an endpoint: hooks, injection, handler, errors.

The async runner serves ASGI (and WSGI endpoints that need a loop); the sync
runner serves WSGI with no event loop in the way. Both share everything that
is not a call or an await: error lookup, response conversion, logging.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from oakling._internal.endpoint import Endpoint, to_response
from oakling._internal.injection import RequestContext, solve_async, solve_sync
from oakling.errors import error_response
from oakling.exceptions import (
    ClientDisconnected,
    HTTPError,
    UnsupportedMediaType,
    ValidationError,
    as_http_error,
)
from oakling.http.response import Response

if TYPE_CHECKING:
    from oakling.http.request import Request

__all__ = (
    "NO_DEPS",
    "default_error_response",
    "find_error_handler",
    "handle_error_async",
    "handle_error_sync",
    "load_body_async",
    "load_body_sync",
    "respond_async",
    "respond_sync",
)

logger = logging.getLogger("oakling.error")

RunSync = Callable[..., Awaitable[Any]]
NO_DEPS = RequestContext()  # never written to: used only by dependants without dependencies
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def find_error_handler(
    endpoint: Endpoint | None,
    exc: BaseException,
    app_handlers: dict[Any, Any],
    *,
    fallback: bool = True,
) -> Callable[..., Any] | None:
    """Find the handler for ``exc``: by status first, then by class; components first.

    With ``fallback``, an exception that is not an ``HTTPError`` may go to a 500 handler.
    """
    tables = list(endpoint.hooks.error_handlers) if endpoint is not None else [app_handlers]
    status = exc.status_code if isinstance(exc, HTTPError) else None
    for table in tables:
        if not table:
            continue
        if status is not None and status in table:
            return table[status]
        for cls in type(exc).__mro__:
            if cls in table:
                return table[cls]
    if status is None and fallback:
        # NOTE: an unhandled exception is a 500: @errorhandler(500) renders it (Flask).
        for table in tables:
            if 500 in table:
                return table[500]
    return None


def _error_and_handler(
    endpoint: Endpoint | None, exc: Exception, app_handlers: dict[Any, Any]
) -> tuple[Exception, Callable[..., Any] | None]:
    # NOTE: a handler for the exception's own class wins; else a battery may know which
    # HTTP error it means (a unique violation is a 409), handled as that error.
    handler = find_error_handler(endpoint, exc, app_handlers, fallback=False)
    if handler is None:
        exc = as_http_error(exc) or exc
        handler = find_error_handler(endpoint, exc, app_handlers)
    return exc, handler


def default_error_response(request: Request, exc: BaseException, debug: bool) -> Response:
    """The built-in response for ``exc``: its status for HTTP errors, 500 otherwise."""
    accept = request.header("accept")
    rid = request.request_id
    if isinstance(exc, HTTPError):
        errors = exc.errors if isinstance(exc, ValidationError) else None
        return error_response(
            exc.status_code,
            exc.detail,
            accept=accept,
            headers=exc.headers,
            errors=errors,
            request_id=rid,
            request=request,
        )
    log_unhandled(request, exc)
    return error_response(
        500,
        "The server hit an unexpected error; it has been logged"
        + (f" with request id {rid}" if rid else "")
        + ".",
        accept=accept,
        request_id=rid,
        exc=exc if debug else None,
        request=request,
    )


def log_unhandled(request: Request, exc: BaseException) -> None:
    """Log an unhandled exception once, with the request id."""
    logger.error(
        "Unhandled %s in %s %s (request id %s)",
        type(exc).__name__,
        request.scope.get("method"),
        request.scope.get("path"),
        request.request_id,
        exc_info=exc,
    )


# -- body ---------------------------------------------------------------------------------


def _body_action(request: Request, kind: str) -> str:
    content_type = request.content_type
    if content_type in _FORM_TYPES:
        return "form"
    if kind == "form":
        if not _has_body(request):
            return "none"
        raise UnsupportedMediaType(
            f"Content-Type {content_type or '(none)'!r} is not a form; this endpoint reads "
            "application/x-www-form-urlencoded or multipart/form-data"
        )
    if content_type in ("", "application/json") or content_type.endswith("+json"):
        return "body"
    raise UnsupportedMediaType(
        f"Content-Type {content_type!r} is not supported by this endpoint; send "
        "application/json, application/x-www-form-urlencoded or multipart/form-data"
    )


def _has_body(request: Request) -> bool:
    headers = request.headers
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


# -- the async runner -------------------------------------------------------------------


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _call_sync(endpoint: Endpoint, request: Request, context: RequestContext) -> Any:
    kwargs = solve_sync(endpoint.dependant, request, context)
    return endpoint.handler(**kwargs)


async def respond_async(
    endpoint: Endpoint,
    request: Request,
    run_sync: RunSync,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> tuple[Response, RequestContext | None]:
    """Run ``endpoint`` for ``request`` with an event loop; never raises for app errors."""
    hooks = endpoint.hooks
    dependant = endpoint.dependant
    context = RequestContext() if dependant.has_deps or not dependant.is_async else None
    response: Response | None = None
    error: BaseException | None = None
    try:
        for fn in hooks.before:
            response = await _maybe_await(fn(request))
            if response is not None:
                response = to_response(response)
                break
        if response is None:
            if dependant.body is not None or endpoint.reads_body_for_request:
                await load_body_async(endpoint, request)
            result = await _produce_async(endpoint, request, context, run_sync)
            response = endpoint.to_response(result)
            if context is not None and context.early:  # NOTE: no coroutine per request
                await _finish_early_async(context, None, run_sync)
    except Exception as exc:  # the one place every handler error becomes a response
        error = await _finish_early_async(context, exc, run_sync)
        response = await handle_error_async(endpoint, request, error, app_handlers, debug)
    except BaseException as exc:  # cancelled: still finish the dependencies now
        if context is not None and context.has_cleanup:
            context.error = exc
            await context.close_async(run_sync)
        raise
    if not hooks.empty:
        response = await _after_async(endpoint, request, response, error, app_handlers, debug)
    return response, context


async def _finish_early_async(
    context: RequestContext | None, exc: Exception | None, run_sync: RunSync
) -> Exception:
    # NOTE: after success, an error of a function-scoped dependency (a failed commit) is
    # raised to become the response; after a handler error, the one that stands is returned
    # (and recorded for the request-scoped cleanups).
    if context is None:
        return exc  # type: ignore[return-value]
    if context.early:
        failed = await context.finish_early_async(exc, run_sync)
        if exc is None and failed is not None:
            raise failed
        exc = failed or exc
    if exc is not None:
        context.error = exc
    return exc  # type: ignore[return-value]


async def _produce_async(
    endpoint: Endpoint, request: Request, context: RequestContext | None, run_sync: RunSync
) -> Any:
    dependant = endpoint.dependant
    if dependant.path_only:
        return await _call_async(endpoint, request.scope["path_params"], run_sync)
    if context is None:
        # NOTE: async, no dependencies: nothing here can block, extract on the loop.
        return await endpoint.handler(**solve_sync(dependant, request, NO_DEPS))
    if dependant.any_async:
        kwargs = await solve_async(dependant, request, context, run_sync)
        return await _call_async(endpoint, kwargs, run_sync)
    return await run_sync(_call_sync, endpoint, request, context)


async def _after_async(
    endpoint: Endpoint,
    request: Request,
    response: Response,
    error: BaseException | None,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> Response:
    for fn in endpoint.hooks.after:
        try:
            result = await _maybe_await(fn(request, response))
        except Exception as exc:
            error = exc
            response = await handle_error_async(endpoint, request, exc, app_handlers, debug)
            break
        if result is not None:
            response = to_response(result)
    for fn in endpoint.hooks.teardown:
        try:
            await _maybe_await(fn(request, error))
        except Exception as exc:
            log_unhandled(request, exc)
    return response


async def load_body_async(endpoint: Endpoint, request: Request) -> None:
    """Read the body (or form) the endpoint's parameters need, before solving them."""
    kind = endpoint.dependant.body
    if kind is not None:
        action = _body_action(request, kind)
        if action == "form":
            await request.form()
        elif action == "body":
            await request.body()
    elif endpoint.reads_body_for_request:
        # NOTE: a sync handler cannot await the body: read it now (a GET's is empty).
        await request.preload()


async def _call_async(endpoint: Endpoint, kwargs: dict[str, Any], run_sync: RunSync) -> Any:
    if endpoint.dependant.is_async:
        return await endpoint.handler(**kwargs)
    return await run_sync(endpoint.handler, **kwargs)


async def handle_error_async(
    endpoint: Endpoint | None,
    request: Request,
    exc: Exception,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> Response:
    if isinstance(exc, ClientDisconnected):
        return Response(None, 499)
    exc, handler = _error_and_handler(endpoint, exc, app_handlers)
    if handler is not None:
        try:
            return _with_error_headers(to_response(await _maybe_await(handler(request, exc))), exc)
        except Exception as handler_exc:
            return default_error_response(request, handler_exc, debug)
    return default_error_response(request, exc, debug)


def _with_error_headers(response: Response, exc: Exception) -> Response:
    # NOTE: Allow, Retry-After, WWW-Authenticate... belong to the error, whoever renders it.
    if isinstance(exc, HTTPError) and exc.headers:
        headers = response.headers
        for key, value in exc.headers.items():
            if key not in headers:
                headers[key] = value
    return response


# -- the sync runner (WSGI) -------------------------------------------------------------


def respond_sync(
    endpoint: Endpoint,
    request: Request,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> tuple[Response, RequestContext | None]:
    """Run ``endpoint`` for ``request`` without an event loop; the twin of ``respond_async``.

    Only for endpoints whose handler, dependencies, hooks and error handlers are all sync.
    """
    hooks = endpoint.hooks
    context: RequestContext | None = None
    response: Response | None = None
    error: BaseException | None = None
    try:
        for fn in hooks.before:
            response = fn(request)
            if response is not None:
                response = to_response(response)
                break
        if response is None:
            load_body_sync(endpoint, request)
            if endpoint.dependant.path_only:
                result = endpoint.handler(**request.scope["path_params"])
            else:
                context = RequestContext()
                result = _call_sync(endpoint, request, context)
            response = endpoint.to_response(result)
            if context is not None and context.early:
                failed = context.finish_early_sync(None)
                if failed is not None:
                    raise failed
    except Exception as exc:
        error = exc
        if context is not None:
            if context.early:
                error = context.finish_early_sync(exc) or exc
            context.error = error
        response = handle_error_sync(endpoint, request, error, app_handlers, debug)
    if not hooks.empty:
        response = _after_sync(endpoint, request, response, error, app_handlers, debug)
    return response, context


def _after_sync(
    endpoint: Endpoint,
    request: Request,
    response: Response,
    error: BaseException | None,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> Response:
    for fn in endpoint.hooks.after:
        try:
            result = fn(request, response)
        except Exception as exc:
            error = exc
            response = handle_error_sync(endpoint, request, exc, app_handlers, debug)
            break
        if result is not None:
            response = to_response(result)
    for fn in endpoint.hooks.teardown:
        try:
            fn(request, error)
        except Exception as exc:
            log_unhandled(request, exc)
    return response


def load_body_sync(endpoint: Endpoint, request: Request) -> None:
    """Read the body (or form) the endpoint's parameters need, blocking."""
    kind = endpoint.dependant.body
    if kind is not None:
        action = _body_action(request, kind)
        if action == "form":
            request.read_form()
        elif action == "body":
            request.read_body()


def handle_error_sync(
    endpoint: Endpoint | None,
    request: Request,
    exc: Exception,
    app_handlers: dict[Any, Any],
    debug: bool,
) -> Response:
    if isinstance(exc, ClientDisconnected):
        return Response(None, 499)
    exc, handler = _error_and_handler(endpoint, exc, app_handlers)
    if handler is not None:
        try:
            return _with_error_headers(to_response(handler(request, exc)), exc)
        except Exception as handler_exc:
            return default_error_response(request, handler_exc, debug)
    return default_error_response(request, exc, debug)
