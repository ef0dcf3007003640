"""Forms derived from a msgspec ``Struct`` (or a model, through its Struct).

The Struct is the one declaration: its field types pick the inputs, its
``msgspec.Meta`` constraints become validators (and ``maxlength``/``min``...),
``title``/``description`` become the label and help text, ``Literal`` and
``Enum`` become choices, ``X | None`` and defaults make a field optional. The
same Struct validates the JSON API and describes it in OpenAPI.

``Meta(extra_json_schema={"format": "email"})`` (or ``"password"``) picks an
e-mail (password) input, as OpenAPI reads it too; ``Meta(extra={"widget":
"textarea"})`` (or ``"hidden"``, ``"radio"``, ``"image"``) picks a widget the
schema does not describe.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
import weakref
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, cast, overload

import msgspec
from msgspec import inspect as mi

from oakling.forms.choices import ChoiceField, MultipleChoiceField
from oakling.forms.fields import (
    BooleanField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    Field,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    TextAreaField,
    TextField,
)
from oakling.forms.files import FileField, ImageField
from oakling.forms.form import Form

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ("StructForm", "field_for", "fields_for_struct", "form_for")

S = TypeVar("S", bound=msgspec.Struct)

_AT_RE: Final = re.compile(r"^(?P<msg>.*?)(?: - at `\$\.(?P<field>[^`.\[]+)[^`]*`)?$", re.S)
_UNIONS: Final = (typing.Union, types.UnionType)


class StructForm(Form, Generic[S]):
    """A form whose fields come from a msgspec Struct; ``form.struct`` is an instance.

    Declare it as ``class Signup(StructForm[SignupIn]): ...`` (fields declared in
    the body replace the derived ones of the same name, or add to them), or let
    :func:`form_for` make one. Class keywords ``fields=`` and ``exclude=`` pick
    the Struct's fields to show.
    """

    struct_type: ClassVar[type[msgspec.Struct]]
    """The Struct the fields come from."""

    def __init_subclass__(
        cls,
        *,
        fields: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        declared = {name: value for name, value in vars(cls).items() if isinstance(value, Field)}
        super().__init_subclass__(**kwargs)
        struct = _struct_of(cls)
        if struct is None:
            return
        cls.struct_type = struct
        derived = fields_for_struct(struct)
        wanted = list(derived) if fields is None else list(fields)
        unknown = [name for name in (*wanted, *exclude) if name not in derived]
        if unknown:
            raise TypeError(f"{struct.__name__} has no field(s) {', '.join(map(repr, unknown))}")
        chosen = {name: derived[name] for name in wanted if name not in set(exclude)}
        merged = {name: declared.get(name, field) for name, field in chosen.items()}
        merged.update({n: f for n, f in cls.fields.items() if n not in merged})
        cls.fields = merged
        cls._fields_changed()
        info = mi.type_info(struct)
        assert isinstance(info, mi.StructType)
        cls._missing_required = tuple(
            f.encode_name for f in info.fields if f.required and f.encode_name not in merged
        )

    _missing_required: ClassVar[tuple[str, ...]] = ()
    _struct: S | None = None

    @property
    def struct(self) -> S:
        """The cleaned data as an instance of the Struct.

        Raises:
            RuntimeError: The form is not valid, or leaves out required fields.
        """
        if self._missing_required:
            raise RuntimeError(
                f"{type(self).__name__} leaves out required fields of "
                f"{self.struct_type.__name__} ({', '.join(self._missing_required)}); "
                "build it from form.data"
            )
        if not self.is_valid() or self._struct is None:
            raise RuntimeError(f"{type(self).__name__} is not valid; check is_valid() first")
        return self._struct

    def _full_clean(self) -> None:
        super()._full_clean()
        self._struct = None
        for name in [n for n, v in self._data.items() if v is msgspec.UNSET]:
            del self._data[name]
        if not self.is_bound or self._errors or self._non_field_errors:
            return
        if self._missing_required:
            return
        try:
            self._struct = cast(
                "S", msgspec.convert(self._data, self.struct_type, dec_hook=_keep_object)
            )
        except msgspec.ValidationError as exc:
            match = _AT_RE.match(str(exc))
            assert match is not None
            field, message = match.group("field"), match.group("msg")
            assert self._errors is not None
            if field in self.fields:
                self._errors.setdefault(field, []).append(message)
                self._data.pop(field, None)
            else:
                self._non_field_errors.append(message)


def _keep_object(tp: type, obj: Any) -> Any:
    if isinstance(obj, tp):
        return obj
    raise NotImplementedError


def _struct_of(cls: type) -> type[msgspec.Struct] | None:
    for base in cls.__dict__.get("__orig_bases__", ()):
        if typing.get_origin(base) is StructForm:
            (arg,) = typing.get_args(base)
            if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
                return arg
            return None
    return getattr(cls, "struct_type", None)


_CACHE: weakref.WeakKeyDictionary[type, dict[str, Field]] = weakref.WeakKeyDictionary()


def fields_for_struct(struct: type[msgspec.Struct]) -> dict[str, Field]:
    """Return a form field for each field of ``struct``, by its name on the wire.

    This is the one mapping from a type to an input; the admin reads it too.
    """
    cached = _CACHE.get(struct)
    if cached is None:
        info = mi.type_info(struct)
        if not isinstance(info, mi.StructType):  # pragma: no cover - a Struct gives one
            raise TypeError(f"{struct!r} is not a msgspec Struct")
        hints = typing.get_type_hints(struct, include_extras=True)
        cached = {}
        for spec in info.fields:
            field = field_for(spec, hints.get(spec.name, Any))
            field.name = spec.encode_name
            cached[spec.encode_name] = field
        _CACHE[struct] = cached
    return cached


def field_for(spec: mi.Field, annotation: Any = Any) -> Field:  # noqa: C901
    """Return the form field for one Struct field (``msgspec.inspect.Field``).

    Args:
        spec: The field as ``msgspec.inspect.type_info`` describes it.
        annotation: Its Python annotation, for types read through msgspec.
    """
    tp, schema, extra = _unwrap(spec.type)
    optional = False
    if isinstance(tp, mi.UnionType):
        others = [t for t in tp.types if not isinstance(t, mi.NoneType)]
        optional = len(others) < len(tp.types)
        if len(others) == 1:
            tp, more_schema, more_extra = _unwrap(others[0])
            schema, extra = {**schema, **more_schema}, {**extra, **more_extra}
    default = spec.default
    has_default = default is not msgspec.NODEFAULT or spec.default_factory is not msgspec.NODEFAULT
    options: dict[str, Any] = {
        "required": spec.required and not optional,
        "label": schema.get("title"),
        "help_text": schema.get("description", ""),
    }
    if default is not msgspec.NODEFAULT:
        options["initial"] = default
    elif spec.default_factory is not msgspec.NODEFAULT:
        options["initial"] = spec.default_factory
    empty: Any = msgspec.UNSET
    if default is not msgspec.NODEFAULT:
        empty = default
    elif optional and not has_default:
        empty = None
    elif spec.default_factory is not msgspec.NODEFAULT:
        empty = msgspec.UNSET
    widget = extra.get("widget")
    field: Field
    if isinstance(tp, mi.StrType):
        kind: type[TextField] = {"email": EmailField, "password": PasswordField}.get(
            schema.get("format", ""), TextField
        )
        if widget == "textarea":
            kind = TextAreaField
        elif widget == "hidden":
            kind = HiddenField
        field = kind(
            min_length=tp.min_length,
            max_length=tp.max_length,
            pattern=tp.pattern,
            empty_value=empty,
            **options,
        )
    elif isinstance(tp, mi.BoolType):
        options["required"] = False
        field = BooleanField(**options)
    elif isinstance(tp, (mi.IntType, mi.FloatType, mi.DecimalType)):
        number: type[IntegerField] = {mi.IntType: IntegerField, mi.FloatType: FloatField}.get(
            type(tp), DecimalField
        )
        ge, le = getattr(tp, "ge", None), getattr(tp, "le", None)
        if isinstance(tp, mi.IntType):
            ge = tp.gt + 1 if tp.gt is not None and ge is None else ge
            le = tp.lt - 1 if tp.lt is not None and le is None else le
        if number is DecimalField:
            options["max_digits"] = extra.get("max_digits")
            options["decimal_places"] = extra.get("decimal_places")
        field = number(min_value=ge, max_value=le, **options)
    elif isinstance(tp, mi.DateTimeType):
        # NOTE: a Struct that wants aware datetimes (Meta(tz=True)) gets UTC ones.
        field = DateTimeField(timezone=dt.UTC if tp.tz else None, **options)
    elif isinstance(tp, mi.DateType):
        field = DateField(**options)
    elif isinstance(tp, (mi.LiteralType, mi.EnumType)):
        field = ChoiceField(choices=_choices(tp), radio=widget == "radio", **options)
    elif isinstance(tp, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)) and (
        isinstance(_unwrap(tp.item_type)[0], (mi.LiteralType, mi.EnumType))
    ):
        options["required"] = spec.required and (tp.min_length or 0) > 0
        field = MultipleChoiceField(
            choices=_choices(_unwrap(tp.item_type)[0]),
            min_length=tp.min_length,
            max_length=tp.max_length,
            **options,
        )
        empty = default if default is not msgspec.NODEFAULT else msgspec.UNSET
    elif isinstance(tp, mi.CustomType) and _is_upload_type(tp.cls):
        field = (ImageField if widget == "image" else FileField)(**options)
    else:
        field = _ConvertedField(annotation, **options)
    if not isinstance(field, BooleanField):
        field.empty_value = empty
    return field


def _unwrap(tp: mi.Type) -> tuple[mi.Type, dict[str, Any], dict[str, Any]]:
    schema: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    while isinstance(tp, mi.Metadata):
        schema.update(tp.extra_json_schema or {})
        extra.update(tp.extra or {})
        tp = tp.type
    return tp, schema, extra


def _choices(tp: mi.Type) -> Any:
    if isinstance(tp, mi.EnumType):
        return tp.cls
    assert isinstance(tp, mi.LiteralType)
    return list(tp.values)


def _is_upload_type(cls: type) -> bool:
    from oakling.http.multipart import UploadFile

    return isinstance(cls, type) and issubclass(cls, UploadFile)


class _ConvertedField(TextField):
    """A text input whose value msgspec converts to the annotation (UUID, time...)."""

    def __init__(self, annotation: Any, **options: Any) -> None:
        super().__init__(**options)
        self.annotation = annotation
        inner = annotation
        if typing.get_origin(inner) in _UNIONS:
            args = [a for a in typing.get_args(inner) if a is not type(None)]
            inner = args[0] if len(args) == 1 else inner
        self._type = inner

    def to_python(self, raw: Any) -> Any:
        """Convert the text with msgspec (``strict=False``: text may become numbers)."""
        text = super().to_python(raw)
        try:
            return msgspec.convert(text, self._type, strict=False)
        except msgspec.ValidationError as exc:
            match = _AT_RE.match(str(exc))
            raise ValueError(match.group("msg") if match else str(exc)) from None


@overload
def form_for(
    source: type[S],
    *,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    name: str | None = None,
) -> type[StructForm[S]]: ...
@overload
def form_for(
    source: type,
    *,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    name: str | None = None,
) -> type[StructForm[Any]]: ...
def form_for(
    source: type,
    *,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    name: str | None = None,
) -> type[StructForm[Any]]:
    """Make a form class for a msgspec Struct or a model.

    A model goes through :func:`oakling.db.structs.struct_for` (``mode="create"``):
    its primary key and generated columns are left out, ``String(n)`` gives
    ``maxlength``, nullable columns are optional.

    Args:
        source: A msgspec ``Struct`` class, or a model class.
        fields: The fields to show, in this order (default: all).
        exclude: Fields to leave out.
        name: The form class's name (default: ``<Source>Form``).
    """
    fields = None if fields is None else tuple(fields)
    exclude = tuple(exclude)
    if isinstance(source, type) and issubclass(source, msgspec.Struct):
        struct: type[msgspec.Struct] = source
    else:
        from oakling.db.structs import struct_for

        struct = struct_for(source, mode="create", include=fields, exclude=exclude)
    form_name = name or f"{source.__name__}Form"
    base: Any = StructForm[struct]  # type: ignore[valid-type]
    cls = types.new_class(
        form_name,
        (base,),
        {"fields": fields, "exclude": exclude} if struct is source else {},
    )
    cls.__module__ = getattr(source, "__module__", __name__)
    return cast("type[StructForm[Any]]", cls)
