"""The form: fields declared on a class, bound to submitted data, validated once.

::

    class Contact(Form):
        email = EmailField()
        message = TextAreaField(max_length=2000)

    form = Contact(await request.form())     # or a handler parameter `form: Contact`
    if form.is_valid():
        send(form.data["email"], form.data["message"])
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Self

from oakling.exceptions import UnsupportedMediaType
from oakling.forms.fields import Field, FieldErrors
from oakling.forms.render import Markup, tag
from oakling.http.request import Request
from oakling.params import Depends, File
from oakling.params import Form as FormParam

if TYPE_CHECKING:
    from collections.abc import Iterator

    from oakling.forms.render import AttrValue
    from oakling.http.multipart import FormData

__all__ = ("BoundField", "Form")

_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


class BoundField:
    """One field of one form instance: its value, its errors, its HTML.

    ``form["email"]`` gives one; in a template ``{{ form["email"] }}`` renders the
    whole field (label, input, help, errors) and ``.label_tag()``, ``.input()``,
    ``.errors_html()`` render the parts for a layout of your own.
    """

    __slots__ = ("field", "form", "html_name", "id", "name")

    def __init__(self, form: Form, field: Field, name: str) -> None:
        self.form = form
        self.field = field
        self.name = name
        self.html_name = f"{form.prefix}-{name}" if form.prefix else name
        self.id = f"id_{self.html_name}"

    @property
    def label(self) -> str:
        """The label text."""
        return self.field.label

    @property
    def errors(self) -> list[str]:
        """The messages for this field (empty for an unbound or valid form)."""
        return self.form.errors.get(self.name, [])

    def value(self) -> Any:
        """The raw submitted value of a bound form; the initial value otherwise."""
        if self.form.is_bound:
            return self.field.extract(self.form.raw, self.html_name)
        return self.form.initial_value(self.name)

    def text_value(self) -> str:
        """The value as the input's text: submitted text as sent, initial values formatted."""
        value = self.value()
        if self.form.is_bound:
            return value if isinstance(value, str) else ""
        return self.field.format_value(value)

    def aria_attrs(self) -> dict[str, AttrValue]:
        """``aria-invalid`` and ``aria-describedby`` (help text, then errors)."""
        described = []
        if self.field.help_text:
            described.append(f"{self.id}-help")
        if self.errors:
            described.append(f"{self.id}-error")
        return {
            "aria-invalid": "true" if self.errors else None,
            "aria-describedby": " ".join(described) or None,
        }

    def common_attrs(self) -> dict[str, AttrValue]:
        """The attributes every input of this field has, beyond name, id and value."""
        # NOTE: browsers ignore (and validators flag) required on a hidden input.
        attrs: dict[str, AttrValue] = {"required": self.field.required and not self.field.is_hidden}
        attrs.update(self.field.html_attrs())
        attrs.update(self.aria_attrs())
        attrs.update(self.field.attrs)
        return attrs

    def css_class(self) -> str:
        """``field field-<name>``, plus ``invalid`` when it has errors."""
        return f"field field-{self.name}" + (" invalid" if self.errors else "")

    def label_tag(self) -> Markup:
        """Return ``<label for="id_...">Label</label>``."""
        return tag("label", {"for": self.id}, self.label)

    def input(self) -> Markup:
        """Return the input element(s) alone."""
        return self.field.render_input(self)

    def help_html(self) -> Markup:
        """Return the help text in a ``<p>`` the input points to, or nothing."""
        if not self.field.help_text:
            return Markup("")
        return tag("p", {"class": "help", "id": f"{self.id}-help"}, self.field.help_text)

    def errors_html(self) -> Markup:
        """Return the errors as a list the input points to, or nothing."""
        errors = self.errors
        if not errors:
            return Markup("")
        items = [tag("li", {}, message) for message in errors]
        return tag("ul", {"class": "errors", "id": f"{self.id}-error"}, items)

    def __html__(self) -> Markup:
        return self.field.render_row(self)

    def __str__(self) -> str:
        return str(self.__html__())

    def __repr__(self) -> str:
        return f"<BoundField {self.name!r} of {type(self.form).__name__}>"


class Form:
    """Base class of forms: declare fields as class attributes.

    Args:
        data: The submitted data (``await request.form()``, ``request.query``, a
            dict); ``None`` for an unbound form, shown empty or with ``initial``.
        initial: Values shown by an unbound form: a mapping, or an object read by
            attribute (a Struct, a model instance).
        request: The request, for the CSRF field of :meth:`render`.
        prefix: Put several forms in one page: names become ``prefix-name``.

    A form class is also a handler parameter: ``def contact(form: Contact)`` gets
    a form bound to the posted fields (unbound on ``GET``).
    """

    fields: ClassVar[dict[str, Field]] = {}
    """The fields, in declaration order (those of base classes first)."""
    __oakling_depends__: ClassVar[Depends]
    """How a handler parameter annotated with the class is filled (see ``Depends``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            if issubclass(base, Form):
                fields.update(base.fields)
            else:  # a mixin of fields that is not a form itself
                fields.update({n: v for n, v in vars(base).items() if isinstance(v, Field)})
        for name, value in list(vars(cls).items()):
            if isinstance(value, Field):
                value.name = value.name or name
                fields[name] = value
                # NOTE: removed from the class so that a field may be called "data" or
                # "errors" without hiding the form's own attributes.
                delattr(cls, name)
        cls.fields = fields
        cls._fields_changed()

    @classmethod
    def _fields_changed(cls) -> None:
        """Rebuild what depends on :attr:`fields` (the injection provider)."""
        cls.__oakling_depends__ = Depends(_provider(cls))

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        initial: Mapping[str, Any] | object | None = None,
        request: Request | None = None,
        prefix: str = "",
    ) -> None:
        self.raw: Mapping[str, Any] = data if data is not None else {}
        self.is_bound = data is not None
        self.initial = initial
        self.request = request
        self.prefix = prefix
        self._errors: dict[str, list[str]] | None = None
        self._non_field_errors: list[str] = []
        self._data: dict[str, Any] = {}

    # -- binding to a request -----------------------------------------------------------

    @classmethod
    async def from_request(cls, request: Request, **options: Any) -> Self:
        """Return the form bound to ``request``'s posted fields (unbound on ``GET``).

        Raises:
            UnsupportedMediaType: The body is not a form (JSON, say).
            BadRequest: The form body is malformed.
            PayloadTooLarge: The body is over a limit.
        """
        if request.method in _SAFE_METHODS:
            return cls(None, request=request, **options)
        if request.content_type in _FORM_TYPES:
            return cls(await request.form(), request=request, **options)
        return cls(_no_form(request), request=request, **options)

    @classmethod
    def read_request(cls, request: Request, **options: Any) -> Self:
        """Return the form bound to ``request``, blocking; the twin of :meth:`from_request`."""
        if request.method in _SAFE_METHODS:
            return cls(None, request=request, **options)
        if request.content_type in _FORM_TYPES:
            return cls(request.read_form(), request=request, **options)
        return cls(_no_form(request), request=request, **options)

    # -- validation -------------------------------------------------------------------------

    def is_valid(self) -> bool:
        """Validate (once) and tell whether the form is bound and has no error."""
        return self.is_bound and not self.errors and not self.non_field_errors

    @property
    def errors(self) -> dict[str, list[str]]:
        """The messages of each field that has some (validation runs on first access)."""
        if self._errors is None:
            self._full_clean()
        assert self._errors is not None
        return self._errors

    @property
    def non_field_errors(self) -> list[str]:
        """Messages about the form as a whole (from :meth:`clean`)."""
        _ = self.errors
        return self._non_field_errors

    @property
    def data(self) -> dict[str, Any]:
        """The cleaned, typed values by field name (only valid fields when invalid)."""
        _ = self.errors
        return self._data

    def add_error(self, field: str | None, message: str) -> None:
        """Add ``message`` to ``field``'s errors (``None``: a non-field error).

        A field with an error leaves :attr:`data`.
        """
        if self._errors is None:
            self._full_clean()
        assert self._errors is not None
        if field is None:
            self._non_field_errors.append(message)
            return
        if field not in self.fields:
            raise KeyError(f"{type(self).__name__} has no field {field!r}")
        self._errors.setdefault(field, []).append(message)
        self._data.pop(field, None)

    def clean(self) -> None:
        """Check the fields together; override it.

        It runs after each field was cleaned, with :attr:`data` holding the valid
        ones. Call :meth:`add_error` for a field's error, raise ``ValueError`` for
        a non-field error, or change :attr:`data`.
        """

    def _full_clean(self) -> None:
        self._errors = {}
        self._non_field_errors = []
        self._data = {}
        if not self.is_bound:
            return
        for name, field in self.fields.items():
            raw = field.extract(self.raw, self._html_name(name))
            try:
                self._data[name] = field.clean(raw)
            except FieldErrors as exc:
                self._errors[name] = list(exc.messages)
            except ValueError as exc:
                self._errors[name] = [str(exc)]
        try:
            self.clean()
        except ValueError as exc:
            self._non_field_errors.append(str(exc))

    def _html_name(self, name: str) -> str:
        return f"{self.prefix}-{name}" if self.prefix else name

    def initial_value(self, name: str) -> Any:
        """The value an unbound form shows for ``name``: from ``initial``, else the field's."""
        field = self.fields[name]
        default = field.initial() if callable(field.initial) else field.initial
        initial = self.initial
        if initial is None:
            return default
        if isinstance(initial, Mapping):
            return initial.get(name, default)
        return getattr(initial, name, default)

    # -- rendering ------------------------------------------------------------------------

    def __getitem__(self, name: str) -> BoundField:
        try:
            field = self.fields[name]
        except KeyError:
            raise KeyError(f"{type(self).__name__} has no field {name!r}") from None
        return BoundField(self, field, name)

    def __iter__(self) -> Iterator[BoundField]:
        for name, field in self.fields.items():
            yield BoundField(self, field, name)

    @property
    def is_multipart(self) -> bool:
        """Whether a field is a file: the form needs ``enctype="multipart/form-data"``."""
        return any(field.is_file for field in self.fields.values())

    def non_field_errors_html(self) -> Markup:
        """Return the non-field errors as an alert list, or nothing."""
        errors = self.non_field_errors
        if not errors:
            return Markup("")
        items = [tag("li", {}, message) for message in errors]
        return tag("ul", {"class": "errors form-errors", "role": "alert"}, items)

    def render_fields(self) -> Markup:
        """Return the non-field errors and every field, without ``<form>`` or CSRF field."""
        parts = [self.non_field_errors_html(), *(bound.__html__() for bound in self)]
        return Markup("\n").join(part for part in parts if part)

    def render(
        self,
        request: Request | None = None,
        *,
        action: str | None = None,
        method: str = "post",
        submit: str = "Submit",
        attrs: Mapping[str, AttrValue] | None = None,
    ) -> Markup:
        """Return the whole ``<form>``: CSRF field, errors, fields and a submit button.

        Args:
            request: The request whose CSRF token to embed (default: the form's own).
            action: The URL to post to (default: the current page).
            method: ``post`` (``get`` for a search form: no CSRF field then).
            submit: The text of the submit button.
            attrs: Extra attributes of the ``<form>`` element.
        """
        request = request if request is not None else self.request
        form_attrs: dict[str, AttrValue] = {
            "method": method,
            "action": action,
            "enctype": "multipart/form-data" if self.is_multipart else None,
        }
        form_attrs.update(attrs or {})
        parts: list[str] = []
        if request is not None and method.lower() == "post":
            parts.append(_csrf_input(request))
        parts.append(self.render_fields())
        parts.append(tag("button", {"type": "submit"}, submit))
        return tag("form", form_attrs, [Markup("\n"), Markup("\n").join(parts), Markup("\n")])

    def __html__(self) -> Markup:
        return self.render()

    def __str__(self) -> str:
        return str(self.render())

    def __repr__(self) -> str:
        state = "unbound" if not self.is_bound else ("valid" if self.is_valid() else "invalid")
        return f"<{type(self).__name__} {state}>"


def _no_form(request: Request) -> FormData:
    """The data of an unsafe request without a form body: none, or a 415."""
    from oakling.http.multipart import FormData

    length = request.header("content-length")
    if (length is not None and length != "0") or request.header("transfer-encoding"):
        raise UnsupportedMediaType(
            f"Content-Type {request.content_type or '(none)'!r} is not a form; send "
            "application/x-www-form-urlencoded or multipart/form-data"
        )
    return FormData()


def _csrf_input(request: Request) -> Markup:
    try:
        from oakling.web.csrf import csrf_input
    except ModuleNotFoundError as exc:  # pragma: no cover - until oakling.web lands
        if exc.name in ("oakling.web", "oakling.web.csrf"):
            return Markup("")
        raise
    return Markup(csrf_input(request))


def _provider(cls: type[Form]) -> Any:
    """Build the dependency that injects ``cls`` into a handler parameter.

    Its signature names each field as an optional form parameter (text, a list of
    text, or a file), so that the runner reads the form body before it runs (under
    ASGI too) and OpenAPI documents the fields; the form itself does the checking.
    """
    from oakling.http.multipart import UploadFile

    def provide(request: Request, **fields: Any) -> Form:
        return cls.read_request(request)

    parameters = [inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY)]
    annotations: dict[str, Any] = {"request": Request, "return": cls}
    for index, (name, field) in enumerate(cls.fields.items()):
        param = f"field_{index}"
        if field.is_file:
            kind: Any = Annotated[UploadFile | None, File(alias=name)]
        elif isinstance(field.empty_value, list):
            kind = Annotated[list[str] | None, FormParam(alias=name)]
        else:
            kind = Annotated[str | None, FormParam(alias=name)]
        parameters.append(inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, default=None))
        annotations[param] = kind
    provide.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    provide.__annotations__ = annotations
    provide.__qualname__ = f"{cls.__qualname__}.from_request"
    return provide
