"""The application: routes, components, hooks, middleware and lifespan in one ASGI app.

``App`` is an ASGI 3 application; ``app.wsgi`` is the same application as a WSGI
callable. Routes are compiled at registration; hooks, error handlers and the
middleware chain are compiled once, at start-up (or on the first request).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote_to_bytes

from oakling._internal.dispatch import (
    NO_DEPS,
    handle_error_async,
    load_body_async,
    log_unhandled,
    respond_async,
)
from oakling._internal.endpoint import Endpoint, Hooks, to_response
from oakling._internal.hosts import (
    PROCESS_ID,
    HostValidator,
    ProxyResolver,
    new_request_id,
    request_counter,
)
from oakling._internal.injection import analyse, solve_sync
from oakling.component import Component, normalise_prefix
from oakling.config import INSECURE_SECRET_KEYS, Settings
from oakling.exceptions import (
    BadRequest,
    ConfigurationError,
    HTTPError,
    MethodNotAllowed,
    NotFound,
)
from oakling.http.datastructures import State
from oakling.http.request import Request
from oakling.http.response import RedirectResponse, Response
from oakling.logs import log_access
from oakling.routing.converters import Converter, converter_for_annotation
from oakling.routing.route import path_param_names
from oakling.routing.router import Router
from oakling.scaffold import RouteDef, Scaffold

if TYPE_CHECKING:
    from os import PathLike

    from oakling._types import ASGIApp, Message, Receive, Scope, Send, WSGIApp
    from oakling.web.csrf import CSRFProtection
    from oakling.web.security import SecurityHeaders
    from oakling.web.sessions import SessionManager
    from oakling.wsgi import WSGIAdapter

__all__ = ("App",)

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["App"], AbstractAsyncContextManager[Any]]


class App(Scaffold):
    """An oakling application.

    Args:
        settings: The settings; default: read from ``OAKLING_*`` variables and ``.env``.
        debug: Shortcut that overrides ``settings.debug``.
        lifespan: An async context manager factory ``lifespan(app)`` run around serving.
        middleware: ASGI middleware as ``(cls, options)`` pairs, outermost first.
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        debug: bool | None = None,
        lifespan: Lifespan | None = None,
        middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__()
        settings = settings if settings is not None else Settings.from_env()
        if debug is not None:
            settings = dataclasses.replace(settings, debug=debug)
        self.settings = settings
        self.state = State()
        self.extensions: dict[str, Any] = {}
        """Per-app state of batteries and extensions, by name (``"db"``, ``"templates"``...)."""
        self.router: Router[Endpoint] = Router()
        self.ws_router: Router[Endpoint] = Router()
        self.mounts: list[tuple[str, Any, bool]] = []
        self.middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = list(
            middleware or []
        )
        self.startup_funcs: list[Callable[[], Any]] = []
        self.shutdown_funcs: list[Callable[[], Any]] = []
        self.lifespan = lifespan
        self.endpoints: list[Endpoint] = []
        self.components: list[Component] = []
        self.ws_endpoints = 0
        self._stack: ASGIApp | None = None
        self._wsgi: WSGIAdapter | None = None
        self._executor: Any = None  # a ThreadPoolExecutor, made on first use
        self._exit_stack: AsyncExitStack | None = None
        self._started = False
        self._direct = False
        self._router_endpoints: tuple[Endpoint, Endpoint] = (
            _answer_endpoint(_give_answer_async, Hooks()),
            _answer_endpoint(_give_answer, Hooks()),
        )
        self._sessions: SessionManager | None = None
        self._csrf: CSRFProtection | None = None
        self._configure()
        self.on_change(self._invalidate)

    def _configure(self) -> None:
        settings = self.settings
        self.limits = settings.limits
        # NOTE: DESIGN: the Host header is validated outside debug (a dev server is
        # reached by LAN addresses and tunnels); `oakling check --deploy` flags the rest.
        self.hosts = HostValidator(("*",) if settings.debug else settings.allowed_hosts)
        self.proxies = ProxyResolver(settings.trusted_proxies) if settings.trusted_proxies else None
        from oakling.web.security import SecurityHeaders

        # NOTE: encoded once; the hot path only picks a tuple and appends it.
        self._security = SecurityHeaders(settings)
        self._view_security: dict[int, SecurityHeaders] = {}
        self._https_redirect = settings.secure_ssl_redirect
        marker = (settings.session_cookie_name + "=").encode("latin-1")
        self._csrf_marker = marker if settings.csrf_enabled else None
        self._preload_sessions = False
        self._route_web = self._https_redirect

    @property
    def sessions(self) -> SessionManager:
        """Loads and saves ``request.session`` (``oakling.web.sessions``); made on first use.

        Set ``app.sessions.store`` to any ``SessionStore`` before serving to keep
        sessions somewhere the ``session_backend`` setting does not offer.
        """
        if self._sessions is None:
            from oakling.web.sessions import SessionManager

            self._sessions = SessionManager(self.settings, app=self)
            self.on_shutdown(self._sessions.aclose)
        return self._sessions

    @property
    def csrf(self) -> CSRFProtection:
        """The CSRF check (``oakling.web.csrf``); made on first use."""
        if self._csrf is None:
            from oakling.web.csrf import CSRFProtection

            self._csrf = CSRFProtection(self.settings)
        return self._csrf

    @property
    def debug(self) -> bool:
        """Whether the app runs in debug mode (tracebacks in error pages)."""
        return self.settings.debug

    # -- registration --------------------------------------------------------------------

    def _register(self, route: RouteDef) -> None:
        self._add_endpoint(route, "", "", ())

    def _add_endpoint(
        self, route: RouteDef, prefix: str, namespace: str, chain: tuple[Component, ...]
    ) -> None:
        path = prefix + route.path if route.path != "/" or not prefix else prefix + "/"
        name = f"{namespace}{route.name}"
        declared = path_param_names(path)
        dependant = analyse(route.handler, frozenset(declared))
        inferred: dict[str, str] = {}
        for param in dependant.params:
            if param.source == "path" and declared.get(param.name) is None:
                conv = converter_for_annotation(param.annotation)
                if conv is not None:
                    inferred[param.name] = conv
        endpoint = Endpoint(
            handler=route.handler,
            dependant=dependant,
            name=name,
            path=path,
            status=route.status,
            components=chain,
            websocket=route.websocket,
            reads_body_for_request=not dependant.is_async and _takes_request(dependant),
        )
        router = self.ws_router if route.websocket else self.router
        if route.websocket:
            self.ws_endpoints += 1
        router.add(path, endpoint, list(route.methods), name, inferred)
        self.endpoints.append(endpoint)
        self._invalidate()

    def register_converter(self, name: str, converter: type[Converter]) -> None:
        """Add a path converter usable as ``{param:name}`` in routes registered after this."""
        self.router.register_converter(name, converter)
        self.ws_router.register_converter(name, converter)

    def include(self, component: Component, *, prefix: str | None = None) -> None:
        """Add a component's routes under ``prefix`` (default: the component's own prefix).

        Route names get the component's name as namespace: ``url_for("blog.post")``.
        """
        if component in self.components:
            raise ConfigurationError(f"Component {component.name!r} is already included")
        base = normalise_prefix(component.prefix if prefix is None else prefix)
        self._include(component, base, component.name + ".", (component,))

    def _include(
        self, component: Component, prefix: str, namespace: str, chain: tuple[Component, ...]
    ) -> None:
        self.components.append(component)
        if component.static_folder is not None:
            from oakling.web.static import static_files

            static_files(self).add_component(component)

        def add(route: RouteDef) -> None:
            self._add_endpoint(route, prefix, namespace, chain)

        for route in component.routes:
            add(route)

        def include_child(child: Component, child_prefix: str) -> None:
            self._include(
                child, prefix + child_prefix, f"{namespace}{child.name}.", (*chain, child)
            )

        component.on_route(add)
        component.on_include(include_child)
        component.on_change(self._invalidate)
        for child, child_prefix in component.children:
            include_child(child, child_prefix)
        component.attached(self)

    def mount(self, prefix: str, app: Any, *, name: str | None = None) -> None:
        """Serve another ASGI or WSGI app (an oakling ``App`` included) under ``prefix``."""
        prefix = normalise_prefix(prefix)
        if not prefix:
            raise ConfigurationError("mount() needs a prefix such as '/legacy'")
        from oakling.wsgi import is_asgi_app

        self.mounts.append((prefix, app, is_asgi_app(app)))
        self.mounts.sort(key=lambda m: -len(m[0]))
        self._invalidate()

    def static(self, url_path: str | None = None, folder: str | PathLike[str] = "static") -> None:
        """Serve the files of ``folder`` at ``url_path`` (default ``settings.static_url``).

        ``folder`` is relative to the app's module folder (``root_path``). Call it
        again to add folders searched after the first ones (same ``url_path``).
        Components' static folders are served under ``<url_path>/<component name>/``.
        See ``oakling.web.static`` for what is refused, caching and ``collectstatic``.

        Raises:
            ConfigurationError: ``url_path`` differs from the one already in use.
        """
        from oakling.web.static import static_files

        static_files(self, url_path).add_folder(self._folder(folder))

    def add_middleware(self, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in an ASGI middleware; the last added is the outermost."""
        self.middleware.insert(0, (middleware, options))
        self._invalidate()

    def on_startup(self, fn: F) -> F:
        """Run ``fn()`` (sync or async) when the server starts."""
        self.startup_funcs.append(fn)
        return fn

    def on_shutdown(self, fn: F) -> F:
        """Run ``fn()`` (sync or async) when the server stops."""
        self.shutdown_funcs.append(fn)
        return fn

    def _invalidate(self) -> None:
        self._stack = None
        self._direct = False

    def url_for(self, name: str, /, **params: Any) -> str:
        """Return the path of route ``name``; params not in the path go in the query string.

        Raises:
            NoRouteFound: No route has that name, or the params do not fit its path.
        """
        try:
            return self.router.url_path_for(name, params)
        except LookupError:
            if name in {e.name for e in self.endpoints if e.websocket}:
                return self.ws_router.url_path_for(name, params)
            raise

    # -- compile -------------------------------------------------------------------------

    def _build(self) -> ASGIApp:
        from oakling.web.security import SecurityHeaders, overrides_of

        settings = self.settings
        # NOTE: a server-side session is fetched (awaited) before an async handler that
        # may read it, so `request.session` never blocks the loop: not the fast path.
        self._preload_sessions = server_side = settings.session_backend != "cookie" or (
            self._sessions is not None and self._sessions.server_side
        )
        self._view_security = {}
        for endpoint in self.endpoints:
            endpoint.hooks = self._hooks_for(endpoint.components)
            endpoint.fast = _is_fast(endpoint)
            endpoint.fast_sync = _is_fast(endpoint, sync=True)
            if getattr(endpoint.handler, "__oakling_csrf__", None) == "always" and (
                settings.csrf_enabled
            ):
                endpoint.fast = endpoint.fast_sync = False
            elif server_side and _takes_request(endpoint.dependant):
                endpoint.fast = False
            overrides = overrides_of(endpoint.handler)
            if overrides:
                self._view_security[id(endpoint)] = SecurityHeaders(settings, overrides)
        self._route_web = self._https_redirect or bool(self._view_security)
        self._router_endpoints = (
            _answer_endpoint(_give_answer_async, self._hooks_for(())),
            _answer_endpoint(_give_answer, self._hooks_for(())),
        )
        stack: ASGIApp = self._dispatch
        for cls, options in reversed(self.middleware):
            stack = cls(stack, **options)
        self._stack = stack
        self._direct = not self.middleware
        return stack

    def _hooks_for(self, chain: tuple[Component, ...]) -> Hooks:
        # NOTE: before-hooks run app first (outermost), after/teardown innermost first;
        # error handlers are looked up innermost first, the app's last.
        scopes: list[Scaffold] = [self, *chain]
        return Hooks(
            before=[fn for s in scopes for fn in s.before_request_funcs],
            after=[fn for s in reversed(scopes) for fn in s.after_request_funcs],
            teardown=[fn for s in reversed(scopes) for fn in s.teardown_request_funcs],
            error_handlers=[s.error_handlers for s in reversed(scopes)],
        )

    @property
    def asgi_app(self) -> ASGIApp:
        """The compiled ASGI chain (middleware around the dispatcher)."""
        return self._stack or self._build()

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: C901
        """Serve one ASGI connection (http, websocket or lifespan)."""
        if scope["type"] != "http" or not (self._direct or scope.get("oakling.inner") is self):
            stack = self._stack or self._build()
            await stack(scope, receive, send)
            return
        # NOTE: the hot path, inlined here to save a coroutine per request. Every line
        # runs for every request: keep calls and allocations out; rare cases go to helpers.
        scope["app"] = self
        settings = self.settings
        started = time.perf_counter() if settings.access_log else 0.0
        if self.proxies is not None:
            self.proxies.apply(scope)
        host = sent_id = None
        hosts_sent = 0
        for key, value in scope["headers"]:
            if key == b"host":
                host = value
                hosts_sent += 1
            elif key == b"x-request-id":
                sent_id = value
        if not settings.request_id:
            request_id = None
        elif sent_id is None:
            request_id = b"%s%06x" % (PROCESS_ID, next(request_counter))
        else:
            request_id = new_request_id(sent_id)
        scope["oakling.request_id"] = request_id
        # NOTE: a path-only handler never needs the Request object; it is made only
        # when something asks for it (parameters, hooks, errors).
        request: Request | None = None
        context = None
        security = self._security
        try:
            if hosts_sent > 1:
                # NOTE: RFC 9112 §3.2: several Host headers are a 400 (and a spoofing trick).
                raise BadRequest("The request has several Host headers")
            route = self.resolve(scope, host)
            if self._route_web:
                # NOTE: rare settings (HTTPS redirect, per-route headers): one test when off.
                route, security = self._route_web_answer(scope, route)
        except HTTPError as exc:
            request = Request(scope, receive, limits=self.limits)
            response = await self._router_answer(request, exc)
        else:
            # NOTE: an unsafe method carrying the session cookie must pass the CSRF check:
            # the slow path; everything else pays one method test.
            if (
                route.__class__ is Endpoint
                and route.fast
                and (
                    scope["method"] in _SAFE_METHODS
                    or not _has_cookie(scope["headers"], self._csrf_marker)
                )
            ):
                endpoint: Endpoint = route
                try:
                    dependant = endpoint.dependant
                    if dependant.path_only:
                        result = await endpoint.handler(**scope["path_params"])
                    else:
                        request = Request(scope, receive, limits=self.limits)
                        if dependant.body is not None:
                            await load_body_async(endpoint, request)
                        kwargs = solve_sync(dependant, request, NO_DEPS)
                        result = await endpoint.handler(**kwargs)
                    response = (
                        result
                        if isinstance(result, Response)
                        else to_response(result, endpoint.status)
                    )
                except Exception as exc:  # every handler error becomes a response
                    request = request or Request(scope, receive, limits=self.limits)
                    response = await handle_error_async(
                        endpoint, request, exc, self.error_handlers, settings.debug
                    )
            else:
                request = Request(scope, receive, limits=self.limits)
                if isinstance(route, Endpoint):
                    refusal = None
                    if self._preload_sessions or scope["method"] not in _SAFE_METHODS:
                        refusal = await self._guard_async(route, request)
                    if refusal is None:
                        response, context = await respond_async(
                            route, request, self.run_sync, self.error_handlers, settings.debug
                        )
                    else:
                        response = refusal
                elif isinstance(route, Response | HTTPError):
                    response = await self._router_answer(request, route)
                else:
                    await self._to_mount(route, scope, receive, send)
                    return
        extra = security.http
        if security.dynamic and (scope.get("scheme") == "https" or security.templates):
            extra = security.for_scope(scope, scope.get("scheme") == "https")
        if request is not None and request._session is not None:
            response, extra = await self._save_session_async(request, response, extra)
        try:
            if response.__class__.__call__ is _SEND_WHOLE:
                headers = response.raw_headers
                names = security.names
                for key, _value in headers:
                    if key in names:
                        # NOTE: a header the response sets itself wins over the default.
                        extra = security.merge(headers, extra)
                        break
                # NOTE: a new list: the response object may be shared between requests.
                if request_id is not None:
                    headers = [*headers, *extra, (b"x-request-id", request_id)]
                elif extra:
                    headers = [*headers, *extra]
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status_code,
                        "headers": headers,
                    }
                )
                body = b"" if scope["method"] == "HEAD" else response.body
                await send({"type": "http.response.body", "body": body})
            else:
                if request_id is not None:
                    extra = (*extra, (b"x-request-id", request_id))
                if extra:
                    send = _adding_headers(send, extra, security)
                await response(scope, receive, send)
        finally:
            try:
                if context is not None and context.has_cleanup:
                    await context.close_async(self.run_sync)
            except Exception as exc:  # a dependency's cleanup failed: log it, go on
                log_unhandled(request or Request(scope, receive), exc)
            finally:
                if request is not None and request._form is not None:
                    request.release()
                if settings.access_log:
                    log_access(scope, response.status_code, started)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # NOTE: inside the middleware chain: back to __call__'s hot path.
            scope["oakling.inner"] = self
            await self(scope, receive, send)
        elif kind == "websocket":
            from oakling.http.websocket import serve_websocket

            await serve_websocket(self, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)

    async def _router_answer(self, request: Request, answer: Response | HTTPError) -> Response:
        # NOTE: 404/405/400, OPTIONS and slash redirects still pass through the app's
        # hooks and error handlers, as in Flask; with no hooks, no detour.
        endpoint = self._router_endpoints[0]
        if endpoint.hooks.empty:
            if isinstance(answer, Response):
                return answer
            return await handle_error_async(
                None, request, answer, self.error_handlers, self.settings.debug
            )
        request.scope["oakling.answer"] = answer
        response, _ = await respond_async(
            endpoint, request, self.run_sync, self.error_handlers, self.settings.debug
        )
        return response

    def resolve(
        self, scope: Scope, host: bytes | None = None
    ) -> Endpoint | Response | HTTPError | tuple[str, Any, bool]:
        """Find what serves an HTTP request: an endpoint, a ready response, an error, or a mount.

        ``host`` is the raw Host header when the caller has it at hand. Sets
        ``scope["path_params"]``. Returns ``HTTPError`` for 404/405/426 and raises it
        for a 400 (bad Host or path).
        """
        hosts = self.hosts
        if not (
            hosts.allow_all
            or (host and "oakling.host" not in scope and hosts._seen_raw.get(host))
            or hosts.allows_scope(scope)
        ):
            shown = _host_header(scope)
            raise BadRequest(
                f"Invalid Host header {shown[:100]!r}: add it to the allowed hosts "
                "(OAKLING_ALLOWED_HOSTS) if this app should answer to it"
            )
        path: str = scope["path"]
        if scope.get("root_path") or "\x00" in path or b"%" in scope.get("raw_path", b""):
            path = _route_path(scope)
        method = scope["method"]
        hit = self.router.find(method, path)
        if hit is not None:
            scope["path_params"] = hit[1] or {}
            return hit[0]
        match = self.router.lookup(method, path)
        if match is not None:
            if match.endpoint is not None:
                scope["path_params"] = match.params or {}
                return match.endpoint
            if match.allow is not None:
                if method == "OPTIONS":
                    return Response(None, 204, {"Allow": match.allow})
                return MethodNotAllowed(match.allow.split(", "))
            if match.redirect is not None:
                return _slash_redirect(scope, match.redirect)
        for prefix, app, is_asgi in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return (prefix, app, is_asgi)
        if self.ws_endpoints and self.ws_router.lookup("GET", path) is not None:
            return HTTPError(
                426,
                "This is a websocket route: connect with a websocket client "
                "(and serve the app over ASGI; WSGI has no websockets)",
                headers={"Upgrade": "websocket"},
            )
        # NOTE: returned, not raised: a 404 is common and raising costs.
        return NotFound(f"No route for {method} {path[:200]}")

    async def _to_mount(
        self, mount: tuple[str, Any, bool], scope: Scope, receive: Receive, send: Send
    ) -> None:
        prefix, app, is_asgi = mount
        child = dict(scope)
        child.pop("oakling.inner", None)
        child["root_path"] = scope.get("root_path", "") + prefix
        if is_asgi:
            await app(child, receive, send)
            return
        from oakling.wsgi import call_wsgi_from_asgi

        await call_wsgi_from_asgi(app, child, receive, send, self.run_sync, self.limits)

    async def run_sync(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking function in the app's thread pool (context variables kept)."""
        executor = self._executor
        if executor is None:
            from concurrent.futures import ThreadPoolExecutor

            executor = self._executor = ThreadPoolExecutor(
                self.settings.thread_pool_size, thread_name_prefix="oakling-sync"
            )
        import asyncio  # already loaded by the server; kept out of `import oakling`

        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
        return await loop.run_in_executor(executor, ctx.run, call)

    # -- web: HTTPS redirect, CSRF, sessions --------------------------------------------

    def _route_web_answer(
        self, scope: Scope, route: Endpoint | Response | HTTPError | tuple[str, Any, bool]
    ) -> tuple[Endpoint | Response | HTTPError | tuple[str, Any, bool], SecurityHeaders]:
        """Apply the HTTPS redirect and pick the route's own security headers."""
        security = self._view_security.get(id(route), self._security)
        if self._https_redirect and scope.get("scheme", "http") == "http":
            from oakling.web.security import https_redirect

            redirect = https_redirect(scope, self.settings.secure_redirect_exempt)
            if redirect is not None:
                return redirect, self._security
        return route, security

    async def _guard_async(self, endpoint: Endpoint, request: Request) -> Response | None:
        """Load a server-side session and run the CSRF check; a refusal is the response."""
        try:
            if self._preload_sessions and request._session is None:
                sessions = self.sessions
                if sessions.sent_cookie(request):
                    request._session = await sessions.aload(request)
            if self._csrf_marker is not None and self.csrf.needed(request, endpoint.handler):
                await self.csrf.check_async(request, keep_body=endpoint.reads_body_for_request)
        except Exception as exc:  # a refusal (403) or a store that is down (503)
            return await handle_error_async(
                endpoint, request, exc, self.error_handlers, self.settings.debug
            )
        return None

    async def _save_session_async(
        self, request: Request, response: Response, extra: tuple[tuple[bytes, bytes], ...]
    ) -> tuple[Response, tuple[tuple[bytes, bytes], ...]]:
        """Save a session that changed; return the response and the headers to add."""
        session = request._session
        assert session is not None
        try:
            added = await self.sessions.asave(request, session)
        except Exception as exc:  # too big for a cookie (500, logged) or store down (503)
            response = await handle_error_async(
                None, request, exc, self.error_handlers, self.settings.debug
            )
            return response, extra
        return response, (*extra, *added)

    # -- lifespan ------------------------------------------------------------------------

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        try:
            state = await self.startup(testing=bool(scope.get("oakling.testing")))
            if state and isinstance(scope.get("state"), dict):
                scope["state"].update(state)
        except BaseException as exc:
            logging.getLogger("oakling.error").error("Start-up failed: %s", exc, exc_info=exc)
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await self.shutdown()
        except BaseException as exc:
            await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})

    def check(self, *, testing: bool = False) -> None:
        """Check the configuration before serving.

        Raises:
            ConfigurationError: Outside debug, the secret key is missing or well known.
        """
        settings = self.settings
        if settings.debug or testing:
            return
        if settings.secret_key is None or settings.secret_key.strip().lower() in (
            INSECURE_SECRET_KEYS
        ):
            raise ConfigurationError(
                "SECRET_KEY is not set (or is a well-known default) and debug is off. "
                "Set OAKLING_SECRET_KEY to a long random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
                "or set OAKLING_DEBUG=1 for local development."
            )

    async def startup(self, *, testing: bool = False) -> dict[str, Any]:
        """Check settings, compile, run start-up hooks and enter the lifespan."""
        self.check(testing=testing)
        self._build()
        for _prefix, mounted, _is_asgi in self.mounts:
            if isinstance(mounted, App) and not mounted._started:
                await mounted.startup(testing=testing)
        for fn in self.startup_funcs:
            result = fn()
            if isinstance(result, Awaitable):
                await result
        state: dict[str, Any] = {}
        if self.lifespan is not None:
            self._exit_stack = AsyncExitStack()
            value = await self._exit_stack.enter_async_context(self.lifespan(self))
            if isinstance(value, dict):
                state.update(value)
                for key, item in value.items():
                    setattr(self.state, key, item)
        self._started = True
        return state

    async def shutdown(self) -> None:
        """Leave the lifespan and run shutdown hooks."""
        if self._exit_stack is not None:
            await self._exit_stack.aclose()
            self._exit_stack = None
        for fn in self.shutdown_funcs:
            result = fn()
            if isinstance(result, Awaitable):
                await result
        for _prefix, mounted, _is_asgi in self.mounts:
            if isinstance(mounted, App) and mounted._started:
                await mounted.shutdown()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
        self._started = False

    # -- WSGI ----------------------------------------------------------------------------

    @property
    def wsgi(self) -> WSGIApp:
        """This app as a WSGI callable (sync handlers run with no event loop)."""
        if self._wsgi is None:
            from oakling.wsgi import WSGIAdapter

            self._wsgi = WSGIAdapter(self)
        return self._wsgi

    def __repr__(self) -> str:
        return f"<App routes={len(self.endpoints)} debug={self.debug}>"


_SEND_WHOLE = Response.__call__
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _adding_headers(
    send: Send, extra: tuple[tuple[bytes, bytes], ...], security: SecurityHeaders
) -> Send:
    # NOTE: the headers go on the message, never on the response: it may be shared.
    async def adding(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            message = {**message, "headers": [*headers, *security.merge(headers, extra)]}
        await send(message)

    return adding


def _has_cookie(headers: list[tuple[bytes, bytes]], marker: bytes | None) -> bool:
    # NOTE: a cheap look for `name=` in every Cookie header (HTTP/2 may send several);
    # a false hit only costs the slow path, where the exact check runs.
    # A plain loop: any() over a generator costs several times more.
    if marker is not None:
        for key, value in headers:
            if key == b"cookie" and marker in value:
                return True
    return False


def _give_answer(request: Request) -> Response:
    answer = request.scope.pop("oakling.answer")
    if isinstance(answer, BaseException):
        raise answer
    response: Response = answer
    return response


async def _give_answer_async(request: Request) -> Response:
    return _give_answer(request)


def _answer_endpoint(handler: Callable[..., Any], hooks: Hooks) -> Endpoint:
    return Endpoint(handler, analyse(handler), name="<router>", path="", hooks=hooks)


def _is_fast(endpoint: Endpoint, *, sync: bool = False) -> bool:
    dependant = endpoint.dependant
    if sync:
        # NOTE: under WSGI an async error handler would need a loop: not the fast path.
        handlers = [fn for table in endpoint.hooks.error_handlers for fn in table.values()]
        if any(inspect.iscoroutinefunction(fn) for fn in handlers):
            return False
    return (
        endpoint.hooks.empty
        and dependant.is_async is not sync
        and not dependant.has_deps
        and (sync or not endpoint.reads_body_for_request)
        and not endpoint.websocket
    )


def _takes_request(dependant: Any) -> bool:
    for param in dependant.params:
        if param.source == "request":
            return True
        if param.dependant is not None and _takes_request(param.dependant):
            return True
    return False


def _host_header(scope: Scope) -> str:
    host = scope.get("oakling.host")
    if host is not None:
        return str(host)
    for key, value in scope["headers"]:
        if key == b"host" and value:
            return str(value.decode("latin-1"))
    server = scope.get("server")
    return str(server[0]) if server else ""


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    raw = scope.get("raw_path")
    if raw and b"%" in raw:
        try:
            unquote_to_bytes(raw.split(b"?", 1)[0]).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The request path is not valid UTF-8 after percent-decoding") from None
    if "\x00" in path:
        raise BadRequest("The request path contains a NUL byte")
    return path


def _slash_redirect(scope: Scope, path: str) -> Response:
    root = scope.get("root_path", "")
    query = scope.get("query_string", b"")
    # NOTE: "//evil.com/" would be a protocol-relative URL to another site.
    location = "/" + (root + path).lstrip("/")
    location += "?" + query.decode("latin-1") if query else ""
    return RedirectResponse(location, 308)
