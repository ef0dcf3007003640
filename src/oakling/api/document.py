"""Build the OpenAPI 3.1 document of an app from its routes, signatures and ``doc()`` notes.

Everything is read from what the app already analysed at registration: each
endpoint's ``Dependant`` (one ``Param`` per parameter, with its source, key,
type and default), its status, its Components, and its handler's return
annotation. Nothing is inspected per request.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from oakling._internal.convert import strip_optional
from oakling._internal.injection import resolve_hints
from oakling.api.doc import OperationDoc, ResponseDoc, doc_of
from oakling.api.schema import SchemaRegistry, encodable, is_optional
from oakling.exceptions import ConfigurationError, status_phrase
from oakling.params import _Source
from oakling.routing.route import path_param_names

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from oakling._internal.endpoint import Endpoint
    from oakling._internal.injection import Dependant, Param
    from oakling.app import App
    from oakling.component import Component

__all__ = ("DocumentInfo", "build_document")

_PATH_PARAM = re.compile(r"{([^{}:]*)(?::[^{}]*)?}")
_NO_ANNOTATION: Any = inspect.Signature.empty
_CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    "path": {"type": "string"},
    "str": {"type": "string"},
}
_PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem: the body of every error response.",
    "properties": {
        "type": {"type": "string", "description": "Always about:blank."},
        "title": {"type": "string", "description": "The status phrase."},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for humans."},
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}
_VALIDATION_PROBLEM = {
    "description": "A 422 problem: every invalid or missing input, each with its location.",
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                                "description": 'Where: ["query", "limit"], ["body", "name"]...',
                            },
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                        "required": ["loc", "msg", "type"],
                    },
                }
            },
            "required": ["errors"],
        },
    ],
}
_BINARY = {"type": "string", "format": "binary"}
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """The document-wide parts of an OpenAPI document."""

    title: str = "API"
    version: str = "0.1.0"
    description: str | None = None
    servers: Sequence[Mapping[str, Any]] | None = None
    security_schemes: Mapping[str, Mapping[str, Any]] | None = None
    security: Sequence[Mapping[str, Sequence[str]]] | None = None
    tags: Mapping[str, str] | None = None
    components: Sequence[Component] | None = None
    """Only routes of these components (and the ones they include); default: all routes."""


def build_document(app: App, info: DocumentInfo) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of ``app`` as a JSON-ready dict.

    Raises:
        ConfigurationError: A route names a security scheme that is not declared.
    """
    builder = _Builder(app, info)
    return builder.build()


class _Builder:
    def __init__(self, app: App, info: DocumentInfo) -> None:
        self.app = app
        self.info = info
        self.registry = SchemaRegistry()
        self.tags_used: dict[str, None] = {}
        self.tag_descriptions: dict[str, str] = dict(info.tags or {})

    def build(self) -> dict[str, Any]:
        operations: list[tuple[str, str, str, dict[str, Any]]] = []
        for route in self.app.router.routes():
            endpoint = route.endpoint
            if not self._wanted(endpoint):
                continue
            note = self._note(endpoint)
            if note.include_in_schema is False:
                continue
            path = _PATH_PARAM.sub(r"{\1}", route.path)
            for method in route.methods:
                if method in ("HEAD", "OPTIONS") and len(route.methods) > 1:
                    continue
                operation = self._operation(endpoint, note, method)
                operations.append((path, method.lower(), route.name, operation))
        paths: dict[str, dict[str, Any]] = {}
        names = Counter(name for _, _, name, op in operations if "operationId" not in op)
        for path, method, name, operation in operations:
            if "operationId" not in operation:
                unique = names[name] == 1
                operation["operationId"] = name if unique else f"{name}_{method}"
            paths.setdefault(path, {})[method] = _ordered(operation)
        self.registry.finish()
        return self._document(paths)

    def _document(self, paths: dict[str, Any]) -> dict[str, Any]:
        info = self.info
        head: dict[str, Any] = {"title": info.title, "version": info.version}
        if info.description:
            head["description"] = info.description
        document: dict[str, Any] = {"openapi": "3.1.0", "info": head}
        if info.servers:
            document["servers"] = [dict(server) for server in info.servers]
        document["paths"] = paths
        components: dict[str, Any] = {}
        if self.registry.components:
            components["schemas"] = dict(sorted(self.registry.components.items()))
        if info.security_schemes:
            components["securitySchemes"] = {k: dict(v) for k, v in info.security_schemes.items()}
        if components:
            document["components"] = components
        if info.security is not None:
            document["security"] = [{k: list(v) for k, v in r.items()} for r in info.security]
            self._check_security(document["security"])
        tags = [*self.tags_used, *(t for t in self.tag_descriptions if t not in self.tags_used)]
        if tags:
            document["tags"] = [
                {"name": t, **({"description": d} if (d := self.tag_descriptions.get(t)) else {})}
                for t in tags
            ]
        return document

    def _check_security(self, requirements: list[dict[str, list[str]]]) -> None:
        declared = self.info.security_schemes or {}
        for requirement in requirements:
            for name in requirement:
                if name not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    raise ConfigurationError(
                        f"OpenAPI security scheme {name!r} is used but not declared "
                        f"(declared: {known}); add it to OpenAPI(security_schemes={{...}})"
                    )

    def _wanted(self, endpoint: Endpoint) -> bool:
        wanted = self.info.components
        if wanted is None:
            return True
        return any(component in endpoint.components for component in wanted)

    # -- metadata -------------------------------------------------------------------------

    def _note(self, endpoint: Endpoint) -> OperationDoc:
        note = OperationDoc()
        innermost = endpoint.components[-1] if endpoint.components else None
        for component in endpoint.components:
            component_note = doc_of(component)
            if component_note is not None:
                if component_note.description:
                    for tag in component_note.tags or (component.name,):
                        self.tag_descriptions.setdefault(tag, component_note.description)
                inherited = _inheritable(component_note)
                if component is not innermost:
                    # NOTE: an outer component's tags name its own routes; an included
                    # component's routes keep their own (default: its name).
                    inherited = replace(inherited, tags=None)
                note = note.merged(inherited)
        view = _view_class(endpoint.handler)
        for target in (view, *_dependency_calls(endpoint.dependant)):
            found = doc_of(target) if target is not None else None
            if found is not None:
                note = note.merged(_inheritable(found) if target is not view else found)
        own = doc_of(endpoint.handler)
        return note.merged(own) if own is not None else note

    # -- one operation --------------------------------------------------------------------

    def _operation(self, endpoint: Endpoint, note: OperationDoc, method: str) -> dict[str, Any]:
        operation: dict[str, Any] = {}
        tags = list(note.tags) if note.tags is not None else _default_tags(endpoint)
        if tags:
            operation["tags"] = tags
            self.tags_used.update(dict.fromkeys(tags))
        summary, description = _docstring(endpoint.handler)
        summary = note.summary or summary or _humanise(endpoint.name)
        operation["summary"] = summary
        description = note.description or description
        if description:
            operation["description"] = description
        if note.operation_id:
            operation["operationId"] = note.operation_id
        collected = _Collected()
        _collect(endpoint.dependant, collected)
        parameters = self._parameters(endpoint, collected)
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body(collected, note)
        if body is not None:
            operation["requestBody"] = body
        responses = self._responses(endpoint, note, collected, body is not None)
        if method not in _SAFE and "403" not in responses and self._csrf_checked(note):
            responses["403"] = self._problem_response(
                "CSRF check failed: a request with the session cookie must send the "
                "CSRF token (X-CSRF-Token header or csrf_token field)."
            )
        operation["responses"] = dict(sorted(responses.items()))
        if note.deprecated:
            operation["deprecated"] = True
        if note.security is not None:
            operation["security"] = [dict(r) for r in note.security]
            self._check_security(operation["security"])
        if note.extra:
            operation.update(note.extra)
        return operation

    def _parameters(self, endpoint: Endpoint, collected: _Collected) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for name, converter in path_param_names(endpoint.path).items():
            param = collected.path.get(name)
            if param is not None and strip_optional(param.annotation)[0] is not Any:
                schema = self.registry.schema(strip_optional(param.annotation)[0])
            else:
                schema = dict(_CONVERTER_SCHEMAS.get(converter or "str", {"type": "string"}))
            item: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
            description = _marker_description(param, collected)
            if description:
                item["description"] = description
            out.append(item)
        seen: set[tuple[str, str]] = set()
        for param in collected.scalars:
            where = param.source
            if (where, param.key.lower()) in seen:
                continue
            seen.add((where, param.key.lower()))
            out.append(self._parameter(param, collected))
        return out

    def _parameter(self, param: Param, collected: _Collected) -> dict[str, Any]:
        inner = strip_optional(param.annotation)[0]
        schema = self.registry.schema(inner)
        required = param.required
        if not required and param.default is not None:
            ok, value = encodable(param.default)
            if ok:
                schema["default"] = value
        item: dict[str, Any] = {"name": param.key, "in": param.source, "required": required}
        description = _marker_description(param, collected)
        if description:
            item["description"] = description
        item["schema"] = schema
        return item

    def _request_body(self, collected: _Collected, note: OperationDoc) -> dict[str, Any] | None:
        if collected.body is not None:
            param = collected.body
            media: dict[str, Any] = {"schema": self.registry.schema(param.annotation)}
            if note.request_examples:
                media["examples"] = _examples(note.request_examples)
            return {"required": param.required, "content": {"application/json": media}}
        if not collected.form:
            return None
        properties: dict[str, Any] = {}
        required: list[str] = []
        has_files = False
        for param in collected.form:
            if param.source == "file":
                has_files = True
                schema: dict[str, Any] = (
                    {"type": "array", "items": dict(_BINARY)} if param.many else dict(_BINARY)
                )
            else:
                schema = self.registry.schema(strip_optional(param.annotation)[0])
            description = _marker_description(param, collected)
            if description:
                schema["description"] = description
            properties[param.key] = schema
            if param.required:
                required.append(param.key)
        object_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            object_schema["required"] = required
        kinds = ["multipart/form-data"]
        if not has_files:
            kinds.insert(0, "application/x-www-form-urlencoded")
        content: dict[str, Any] = {}
        for kind in kinds:
            content[kind] = {"schema": object_schema}
            if note.request_examples:
                content[kind]["examples"] = _examples(note.request_examples)
        return {"required": bool(required), "content": content}

    # -- responses ------------------------------------------------------------------------

    def _csrf_checked(self, note: OperationDoc) -> bool:
        # NOTE: the app checks CSRF on unsafe requests that carry the session cookie, which
        # a client of a cookie-secured operation sends.
        settings = self.app.settings
        if not getattr(settings, "csrf_enabled", False):
            return False
        requirements = note.security if note.security is not None else self.info.security
        schemes = self.info.security_schemes or {}
        cookie = getattr(settings, "session_cookie_name", "session")
        return any(
            schemes.get(name, {}).get("in") == "cookie" and schemes[name].get("name") == cookie
            for requirement in requirements or ()
            for name in requirement
        )

    def _responses(
        self, endpoint: Endpoint, note: OperationDoc, collected: _Collected, has_body: bool
    ) -> dict[str, Any]:
        responses: dict[str, Any] = {}
        for status, response in self._success(endpoint, note):
            responses[str(status)] = response
        errors: dict[int, str] = {}
        if has_body:
            errors[400] = "The body is malformed (not JSON, or not a valid form)."
            errors[413] = "The body is over the size limit."
            errors[415] = "The body's Content-Type is not one this operation reads."
        if collected.path:
            errors[404] = "Nothing here."
        if _negotiates(self.app, endpoint):
            errors[406] = "The Accept header allows none of the media types this operation sends."
        for status, description in sorted(errors.items()):
            responses[str(status)] = self._problem_response(description)
        if collected.validates:
            responses["422"] = {
                "description": "Invalid input: every bad or missing value is listed.",
                "content": {
                    "application/problem+json": {
                        "schema": self.registry.add_component(
                            "ValidationProblem", _VALIDATION_PROBLEM
                        )
                    }
                },
            }
            self.registry.add_component("Problem", _PROBLEM)
        for status, declared in sorted(note.responses.items()):
            responses[str(status)] = self._declared(status, declared)
        return dict(sorted(responses.items()))

    def _problem_response(self, description: str) -> dict[str, Any]:
        ref = self.registry.add_component("Problem", _PROBLEM)
        return {
            "description": description,
            "content": {"application/problem+json": {"schema": ref}},
        }

    def _declared(self, status: int, declared: ResponseDoc) -> dict[str, Any]:
        description = declared.description or status_phrase(status)
        if declared.type is None and status >= 400:
            response = self._problem_response(description)
        else:
            response = {"description": description}
            if declared.type is not None:
                media = declared.media_type or "application/json"
                response["content"] = {
                    media: {"schema": self.registry.schema(declared.type, mode="serialization")}
                }
        if declared.examples and "content" in response:
            for media in response["content"].values():
                media["examples"] = _examples(declared.examples)
        if declared.headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in declared.headers.items()
            }
        return response

    def _success(
        self, endpoint: Endpoint, note: OperationDoc
    ) -> list[tuple[int | str, dict[str, Any]]]:
        status = endpoint.status
        returned = _return_annotation(endpoint.handler)
        examples = _examples(note.response_examples) if note.response_examples else None
        described = self._describe_return(returned, status)
        out: list[tuple[int | str, dict[str, Any]]] = []
        for code, response in described:
            if examples and "content" in response:
                for media in response["content"].values():
                    media["examples"] = examples
            out.append((code, response))
        return out

    def _describe_return(
        self, returned: Any, status: int
    ) -> list[tuple[int | str, dict[str, Any]]]:
        from oakling.api.negotiation import Created
        from oakling.http.response import (
            HTMLResponse,
            JSONResponse,
            PlainTextResponse,
            RedirectResponse,
            Response,
        )

        phrase = status_phrase(status)
        if returned is _NO_ANNOTATION:
            return [(status, {"description": phrase})]
        if returned is None or returned is type(None):
            code = 204 if status == 200 else status
            return [(code, {"description": status_phrase(code)})]
        base = get_origin(returned) or returned
        if isinstance(base, type) and issubclass(base, Created):
            args = get_args(returned)
            response: dict[str, Any] = {
                "description": status_phrase(201),
                "headers": {
                    "Location": {
                        "description": "The URL of the new resource.",
                        "schema": {"type": "string"},
                    }
                },
            }
            if args:
                schema = self.registry.schema(args[0], mode="serialization")
                response["content"] = {"application/json": {"schema": schema}}
            return [(201, response)]
        if isinstance(base, type) and issubclass(base, Response):
            simple = {
                HTMLResponse: ("text/html", {"type": "string"}),
                PlainTextResponse: ("text/plain", {"type": "string"}),
                JSONResponse: ("application/json", {}),
            }.get(base)
            if simple is not None:
                return [
                    (status, {"description": phrase, "content": {simple[0]: {"schema": simple[1]}}})
                ]
            if issubclass(base, RedirectResponse):
                # NOTE: the redirect's status is chosen by the handler: any 3xx.
                return [
                    (
                        "3XX" if status == 200 else status,
                        {
                            "description": phrase,
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                    )
                ]
            return [(status, {"description": phrase})]
        if returned is str:
            return [
                (
                    status,
                    {
                        "description": phrase,
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                )
            ]
        if returned is bytes:
            return [
                (
                    status,
                    {
                        "description": phrase,
                        "content": {"application/octet-stream": {"schema": dict(_BINARY)}},
                    },
                )
            ]
        if get_origin(returned) is tuple or returned is tuple:
            return [(status, {"description": phrase})]
        out: list[tuple[int | str, dict[str, Any]]] = []
        inner = returned
        if is_optional(returned):
            inner = strip_optional(returned)[0]
            out.append((204 if status == 200 else status, {"description": status_phrase(204)}))
        schema = self.registry.schema(inner, mode="serialization")
        out.insert(
            0,
            (status, {"description": phrase, "content": {"application/json": {"schema": schema}}}),
        )
        return out if out[0][0] != out[-1][0] else out[:1]


@dataclass(slots=True)
class _Collected:
    path: dict[str, Param]
    scalars: list[Param]
    form: list[Param]
    descriptions: dict[int, str]
    body: Param | None = None
    validates: bool = False

    def __init__(self) -> None:
        self.path = {}
        self.scalars = []
        self.form = []
        self.descriptions = {}
        self.body = None
        self.validates = False


def _collect(dependant: Dependant, out: _Collected) -> None:
    described = _descriptions(dependant)
    for param in dependant.params:
        if param.dependant is not None:
            _collect(param.dependant, out)
            continue
        if param.name in described:
            out.descriptions[id(param)] = described[param.name]
        source = param.source
        if source == "path":
            out.path.setdefault(param.name, param)
            out.validates = out.validates or param.convert is not None
        elif source in ("query", "header", "cookie"):
            out.scalars.append(param)
            out.validates = True
        elif source in ("form", "file"):
            out.form.append(param)
            out.validates = True
        elif source == "body":
            out.body = out.body or param
            out.validates = True


def _dependency_calls(dependant: Dependant) -> list[Any]:
    calls: list[Any] = []
    for param in dependant.params:
        if param.dependant is not None:
            calls.extend(_dependency_calls(param.dependant))
            calls.append(param.dependant.call)
    return calls


def _inheritable(note: OperationDoc) -> OperationDoc:
    # NOTE: what a Component, View class or dependency says about all its routes; its own
    # summary and description describe itself, not each operation.
    return OperationDoc(
        tags=note.tags,
        responses=note.responses,
        security=note.security,
        deprecated=note.deprecated,
        include_in_schema=note.include_in_schema,
        extra=note.extra,
    )


def _negotiates(app: App, endpoint: Endpoint) -> bool:
    from oakling.api.negotiation import negotiates

    return negotiates(app) or any(negotiates(component) for component in endpoint.components)


def _default_tags(endpoint: Endpoint) -> list[str]:
    return [endpoint.components[-1].name] if endpoint.components else []


def _view_class(handler: Any) -> type | None:
    # NOTE: View handlers are closures made by oakling.views._bind over the class.
    from oakling.views import View

    for cell in getattr(handler, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, type) and issubclass(value, View):
            return value
    return None


def _docstring(handler: Any) -> tuple[str | None, str | None]:
    text = inspect.getdoc(handler)
    view = _view_class(handler)
    if text is None and view is not None:
        text = inspect.getdoc(getattr(view, handler.__qualname__.rsplit(".", 1)[-1], None))
    if not text:
        return None, None
    first, _, rest = text.partition("\n")
    return first.strip(), rest.strip() or None


def _humanise(name: str) -> str:
    last = name.rsplit(".", 1)[-1]
    return last.replace("_", " ").strip().capitalize() or name


def _return_annotation(handler: Any) -> Any:
    view = _view_class(handler)
    target = handler
    if view is not None:
        target = getattr(view, handler.__qualname__.rsplit(".", 1)[-1], handler)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # NOTE: an unresolvable annotation documents as "no schema"
        return _NO_ANNOTATION
    return hints.get("return", _NO_ANNOTATION)


def _marker_description(param: Param | None, collected: _Collected) -> str | None:
    if param is None:
        return None
    return collected.descriptions.get(id(param))


def _descriptions(dependant: Dependant) -> dict[str, str]:
    try:
        hints = resolve_hints(dependant.call)
    except Exception:  # NOTE: descriptions are optional; the route was analysed already
        return {}
    found: dict[str, str] = {}
    for name, annotation in hints.items():
        if get_origin(annotation) is Annotated:
            for extra in get_args(annotation)[1:]:
                if isinstance(extra, _Source) and extra.description:
                    found[name] = extra.description
    return found


_ORDER = ("tags", "summary", "description", "operationId", "deprecated", "security")


def _ordered(operation: dict[str, Any]) -> dict[str, Any]:
    # NOTE: the usual reading order (and a stable one, for diffs of a checked-in document).
    first = {key: operation[key] for key in _ORDER if key in operation}
    return {**first, **{k: v for k, v in operation.items() if k not in first}}


def _examples(named: Mapping[str, Any]) -> dict[str, Any]:
    return {name: {"value": encodable(value)[1]} for name, value in named.items()}
