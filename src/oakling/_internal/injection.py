"""Handler injection: a signature analysed once, then filled from each request.

``analyse(fn)`` reads the parameters and their annotations at registration and
returns a ``Dependant``: one small extractor per parameter. Per request, the
runner loads the body if one is needed, then ``solve_sync`` or ``solve_async``
fills the arguments; every bad value is collected so a 422 lists them all.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Annotated, Any, get_args, get_origin

import msgspec

from oakling._internal.convert import (
    identity as identity_converter,
)
from oakling._internal.convert import (
    is_pydantic,
    is_scalar,
    scalar_converter,
    sequence_item,
    sequence_type,
    strip_optional,
)
from oakling.exceptions import BadRequest, ConfigurationError, ValidationError
from oakling.http.request import Request, _check_depth, validation_error_item
from oakling.params import Body, Cookie, Depends, File, Form, Header, Path, Query

__all__ = (
    "Dependant",
    "RequestContext",
    "analyse",
    "resolve_hints",
    "solve_async",
    "solve_sync",
)

_MISSING: Any = inspect.Parameter.empty


@dataclass(slots=True)
class RequestContext:
    """Per-request state of injection: cached dependencies and pending cleanups."""

    cache: dict[Callable[..., Any], Any] = field(default_factory=dict)
    generators: list[Generator[Any, None, None] | AsyncGenerator[Any, None]] = field(
        default_factory=list
    )
    early: list[Generator[Any, None, None] | AsyncGenerator[Any, None]] = field(
        default_factory=list
    )
    """Generators of ``scope="function"`` dependencies, finished before the response goes."""
    error: BaseException | None = None
    """The handler's exception, thrown into generator dependencies at cleanup."""

    @property
    def has_cleanup(self) -> bool:
        """Whether generator dependencies are waiting to finish."""
        return bool(self.generators)

    @property
    def needs_loop(self) -> bool:
        """Whether an async generator dependency is waiting to finish."""
        return any(isinstance(g, AsyncGenerator) for g in self.generators)

    def close_sync(self) -> None:
        """Finish sync generator dependencies, newest first, throwing the error into them."""
        exc = self.error
        while self.generators:
            gen = self.generators.pop()
            if isinstance(gen, Generator):
                _finish_generator(gen, exc)

    async def close_async(self, run_sync: Callable[..., Awaitable[Any]] | None = None) -> None:
        """Finish every generator dependency, newest first, throwing the error into them.

        Sync generators finish through ``run_sync`` (the thread pool) when given.
        """
        exc = self.error
        while self.generators:
            gen = self.generators.pop()
            if isinstance(gen, Generator):
                if run_sync is None:
                    _finish_generator(gen, exc)
                else:
                    await run_sync(_finish_generator, gen, exc)
                continue
            await _finish_async_generator(gen, exc)

    def finish_early_sync(self, exc: Exception | None) -> Exception | None:
        """Finish function-scoped generators, newest first; return the error that stands.

        ``exc`` (the handler's error, or ``None``) is thrown in at each ``yield``; an
        exception a generator raises instead (a failed commit) replaces it.
        """
        while self.early:
            gen = self.early.pop()
            try:
                _finish_generator(gen, exc)  # type: ignore[arg-type]
            except Exception as raised:
                exc = raised
        self.error = exc
        return exc

    async def finish_early_async(
        self, exc: Exception | None, run_sync: Callable[..., Awaitable[Any]]
    ) -> Exception | None:
        """``finish_early_sync`` with an event loop: sync generators go through ``run_sync``."""
        while self.early:
            gen = self.early.pop()
            try:
                if isinstance(gen, Generator):
                    await run_sync(_finish_generator, gen, exc)
                else:
                    await _finish_async_generator(gen, exc)
            except Exception as raised:
                exc = raised
        self.error = exc
        return exc


async def _finish_async_generator(
    gen: AsyncGenerator[Any, None], exc: BaseException | None
) -> None:
    try:
        if exc is None:
            await gen.__anext__()
        else:
            await gen.athrow(exc)
    except StopAsyncIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    raise RuntimeError(f"Dependency {gen!r} yielded more than once")


def _finish_generator(gen: Generator[Any, None, None], exc: BaseException | None) -> None:
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    raise RuntimeError(f"Dependency {gen!r} yielded more than once")


@dataclass(slots=True)
class Param:
    """One analysed parameter."""

    name: str
    source: str
    key: str
    annotation: Any
    default: Any
    convert: Callable[[str], Any] | None = None
    many: bool = False
    container: type = list
    dependant: Dependant | None = None
    use_cache: bool = True
    early: bool = False
    """A generator dependency finished before the response is sent (``scope="function"``)."""
    guard: bool = False
    """Run for its effect only (``@guard``): its result is not passed on."""
    decode: Callable[[Request], Any] | None = None
    extract: Callable[[Request, list[dict[str, Any]]], Any] | None = None
    """The compiled extractor (set by ``analyse``); ``None`` for dependencies."""

    @property
    def required(self) -> bool:
        """Whether a value must be sent."""
        return self.default is _MISSING


@dataclass(slots=True)
class Dependant:
    """A callable analysed once: its parameters and how to call it."""

    call: Callable[..., Any]
    params: list[Param]
    is_async: bool
    is_generator: bool
    is_async_generator: bool
    body: str | None = None
    """What the runner reads before solving: ``"form"`` (form fields or files), ``"any"``
    (a body model, from JSON or a form) or ``None``."""
    any_async: bool = False
    """The call or any dependency below it is async (needs an event loop)."""
    extractors: tuple[tuple[str, Callable[[Request, list[dict[str, Any]]], Any]], ...] = ()
    """``(name, extract)`` for each parameter, when there is no dependency."""
    has_deps: bool = False
    """Some parameter is a dependency (its own parameters are solved with it)."""
    path_only: bool = False
    """Every parameter is a path parameter: call with the matched params directly."""


def resolve_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolve ``fn``'s parameter annotations (an unresolvable return one is ignored)."""
    target = fn if inspect.isroutine(fn) or not callable(fn) else type(fn).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError:
        pass
    # NOTE: the return annotation (or one of a local class) may not resolve; only the
    # parameters matter here, so resolve them one by one, closure variables included.
    raw = dict(getattr(inspect.unwrap(target), "__annotations__", {}))
    raw.pop("return", None)
    namespace = {**getattr(target, "__globals__", {})}
    namespace.update(_caller_locals())
    with contextlib.suppress(TypeError, ValueError):
        namespace.update(inspect.getclosurevars(target).nonlocals)
    hints: dict[str, Any] = {}
    for name, annotation in raw.items():
        try:
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except NameError as exc:
            raise ConfigurationError(
                f"Cannot resolve the annotation of parameter {name!r} of "
                f"{getattr(fn, '__qualname__', fn)!r}: {exc}. Define the type at module level "
                "(or import it outside TYPE_CHECKING)."
            ) from None
    return hints


def _caller_locals(depth: int = 4) -> dict[str, Any]:
    # NOTE: a handler declared inside a function (tests, app factories) may annotate with
    # names local to that function or its callers; look in the first frames outside
    # oakling, the innermost winning.
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("oakling."):
        frame = frame.f_back  # type: ignore[assignment]
    found: list[dict[str, Any]] = []
    while frame is not None and len(found) < depth:
        found.append(frame.f_locals)
        frame = frame.f_back  # type: ignore[assignment]
    merged: dict[str, Any] = {}
    for local_vars in reversed(found):
        merged.update(local_vars)
    return merged


def analyse(
    fn: Callable[..., Any],
    path_params: frozenset[str] = frozenset(),
    *,
    request_types: tuple[type, ...] = (Request,),
) -> Dependant:
    """Analyse ``fn``'s signature into a ``Dependant``.

    Raises:
        ConfigurationError: A parameter cannot be injected (unknown source, two bodies...).
    """
    hints = resolve_hints(fn)
    params = [
        _guard_param(fn, index, dependency, path_params, request_types)
        for index, dependency in enumerate(getattr(fn, "__oakling_guards__", ()))
    ]
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, Any)
        params.append(_param(fn, parameter, annotation, path_params, request_types))
    unwrapped = inspect.unwrap(fn)
    dependant = Dependant(
        call=fn,
        params=params,
        is_async=inspect.iscoroutinefunction(unwrapped)
        or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004
        ),
        is_generator=inspect.isgeneratorfunction(unwrapped),
        is_async_generator=inspect.isasyncgenfunction(unwrapped),
    )
    _summarise(dependant)
    return dependant


def _summarise(dependant: Dependant) -> None:
    bodies = [p.name for p in dependant.params if p.source == "body"]
    if len(bodies) > 1:
        raise ConfigurationError(
            f"{_where(dependant.call)} has {len(bodies)} body parameters ({', '.join(bodies)}); "
            "a request has one body: wrap them in one model, or read fields with Form()"
        )
    sources = {p.source for p in dependant.params}
    body = "form" if sources & {"form", "file"} else ("any" if "body" in sources else None)
    any_async = dependant.is_async or dependant.is_async_generator
    for param in dependant.params:
        sub = param.dependant
        if sub is not None:
            any_async = any_async or sub.any_async
            if sub.body == "form" or (sub.body == "any" and body is None):
                body = sub.body
    dependant.body = body
    dependant.any_async = any_async
    dependant.has_deps = any(p.dependant is not None for p in dependant.params)
    for param in dependant.params:
        if param.dependant is None:
            param.extract = _compile(param)
    if not dependant.has_deps:
        dependant.extractors = tuple((p.name, p.extract) for p in dependant.params if p.extract)
    dependant.path_only = all(p.source == "path" and p.convert is None for p in dependant.params)


def _markers(annotation: Any) -> tuple[Any, list[Any]]:
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        meta = [e for e in extras if isinstance(e, msgspec.Meta)]
        markers = [e for e in extras if not isinstance(e, msgspec.Meta)]
        if meta:
            base = Annotated[(base, *meta)]
        return base, markers
    return annotation, []


def _param(  # noqa: C901
    fn: Callable[..., Any],
    parameter: inspect.Parameter,
    annotation: Any,
    path_params: frozenset[str],
    request_types: tuple[type, ...],
) -> Param:
    name, default = parameter.name, parameter.default
    base, markers = _markers(annotation)
    marker = markers[0] if markers else None
    depends_for = getattr(marker, "__oakling_depends_for__", None)
    if depends_for is not None:
        # NOTE: a marker that picks its provider by the annotated type, such as
        # oakling.db.Database("name") on a Session or an AsyncSession.
        marker = depends_for(base)
    if isinstance(default, Depends):
        marker, default = default, _MISSING
    if marker is None and isinstance(base, type):
        provider = getattr(base, "__oakling_depends__", None)
        if isinstance(provider, Depends):
            marker = provider
    if isinstance(marker, Depends):
        sub = analyse(marker.dependency, path_params, request_types=request_types)
        return Param(
            name,
            "depends",
            name,
            base,
            default,
            dependant=sub,
            use_cache=marker.use_cache,
            early=marker.scope == "function",
        )
    if isinstance(base, type) and issubclass(base, request_types):
        return Param(name, "request", name, base, default)
    alias = getattr(marker, "alias", None)
    if isinstance(marker, Path) or (marker is None and name in path_params):
        if name not in path_params:
            raise ConfigurationError(
                f"{_where(fn)}: parameter {name!r} is marked Path() but the route path "
                f"has no {{{name}}}"
            )
        return Param(name, "path", name, base, default, convert=_path_convert(base))
    if isinstance(marker, Header):
        return _scalar_param(fn, name, "header", alias or name.replace("_", "-"), base, default)
    if isinstance(marker, Cookie):
        return _scalar_param(fn, name, "cookie", alias or name, base, default)
    if isinstance(marker, Query):
        return _scalar_param(fn, name, "query", alias or name, base, default)
    if isinstance(marker, Form):
        return _scalar_param(fn, name, "form", alias or name, base, default)
    from oakling.http.multipart import UploadFile

    inner = strip_optional(base)[0]
    many = get_origin(inner) in (list, tuple) and UploadFile in get_args(inner)
    if isinstance(marker, File) or inner is UploadFile or many:
        if strip_optional(base)[1] and default is _MISSING:
            default = None
        return Param(name, "file", alias or name, base, default, many=many)
    if isinstance(marker, Body) or not (is_scalar(base) or sequence_item(base) is not None):
        return _body_param(name, base, default)
    return _scalar_param(fn, name, "query", alias or name, base, default)


def _guard_param(
    fn: Callable[..., Any],
    index: int,
    dependency: Any,
    path_params: frozenset[str],
    request_types: tuple[type, ...],
) -> Param:
    marker = dependency if isinstance(dependency, Depends) else Depends(dependency)
    if not callable(marker.dependency):
        raise ConfigurationError(f"{_where(fn)}: guard {dependency!r} is not callable")
    sub = analyse(marker.dependency, path_params, request_types=request_types)
    return Param(
        f"guard {index}",
        "depends",
        f"guard {index}",
        Any,
        _MISSING,
        dependant=sub,
        use_cache=marker.use_cache,
        early=marker.scope == "function",
        guard=True,
    )


def _where(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"


def _path_convert(tp: Any) -> Callable[[str], Any] | None:
    # NOTE: the route's converter (explicit or inferred from this annotation) already gave
    # the value its type; other annotations (enums, Literal, constrained ints) convert here.
    inner = strip_optional(tp)[0]
    if inner in (Any, str, int, float) or getattr(inner, "__name__", "") == "UUID":
        return None
    return scalar_converter(tp)


def _scalar_param(
    fn: Callable[..., Any], name: str, source: str, key: str, tp: Any, default: Any
) -> Param:
    item = sequence_item(tp)
    if item is not None:
        return Param(
            name,
            source,
            key,
            tp,
            default,
            convert=scalar_converter(item),
            many=True,
            container=sequence_type(tp),
        )
    if not is_scalar(tp):
        raise ConfigurationError(
            f"{_where(fn)}: parameter {name!r} ({source}) has type {tp!r}, which cannot be "
            "read from text; use a scalar type, a list of scalars, or Body()"
        )
    if strip_optional(tp)[1] and default is _MISSING:
        default = None
    return Param(name, source, key, tp, default, convert=scalar_converter(tp))


def _body_param(name: str, tp: Any, default: Any) -> Param:
    if is_pydantic(tp):
        return Param(name, "body", "json", tp, default, decode=_pydantic_decoder(tp))
    decoder = msgspec.json.Decoder(tp)
    list_fields = _list_fields(tp)

    def decode(request: Request) -> Any:
        form = request._form
        if form is not None:
            return _from_form(form, tp, list_fields)
        body = request._body or b""
        _check_depth(body, request.limits.max_json_depth)
        return decoder.decode(body)

    return Param(name, "body", "json", tp, default, decode=decode)


def _list_fields(tp: Any) -> frozenset[str]:
    try:
        info = msgspec.inspect.type_info(tp)
    except (TypeError, ValueError):
        return frozenset()
    fields = getattr(info, "fields", ())
    return frozenset(
        f.encode_name
        for f in fields
        if isinstance(
            f.type,
            (msgspec.inspect.ListType | msgspec.inspect.SetType, msgspec.inspect.VarTupleType),
        )
    )


def _from_form(form: Any, tp: Any, list_fields: frozenset[str]) -> Any:
    data: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        data[key] = values if key in list_fields or len(values) > 1 else values[-1]
    return msgspec.convert(data, tp, strict=False, dec_hook=_keep_object)


def _keep_object(tp: type, obj: Any) -> Any:
    if isinstance(obj, tp):
        return obj
    raise NotImplementedError


def _pydantic_decoder(tp: Any) -> Callable[[Request], Any]:
    def decode(request: Request) -> Any:
        form = request._form
        if form is not None:
            return tp.model_validate({k: form.getlist(k)[-1] for k in form})
        body = request._body or b""
        _check_depth(body, request.limits.max_json_depth)
        return tp.model_validate_json(body)

    return decode


# -- per request --------------------------------------------------------------------------


Extract = Callable[[Request, list[dict[str, Any]]], Any]


def _compile(param: Param) -> Extract:
    """Build the extractor of one parameter: a closure with nothing left to decide."""
    source = param.source
    if source == "request":
        return lambda request, errors: request
    if source == "path" and param.convert is None:
        name = param.name
        return lambda request, errors: request.scope["path_params"][name]
    if source == "query" and not param.many and param.convert is not None:
        return _compile_query(param)
    return functools.partial(_extract, param)


def _compile_query(param: Param) -> Extract:
    key, convert, default = param.key, param.convert, param.default
    required = param.required
    identity = convert is identity_converter
    assert convert is not None

    def extract(request: Request, errors: list[dict[str, Any]]) -> Any:
        raw = request.query.get(key)
        if raw is None:
            if required:
                errors.append({"loc": ["query", key], "msg": "Field required", "type": "missing"})
                return None
            return default
        if identity:
            return raw
        try:
            return convert(raw)
        except ValueError as exc:
            errors.append({"loc": ["query", key], "msg": str(exc), "type": "invalid"})
            return None

    return extract


def _raw_value(param: Param, request: Request) -> Any:
    source = param.source
    if source == "query":
        query = request.query
        return query.getlist(param.key) if param.many else query.get(param.key)
    if source == "header":
        headers = request.headers
        return headers.getlist(param.key) if param.many else headers.get(param.key)
    if source == "cookie":
        return request.cookies.get(param.key)
    form = request._form
    if form is None:
        return None
    return form.getlist(param.key) if param.many else form.get(param.key)


def _extract(param: Param, request: Request, errors: list[dict[str, Any]]) -> Any:
    source = param.source
    if source == "path":
        value = request.scope["path_params"][param.name]
        if param.convert is not None:
            try:
                return param.convert(value)
            except ValueError as exc:
                errors.append({"loc": ["path", param.name], "msg": str(exc), "type": "invalid"})
        return value
    if source == "request":
        return request
    if source == "body":
        return _extract_body(param, request, errors)
    raw = _raw_value(param, request)
    if raw is None or (param.many and not raw):
        if param.required:
            errors.append({"loc": [source, param.key], "msg": "Field required", "type": "missing"})
        return None if param.default is _MISSING else param.default
    if source == "file" or param.convert is None:
        return _unconverted(param, raw, errors)
    try:
        if param.many:
            values = [param.convert(item) for item in raw]
            return values if param.container is list else param.container(values)
        if source == "form" and not isinstance(raw, str):
            raise ValueError("Expected a text field, got a file")
        return param.convert(raw)
    except ValueError as exc:
        errors.append({"loc": [source, param.key], "msg": str(exc), "type": "invalid"})
        return None


def _unconverted(param: Param, raw: Any, errors: list[dict[str, Any]]) -> Any:
    if param.source != "file":
        return raw
    # NOTE: a text field sent where a file is expected must not reach the handler as a str.
    from oakling.http.multipart import UploadFile

    items = raw if param.many else (raw,)
    if all(isinstance(item, UploadFile) for item in items):
        return raw
    errors.append(
        {
            "loc": ["file", param.key],
            "msg": "Expected a file upload, got a text field",
            "type": "invalid",
        }
    )
    return None


def _extract_body(param: Param, request: Request, errors: list[dict[str, Any]]) -> Any:
    if request._form is None and not request._body:
        if param.required:
            errors.append({"loc": ["body"], "msg": "Field required", "type": "missing"})
            return None
        return param.default
    assert param.decode is not None
    try:
        return param.decode(request)
    except msgspec.ValidationError as exc:
        errors.append(validation_error_item(str(exc), "body"))
    except msgspec.DecodeError as exc:
        raise BadRequest(f"Malformed JSON in request body: {exc}") from None
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        pydantic_errors = getattr(exc, "errors", None)
        if pydantic_errors is None:
            raise BadRequest(f"Malformed request body: {exc}") from None
        for item in pydantic_errors():
            if item.get("type") == "json_invalid":
                raise BadRequest(f"Malformed JSON in request body: {item['msg']}") from None
            errors.append({"loc": ["body", *item["loc"]], "msg": item["msg"], "type": item["type"]})
    return None


def solve_sync(dependant: Dependant, request: Request, context: RequestContext) -> dict[str, Any]:
    """Fill ``dependant``'s arguments without an event loop (sync dependencies only).

    Raises:
        ValidationError: One or more parameters were missing or invalid.
    """
    errors: list[dict[str, Any]] = []
    kwargs = _solve_sync(dependant, request, context, errors)
    if errors:
        raise ValidationError(errors)
    return kwargs


def _solve_sync(
    dependant: Dependant, request: Request, context: RequestContext, errors: list[dict[str, Any]]
) -> dict[str, Any]:
    if not dependant.has_deps:
        return {name: extract(request, errors) for name, extract in dependant.extractors}
    kwargs: dict[str, Any] = {}
    for param in dependant.params:
        sub = param.dependant
        if sub is None:
            kwargs[param.name] = param.extract(request, errors)  # type: ignore[misc]
            continue
        if param.use_cache and sub.call in context.cache:
            value = context.cache[sub.call]
        else:
            sub_kwargs = _solve_sync(sub, request, context, errors)
            if errors:
                continue
            value = sub.call(**sub_kwargs)
            if sub.is_generator:
                (context.early if param.early else context.generators).append(value)
                value = next(value)
            if param.use_cache:
                context.cache[sub.call] = value
        if not param.guard:
            kwargs[param.name] = value
    return kwargs


async def solve_async(
    dependant: Dependant,
    request: Request,
    context: RequestContext,
    run_sync: Callable[..., Any],
) -> dict[str, Any]:
    """Fill ``dependant``'s arguments, awaiting async dependencies.

    Sync dependencies that are not generators run through ``run_sync`` (a thread
    pool under ASGI) so they may block.

    Raises:
        ValidationError: One or more parameters were missing or invalid.
    """
    errors: list[dict[str, Any]] = []
    kwargs = await _solve_async(dependant, request, context, errors, run_sync)
    if errors:
        raise ValidationError(errors)
    return kwargs


async def _solve_async(
    dependant: Dependant,
    request: Request,
    context: RequestContext,
    errors: list[dict[str, Any]],
    run_sync: Callable[..., Any],
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for param in dependant.params:
        sub = param.dependant
        if sub is None:
            kwargs[param.name] = param.extract(request, errors)  # type: ignore[misc]
            continue
        if param.use_cache and sub.call in context.cache:
            value = context.cache[sub.call]
        else:
            sub_kwargs = await _solve_async(sub, request, context, errors, run_sync)
            if errors:
                continue
            value = await _call_dependency(sub, sub_kwargs, context, run_sync, early=param.early)
            if param.use_cache:
                context.cache[sub.call] = value
        if not param.guard:
            kwargs[param.name] = value
    return kwargs


async def _call_dependency(
    sub: Dependant,
    kwargs: dict[str, Any],
    context: RequestContext,
    run_sync: Callable[..., Any],
    *,
    early: bool,
) -> Any:
    pending = context.early if early else context.generators
    if sub.is_async_generator:
        agen = sub.call(**kwargs)
        pending.append(agen)
        return await agen.__anext__()
    if sub.is_generator:
        gen = sub.call(**kwargs)
        pending.append(gen)
        return await run_sync(next, gen)
    if sub.is_async:
        return await sub.call(**kwargs)
    return await run_sync(sub.call, **kwargs)
