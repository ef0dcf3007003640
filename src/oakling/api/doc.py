"""Per-route and per-component OpenAPI metadata: ``doc()`` and the security schemes.

``doc(...)`` decorates a handler (or a dependency, or marks a Component)::

    @app.get("/items/{id:int}")
    @doc(tags=["items"], responses={404: "No such item"}, security=["bearer"])
    def item(id: int) -> Item: ...

    doc(security=["bearer"], tags=["admin"])(admin)   # every route of the component

Nothing here runs per request: the metadata is read once, when the document is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = (
    "OperationDoc",
    "ResponseDoc",
    "api_key_header",
    "bearer_auth",
    "cookie_auth",
    "doc",
    "doc_of",
)

T = TypeVar("T")
_ATTR = "__oakling_openapi__"


@dataclass(frozen=True, slots=True)
class ResponseDoc:
    """One documented response.

    Args:
        description: What the response means.
        type: The body's type (a Struct, dataclass, TypedDict, pydantic model...);
            ``None`` for no body. For statuses of 400 and more it defaults to the
            problem+json shape the framework sends.
        media_type: The body's media type; default JSON (problem+json for errors).
        headers: Response headers, name → description.
        examples: Named example bodies.
    """

    description: str = ""
    type: Any = None
    media_type: str | None = None
    headers: Mapping[str, str] | None = None
    examples: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OperationDoc:
    """What ``doc()`` attaches to a handler, a dependency or a Component."""

    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    responses: Mapping[int, ResponseDoc] = field(default_factory=dict)
    security: tuple[dict[str, list[str]], ...] | None = None
    deprecated: bool | None = None
    include_in_schema: bool | None = None
    operation_id: str | None = None
    request_examples: Mapping[str, Any] | None = None
    response_examples: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] | None = None

    def merged(self, inner: OperationDoc) -> OperationDoc:
        """Return this (outer) doc overridden by ``inner`` wherever ``inner`` says something."""
        changes: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(inner, name)
            if name == "responses":
                value = {**self.responses, **inner.responses}
            elif name == "extra" and inner.extra is not None:
                value = {**(self.extra or {}), **inner.extra}
            if value is not None:
                changes[name] = value
        return replace(self, **changes)


class _Doc:
    def __init__(self, info: OperationDoc) -> None:
        self.info = info

    def __call__(self, target: T) -> T:
        known = getattr(target, _ATTR, None)
        info = known.merged(self.info) if isinstance(known, OperationDoc) else self.info
        try:
            setattr(target, _ATTR, info)
        except (AttributeError, TypeError):
            raise ConfigurationError(
                f"doc() cannot annotate {target!r}: use it on a function, a View class "
                "or a Component"
            ) from None
        return target


def doc(
    *,
    summary: str | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    responses: Mapping[int, str | ResponseDoc | Any] | None = None,
    security: Sequence[str | Mapping[str, Sequence[str]]] | None = None,
    deprecated: bool | None = None,
    include_in_schema: bool | None = None,
    operation_id: str | None = None,
    request_examples: Mapping[str, Any] | None = None,
    response_examples: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> _Doc:
    """Document a handler, a dependency or a Component in the OpenAPI document.

    Use it as a decorator on a handler (above or below the route decorator), on a
    dependency (its ``security`` and ``responses`` apply to every route using it)
    or call it on a Component (its settings apply to all the component's routes,
    a route's own ``doc`` winning).

    Args:
        summary: A one-line summary; default: the docstring's first line.
        description: Longer text; default: the rest of the docstring.
        tags: Tags; default: the name of the innermost Component.
        responses: Extra responses by status: a description, a type (the body), or a
            ``ResponseDoc``. Error statuses default to the problem+json shape.
        security: Security requirements, as scheme names (``["bearer"]``) or
            ``{"oauth": ["scope"]}`` mappings; ``[]`` marks a public route.
        deprecated: Mark the operation deprecated.
        include_in_schema: ``False`` leaves the route out of the document.
        operation_id: Override the operationId (default: the route name).
        request_examples: Named examples of the request body.
        response_examples: Named examples of the success response body.
        extra: Raw fields merged into the operation object (``x-...`` extensions).

    Raises:
        ConfigurationError: A response status or security entry is malformed.
    """
    return _Doc(
        OperationDoc(
            summary=summary,
            description=description,
            tags=tuple(tags) if tags is not None else None,
            responses={
                _status(code): _response(value) for code, value in (responses or {}).items()
            },
            security=_security(security) if security is not None else None,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            operation_id=operation_id,
            request_examples=request_examples,
            response_examples=response_examples,
            extra=extra,
        )
    )


def doc_of(target: object) -> OperationDoc | None:
    """Return what ``doc()`` attached to ``target``, if anything."""
    info = getattr(target, _ATTR, None)
    return info if isinstance(info, OperationDoc) else None


def _status(code: object) -> int:
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 599:
        raise ConfigurationError(f"doc(responses=...): {code!r} is not an HTTP status code")
    return code


def _response(value: object) -> ResponseDoc:
    if isinstance(value, ResponseDoc):
        return value
    if isinstance(value, str):
        return ResponseDoc(description=value)
    return ResponseDoc(type=value)


def _security(
    items: Sequence[str | Mapping[str, Sequence[str]]],
) -> tuple[dict[str, list[str]], ...]:
    if isinstance(items, str):
        raise ConfigurationError(f"doc(security=...) takes a list, e.g. [{items!r}]")
    out: list[dict[str, list[str]]] = []
    for item in items:
        if isinstance(item, str):
            out.append({item: []})
        elif hasattr(item, "items"):
            out.append({str(k): [str(s) for s in v] for k, v in item.items()})
        else:
            raise ConfigurationError(
                f"doc(security=...): {item!r} is neither a scheme name nor a mapping"
            )
    return tuple(out)


# -- security schemes ---------------------------------------------------------------------


def bearer_auth(
    *, bearer_format: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """An HTTP bearer token scheme (``Authorization: Bearer ...``)."""
    scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    if bearer_format:
        scheme["bearerFormat"] = bearer_format
    if description:
        scheme["description"] = description
    return scheme


def cookie_auth(name: str = "session", *, description: str | None = None) -> dict[str, Any]:
    """A session cookie scheme: the client sends the cookie ``name``."""
    scheme: dict[str, Any] = {"type": "apiKey", "in": "cookie", "name": name}
    if description:
        scheme["description"] = description
    return scheme


def api_key_header(name: str = "X-API-Key", *, description: str | None = None) -> dict[str, Any]:
    """An API key sent in the header ``name``."""
    scheme: dict[str, Any] = {"type": "apiKey", "in": "header", "name": name}
    if description:
        scheme["description"] = description
    return scheme
