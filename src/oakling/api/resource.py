"""Model resources: a documented CRUD API for a model in a few lines.

::

    from oakling.api import Resource

    app.include(Resource(Article, filter_fields=["status"], search_fields=["title"],
                         ordering_fields=["created_at", "title"], read_only=["slug"]))

gives ``GET /articles`` (pagination, filters, ordering, search), ``POST /articles``
(201 with ``Location``), ``GET/PUT/PATCH/DELETE /articles/{id}`` with ``ETag`` and
``If-Match`` (412 when the row changed since the client read it). The input and
output schemas are the model's Structs (``oakling.db.structs``), so validation and
the OpenAPI document come from the same declaration. Needs ``oakling[db]``.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin
from urllib.parse import quote

import msgspec
import sqlalchemy as sa

from oakling.api.doc import ResponseDoc, doc
from oakling.api.negotiation import Created
from oakling.component import Component
from oakling.db.session import Session
from oakling.db.structs import column_type, struct_for, struct_values
from oakling.exceptions import ConfigurationError, HTTPError, ValidationError
from oakling.http.request import Request
from oakling.http.response import Response, json_encode
from oakling.params import Header

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ("ACTIONS", "Resource")

ACTIONS = ("list", "create", "retrieve", "update", "partial_update", "delete")
_RESERVED = frozenset({"page", "per_page", "ordering", "q", "db", "request"})
_IF_MATCH = Annotated[
    str | None, Header(alias="If-Match", description="Only if the ETag still matches (412 else)")
]
_IF_NONE_MATCH = Annotated[
    str | None, Header(alias="If-None-Match", description="304 when the ETag still matches")
]


class Resource(Component):
    """A model as a REST resource: list, create, retrieve, update (PUT/PATCH), delete.

    Args:
        model: A mapped class (an ``oakling.db.Model`` subclass) with one primary key.
        name: The component's name and the OpenAPI tag; default: the table name.
        path: The collection's path; default ``/<name>`` (include the resource with
            ``prefix=`` to put it under ``/v1``...).
        fields: The attributes exposed, in order (default: every column).
        read_only: Attributes clients may read but not write (generated columns
            such as the primary key and ``updated_at`` already are).
        write_only: Attributes clients may write but never read (a secret).
        overrides: A type per attribute, replacing the one derived from the column.
        filter_fields: Attributes that ``?attr=value`` filters on (typed, exact match).
        ordering_fields: Attributes that ``?ordering=-attr,other`` may sort by.
        default_ordering: The ordering when none is asked for (default: primary key).
        search_fields: String attributes that ``?q=text`` searches (case-insensitive).
        per_page: The default page size; ``max_per_page`` caps what a client asks.
        max_per_page: The largest page a client may ask for.
        actions: The operations to offer (default: all of ``ACTIONS``).
        permissions: Permission names per action (``{"create": "blog.add_article"}``),
            checked with ``oakling.auth``'s ``permission_required``.

    Raises:
        ConfigurationError: The model has no single primary key, or a field name is
            unknown, reserved, or not usable for what it is listed for.
    """

    def __init__(
        self,
        model: type,
        *,
        name: str | None = None,
        path: str | None = None,
        fields: Iterable[str] | None = None,
        read_only: Iterable[str] = (),
        write_only: Iterable[str] = (),
        overrides: Mapping[str, Any] | None = None,
        filter_fields: Iterable[str] = (),
        ordering_fields: Iterable[str] = (),
        default_ordering: Iterable[str] = (),
        search_fields: Iterable[str] = (),
        per_page: int = 20,
        max_per_page: int = 100,
        actions: Iterable[str] = ACTIONS,
        permissions: Mapping[str, str | Iterable[str]] | None = None,
    ) -> None:
        mapper: Any = sa.inspect(model, raiseerr=False)
        if mapper is None or not hasattr(mapper, "primary_key"):
            raise ConfigurationError(f"Resource({model!r}): not a mapped model class")
        if len(mapper.primary_key) != 1:
            raise ConfigurationError(
                f"Resource({model.__name__}): needs exactly one primary key column"
            )
        table_name = str(getattr(model, "__tablename__", model.__name__.lower()))
        name = name or table_name
        super().__init__(name)
        self.path = (path if path is not None else f"/{name}").rstrip("/")
        if not self.path.startswith("/"):
            raise ConfigurationError(f"Resource {name!r}: path {path!r} must start with '/'")
        self.model = model
        pk_column = mapper.primary_key[0]
        self.pk = pk_column.key
        columns = {attr.key: attr for attr in mapper.column_attrs}
        self._columns = columns
        wanted = list(fields) if fields is not None else None
        read_only, write_only = tuple(read_only), tuple(write_only)
        self.read_struct = struct_for(
            model,
            mode="read",
            include=None if wanted is None else [f for f in wanted if f not in write_only],
            exclude=write_only if wanted is None else (),
            overrides=overrides,
            name=model.__name__,
        )
        writable = None if wanted is None else [f for f in wanted if f not in read_only]
        self.create_struct = struct_for(
            model,
            mode="create",
            include=writable,
            exclude=read_only if writable is None else (),
            overrides=overrides,
            name=f"{model.__name__}Create",
        )
        self.update_struct = struct_for(
            model,
            mode="update",
            include=writable,
            exclude=read_only if writable is None else (),
            overrides=overrides,
            name=f"{model.__name__}Update",
        )
        self.page_struct = msgspec.defstruct(
            f"{model.__name__}Page",
            [
                ("items", list[self.read_struct]),  # type: ignore[name-defined]
                ("total", int),
                ("page", int),
                ("per_page", int),
                ("next_url", str | None, None),
                ("prev_url", str | None, None),
            ],
        )
        self.filter_fields = self._known(filter_fields, "filter_fields")
        clash = [f for f in self.filter_fields if f in _RESERVED]
        if clash:
            raise ConfigurationError(
                f"Resource {name!r}: filter field(s) {clash} clash with the query "
                f"parameters {sorted(_RESERVED)}"
            )
        self.ordering_fields = self._known(ordering_fields, "ordering_fields")
        self.default_ordering = tuple(default_ordering) or (self.pk,)
        self._ordering(",".join(self.default_ordering), check_allowed=False)
        self.search_fields = self._known(search_fields, "search_fields")
        if per_page < 1 or max_per_page < per_page:
            raise ConfigurationError(
                f"Resource {name!r}: need 1 <= per_page ({per_page}) <= max_per_page "
                f"({max_per_page})"
            )
        self.per_page, self.max_per_page = per_page, max_per_page
        chosen = tuple(actions)
        unknown = [a for a in (*chosen, *(permissions or {})) if a not in ACTIONS]
        if unknown:
            raise ConfigurationError(
                f"Resource {name!r}: unknown action(s) {unknown}; known: {ACTIONS}"
            )
        self._permissions = {
            action: (perms,) if isinstance(perms, str) else tuple(perms)
            for action, perms in (permissions or {}).items()
        }
        # NOTE: with the column's limits: an id too big for the column is a 422, not the
        # driver's OverflowError (a 500). The plain type picks the path converter.
        self._pk_annotation = column_type(pk_column)
        pk_type = self._pk_annotation
        self._pk_type = get_args(pk_type)[0] if get_origin(pk_type) is Annotated else pk_type
        self._register_actions(chosen)

    # -- configuration helpers ------------------------------------------------------------

    def _known(self, names: Iterable[str], option: str) -> tuple[str, ...]:
        chosen = tuple(names)
        unknown = [n for n in chosen if n not in self._columns]
        if unknown:
            raise ConfigurationError(
                f"Resource {self.name!r}: {option} names unknown column(s) {unknown}; "
                f"the columns are {sorted(self._columns)}"
            )
        return chosen

    def _register_actions(self, actions: tuple[str, ...]) -> None:
        converter = "int" if self._pk_type is int else "str"
        item = f"{self.path}/{{{self.pk}:{converter}}}"
        makers: dict[str, tuple[str, str, Callable[[], Callable[..., Any]]]] = {
            "list": (self.path, "GET", self._make_list),
            "create": (self.path, "POST", self._make_create),
            "retrieve": (item, "GET", self._make_retrieve),
            "update": (item, "PUT", self._make_update),
            "partial_update": (item, "PATCH", self._make_partial_update),
            "delete": (item, "DELETE", self._make_delete),
        }
        for action in ACTIONS:
            if action not in actions:
                continue
            path, method, make = makers[action]
            handler = make()
            handler.__name__ = handler.__qualname__ = action
            handler.__module__ = self.model.__module__
            perms = self._permissions.get(action)
            if perms:
                from oakling.auth.guards import permission_required

                handler = permission_required(*perms)(handler)
            status = 201 if action == "create" else 200
            self.add_route(path, handler, [method], name=action, status=status)

    # -- shared per-request pieces --------------------------------------------------------

    def _read(self, obj: Any) -> Any:
        return msgspec.convert(obj, self.read_struct, from_attributes=True)

    def _etag(self, body: bytes) -> str:
        return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'

    def _respond(self, obj: Any, status: int = 200, location: str | None = None) -> Response:
        body = json_encode(self._read(obj))
        headers = {"ETag": self._etag(body)}
        if location is not None:
            headers["Location"] = location
        return Response(body, status, headers, media_type="application/json")

    def _check_if_match(self, obj: Any, if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        current = self._etag(json_encode(self._read(obj)))
        if current not in (tag.strip() for tag in if_match.split(",")):
            raise HTTPError(
                412,
                f"The {self.name} item changed since you read it (its ETag is now {current}); "
                "fetch it again and retry",
                headers={"ETag": current},
            )

    def _ordering(self, raw: str, *, check_allowed: bool = True) -> list[Any]:
        clauses: list[Any] = []
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            field = part.lstrip("-")
            if check_allowed and field not in self.ordering_fields:
                allowed = ", ".join(self.ordering_fields) or "(none)"
                raise ValidationError(
                    [
                        {
                            "loc": ["query", "ordering"],
                            "msg": f"Cannot order by {field[:50]!r}; use one of {allowed} "
                            "('-' first for descending)",
                            "type": "invalid",
                        }
                    ]
                )
            if field not in self._columns:
                raise ConfigurationError(
                    f"Resource {self.name!r}: default_ordering names unknown column {field!r}"
                )
            column = getattr(self.model, field)
            clauses.append(column.desc() if part.startswith("-") else column.asc())
        return clauses

    def _statement(self, query: Mapping[str, Any]) -> sa.Select[Any]:
        model = self.model
        statement: sa.Select[Any] = sa.select(model)
        for field in self.filter_fields:
            value = query.get(field)
            if value is not None:
                statement = statement.where(getattr(model, field) == value)
        text = query.get("q")
        if text and self.search_fields:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(
                sa.or_(
                    *(
                        getattr(model, f).ilike(f"%{escaped}%", escape="\\")
                        for f in self.search_fields
                    )
                )
            )
        ordering = query.get("ordering")
        clauses = self._ordering(ordering) if ordering else []
        clauses = clauses or self._ordering(",".join(self.default_ordering), check_allowed=False)
        # NOTE: the primary key last, so pages are stable when the ordering has ties.
        return statement.order_by(*clauses, getattr(model, self.pk).asc())

    # -- handlers (typed signatures: injection and the OpenAPI document read them) ------

    def _make_list(self) -> Callable[..., Any]:
        def handler(db: Session, **query: Any) -> Any:
            found = db.paginate(
                self._statement(query),
                query["page"],
                query["per_page"],
                max_per_page=self.max_per_page,
            )
            return self.page_struct(
                items=[self._read(obj) for obj in found.items],
                total=found.total,
                page=found.page,
                per_page=found.per_page,
                next_url=found.next_url,
                prev_url=found.prev_url,
            )

        params = [
            _param("db", Session),
            _param("page", Annotated[int, msgspec.Meta(ge=1)], 1),
            _param(
                "per_page",
                Annotated[int, msgspec.Meta(ge=1, le=self.max_per_page)],
                self.per_page,
            ),
        ]
        if self.ordering_fields:
            one = "-?(?:" + "|".join(re.escape(f) for f in self.ordering_fields) + ")"
            ordering = Annotated[
                str,
                msgspec.Meta(
                    pattern=f"^{one}(?:,{one})*$",
                    description="Fields to sort by, comma-separated; '-' first for descending",
                ),
            ]
            params.append(_param("ordering", ordering | None, None))
        if self.search_fields:
            params.append(_param("q", str | None, None))
        for field in self.filter_fields:
            params.append(_param(field, column_type(self._columns[field].columns[0]) | None, None))
        doc(
            summary=f"List {self.name}",
            description=_list_description(self),
        )(handler)
        return _typed(handler, params, self.page_struct)

    def _make_create(self) -> Callable[..., Any]:
        def handler(request: Request, db: Session, body: Any) -> Any:
            obj = self.model(**struct_values(body))
            db.add(obj)
            db.flush()
            db.refresh(obj)
            ident = quote(str(getattr(obj, self.pk)), safe="")
            location = str(request.url).split("?", 1)[0].rstrip("/") + "/" + ident
            return self._respond(obj, 201, location)

        doc(
            summary=f"Create a {self.name} item", responses={409: "It conflicts with another item"}
        )(handler)
        params = [
            _param("request", Request),
            _param("db", Session),
            _param("body", self.create_struct),
        ]
        return _typed(handler, params, Created[self.read_struct])  # type: ignore[name-defined]

    def _item_params(self, *extra: inspect.Parameter) -> list[inspect.Parameter]:
        return [_param("db", Session), _param(self.pk, self._pk_annotation), *extra]

    def _make_retrieve(self) -> Callable[..., Any]:
        def handler(db: Session, if_none_match: str | None = None, **ident: Any) -> Any:
            obj: Any = db.get_or_404(self.model, ident[self.pk])
            response = self._respond(obj)
            etag = response.headers.get("etag") or ""
            if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
                return Response(None, 304, {"ETag": etag})
            return response

        doc(
            summary=f"Fetch a {self.name} item",
            responses={
                200: ResponseDoc(
                    "The item", type=self.read_struct, headers={"ETag": "Its version"}
                ),
                304: "Not modified since the ETag in If-None-Match",
            },
        )(handler)
        params = self._item_params(_param("if_none_match", _IF_NONE_MATCH, None))
        return _typed(handler, params, self.read_struct)

    def _make_update(self) -> Callable[..., Any]:
        def handler(db: Session, body: Any, if_match: str | None = None, **ident: Any) -> Any:
            obj: Any = db.get_or_404(self.model, ident[self.pk])
            self._check_if_match(obj, if_match)
            values = msgspec.structs.asdict(body)
            for field, value in values.items():
                if value is not msgspec.UNSET:
                    setattr(obj, field, value)
            db.flush()
            db.refresh(obj)
            return self._respond(obj)

        doc(summary=f"Replace a {self.name} item", responses=_UPDATE_RESPONSES)(handler)
        params = self._item_params(
            _param("body", self.create_struct), _param("if_match", _IF_MATCH, None)
        )
        return _typed(handler, params, self.read_struct)

    def _make_partial_update(self) -> Callable[..., Any]:
        def handler(db: Session, body: Any, if_match: str | None = None, **ident: Any) -> Any:
            obj: Any = db.get_or_404(self.model, ident[self.pk])
            self._check_if_match(obj, if_match)
            for field, value in struct_values(body).items():
                setattr(obj, field, value)
            db.flush()
            db.refresh(obj)
            return self._respond(obj)

        doc(summary=f"Change fields of a {self.name} item", responses=_UPDATE_RESPONSES)(handler)
        params = self._item_params(
            _param("body", self.update_struct), _param("if_match", _IF_MATCH, None)
        )
        return _typed(handler, params, self.read_struct)

    def _make_delete(self) -> Callable[..., Any]:
        def handler(db: Session, if_match: str | None = None, **ident: Any) -> None:
            obj: Any = db.get_or_404(self.model, ident[self.pk])
            self._check_if_match(obj, if_match)
            db.delete(obj)

        doc(summary=f"Delete a {self.name} item", responses={412: _PRECONDITION})(handler)
        return _typed(handler, self._item_params(_param("if_match", _IF_MATCH, None)), None)

    def __repr__(self) -> str:
        return f"<Resource {self.model.__name__} at {self.path!r}>"


_PRECONDITION = "The item changed since the ETag in If-Match"
_UPDATE_RESPONSES: dict[int, str] = {
    409: "It conflicts with another item",
    412: _PRECONDITION,
}


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _typed(
    handler: Callable[..., Any], params: list[inspect.Parameter], returns: Any
) -> Callable[..., Any]:
    # NOTE: what views do for their methods: a signature made of real types, read once by
    # injection (validation) and by the OpenAPI builder (schemas).
    handler.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    handler.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    return handler


def _list_description(resource: Resource) -> str:
    parts = [f"Paginated with `page` and `per_page` (at most {resource.max_per_page})."]
    if resource.filter_fields:
        parts.append("Filter with " + ", ".join(f"`{f}`" for f in resource.filter_fields) + ".")
    if resource.ordering_fields:
        fields = ", ".join(f"`{f}`" for f in resource.ordering_fields)
        parts.append(f"Order with `ordering` ({fields}; `-` for descending, comma-separated).")
    if resource.search_fields:
        fields = ", ".join(f"`{f}`" for f in resource.search_fields)
        parts.append(f"Search {fields} with `q`.")
    return " ".join(parts)
