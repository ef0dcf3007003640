"""Form fields: read one value from the submitted data, convert it, validate it, render it.

A field is declared once on a form class and shared by every form instance,
so it holds no per-request state: the values and errors of one submission live
in the form and its :class:`~oakling.forms.form.BoundField` views.

Converting and validating raise ``ValueError`` whose text is meant for the
user; the form collects them as that field's errors.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import re
from typing import TYPE_CHECKING, Any, ClassVar, Final

from oakling.forms.render import Markup, tag
from oakling.forms.validators import MaxLength, MaxValue, MinLength, MinValue, Regex

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from oakling.forms.form import BoundField
    from oakling.forms.render import AttrValue
    from oakling.forms.validators import Validator

__all__ = (
    "BooleanField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "EmailField",
    "Field",
    "FieldErrors",
    "FloatField",
    "HiddenField",
    "IntegerField",
    "PasswordField",
    "TextAreaField",
    "TextField",
)

_INT_RE: Final = re.compile(r"[+-]?[0-9]{1,30}")
_NUMBER_RE: Final = re.compile(
    r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,4})?"
)
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME_RE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
# NOTE: deliberately simple (the HTML spec's own rule is close to this): one @, no spaces,
# a dot in the domain. Whether the mailbox exists is for a confirmation e-mail to tell.
_EMAIL_RE: Final = re.compile(
    r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f.]+(?:\.[^@\s\x00-\x1f\x7f.]+)+"
)
_FALSE_VALUES: Final = frozenset({"", "0", "false", "off", "no"})


class FieldErrors(ValueError):
    """Several messages for one field (every validator that refused the value)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


class Field:
    """One input of a form: a text box, a checkbox, a select, a file input...

    Args:
        label: The text of the ``<label>``; by default the name, capitalised,
            underscores as spaces.
        required: Whether an empty value is refused (the message says "This
            field is required.").
        initial: The value shown in an unbound form.
        help_text: A hint shown under the input and linked to it with
            ``aria-describedby``.
        validators: Callables run on the converted value; each raises
            ``ValueError`` with a message to refuse it.
        attrs: Extra HTML attributes of the input (``placeholder``,
            ``autocomplete``, ``class``...), escaped when rendered.
        messages: Replacements for the built-in messages, by key
            (``"required"``, ``"invalid"``...).
    """

    input_type: ClassVar[str] = "text"
    """The ``type`` of the ``<input>``."""
    default_messages: ClassVar[Mapping[str, str]] = {"required": "This field is required."}
    empty_value: Any = None
    """The cleaned value of an empty, optional field."""
    is_file: ClassVar[bool] = False
    """Whether the form must be sent as ``multipart/form-data``."""
    is_hidden: ClassVar[bool] = False

    def __init__(
        self,
        *,
        label: str | None = None,
        required: bool = True,
        initial: Any = None,
        help_text: str = "",
        validators: Sequence[Validator] = (),
        attrs: Mapping[str, AttrValue] | None = None,
        messages: Mapping[str, str] | None = None,
    ) -> None:
        self.name = ""
        self._label = label
        self.required = required
        self.initial = initial
        self.help_text = help_text
        self.validators: list[Validator] = list(validators)
        self.attrs: dict[str, AttrValue] = dict(attrs or {})
        self.messages = {**self.default_messages, **(messages or {})}

    def __set_name__(self, owner: type, name: str) -> None:
        if not self.name:
            self.name = name

    @property
    def label(self) -> str:
        """The label text (given, or made from the name)."""
        if self._label is not None:
            return self._label
        return self.name.replace("_", " ").strip().capitalize()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- reading and cleaning ---------------------------------------------------------

    def extract(self, data: Mapping[str, Any], key: str) -> Any:
        """Return the raw value of this field in ``data`` (``None`` when absent)."""
        value = data.get(key)
        if isinstance(value, list):
            return value[-1] if value else None
        return value

    def is_empty(self, raw: Any) -> bool:
        """Tell whether ``raw`` means "nothing entered"."""
        return raw is None or (isinstance(raw, str) and not raw.strip())

    def to_python(self, raw: Any) -> Any:
        """Convert a non-empty raw value; raise ``ValueError`` if it cannot be."""
        if not isinstance(raw, str):
            raise ValueError(self.messages.get("not_text", "Enter text, not a file."))
        return raw

    def clean(self, raw: Any) -> Any:
        """Convert and validate ``raw``; return the value or raise ``ValueError``."""
        if self.is_empty(raw):
            if self.required:
                raise ValueError(self.messages["required"])
            return self.empty_value
        value = self.to_python(raw)
        messages: list[str] = []
        for validator in self.validators:
            try:
                validator(value)
            except FieldErrors as exc:
                messages.extend(exc.messages)
            except ValueError as exc:
                messages.append(str(exc))
        if messages:
            raise FieldErrors(messages)
        return value

    # -- rendering ----------------------------------------------------------------------

    def format_value(self, value: Any) -> str:
        """Turn a Python value (an initial value) into the text of the input."""
        if value is None:
            return ""
        if isinstance(value, enum.Enum):
            return str(value.value)
        return str(value)

    def html_attrs(self) -> dict[str, AttrValue]:
        """The attributes that mirror the validators in the browser (``maxlength``...)."""
        attrs: dict[str, AttrValue] = {}
        for validator in self.validators:
            attrs.update(getattr(validator, "html_attrs", {}))
        return attrs

    def render_input(self, bound: BoundField) -> Markup:
        """Return the ``<input>`` for ``bound``, with its submitted or initial value."""
        attrs: dict[str, AttrValue] = {
            "type": self.input_type,
            "name": bound.html_name,
            "id": bound.id,
            "value": bound.text_value(),
        }
        attrs.update(bound.common_attrs())
        return tag("input", attrs)

    def render_row(self, bound: BoundField) -> Markup:
        """Return the whole field: label, input, help text and errors, in a ``<div>``."""
        return tag(
            "div",
            {"class": bound.css_class()},
            [bound.label_tag(), bound.input(), bound.help_html(), bound.errors_html()],
        )


class TextField(Field):
    """A line of text (``<input type="text">``), stripped of surrounding spaces.

    Args:
        min_length: Refuse shorter text (``minlength`` in the browser too).
        max_length: Refuse longer text (``maxlength`` in the browser too).
        pattern: A regular expression the text must match (searched; anchor
            it yourself), checked on the server only.
        strip: Remove leading and trailing white space first.
        empty_value: The cleaned value of an empty optional field (``""``).
        **options: The options of :class:`Field`.
    """

    empty_value: Any = ""
    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "null": "Remove the null character from the text.",
    }

    def __init__(
        self,
        *,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | re.Pattern[str] | None = None,
        strip: bool = True,
        empty_value: Any = "",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.strip = strip
        self.empty_value = empty_value
        if min_length is not None:
            self.validators.insert(0, MinLength(min_length))
        if max_length is not None:
            self.validators.insert(0, MaxLength(max_length))
        if pattern is not None:
            self.validators.append(Regex(pattern))

    def to_python(self, raw: Any) -> Any:
        """Return the text, stripped; refuse NUL (databases such as PostgreSQL do)."""
        text = super().to_python(raw)
        if "\x00" in text:
            raise ValueError(self.messages["null"])
        return text.strip() if self.strip else text


class EmailField(TextField):
    """An e-mail address (``<input type="email">``); the domain is lower-cased."""

    input_type: ClassVar[str] = "email"
    default_messages: ClassVar[Mapping[str, str]] = {
        **TextField.default_messages,
        "invalid": "Enter a valid email address, such as name@example.com.",
    }

    def __init__(self, *, max_length: int | None = 254, **options: Any) -> None:
        super().__init__(max_length=max_length, **options)

    def to_python(self, raw: Any) -> Any:
        """Return the address with a lower-case domain; refuse anything else."""
        text = super().to_python(raw)
        if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"


class PasswordField(TextField):
    """A password (``<input type="password">``): never stripped, never shown again."""

    input_type: ClassVar[str] = "password"

    def __init__(self, *, strip: bool = False, **options: Any) -> None:
        options.setdefault("attrs", {"autocomplete": "current-password"})
        super().__init__(strip=strip, **options)

    def render_input(self, bound: BoundField) -> Markup:
        """Return an empty password input: the submitted value is never sent back."""
        attrs: dict[str, AttrValue] = {
            "type": "password",
            "name": bound.html_name,
            "id": bound.id,
        }
        attrs.update(bound.common_attrs())
        return tag("input", attrs)


class TextAreaField(TextField):
    """Several lines of text (``<textarea>``)."""

    def render_input(self, bound: BoundField) -> Markup:
        """Return the ``<textarea>`` with the text as its (escaped) content."""
        attrs: dict[str, AttrValue] = {"name": bound.html_name, "id": bound.id}
        attrs.update(bound.common_attrs())
        # NOTE: a newline right after <textarea> is dropped by parsers: add one so that
        # text starting with a newline keeps it.
        return tag("textarea", attrs, "\n" + bound.text_value())


class HiddenField(TextField):
    """A value the page carries but does not show (``<input type="hidden">``)."""

    input_type: ClassVar[str] = "hidden"
    is_hidden: ClassVar[bool] = True

    def render_row(self, bound: BoundField) -> Markup:
        """Return the input alone: a hidden field has no label."""
        return bound.input()


class _RangeField(Field):
    """A field with optional ``min_value`` / ``max_value`` bounds (numbers, dates)."""

    def __init__(self, *, min_value: Any = None, max_value: Any = None, **options: Any) -> None:
        super().__init__(**options)
        if min_value is not None:
            self.validators.insert(0, MinValue(min_value))
        if max_value is not None:
            self.validators.insert(0, MaxValue(max_value))


class IntegerField(_RangeField):
    """A whole number (``<input type="number">``).

    Args:
        min_value: Refuse smaller numbers (``min`` in the browser too).
        max_value: Refuse larger numbers (``max`` in the browser too).
        **options: The options of :class:`Field`.
    """

    input_type: ClassVar[str] = "number"
    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "invalid": "Enter a whole number.",
    }

    def to_python(self, raw: Any) -> Any:
        """Return the number; ASCII digits with an optional sign only."""
        text = super().to_python(raw).strip()
        if not _INT_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        return int(text)


class FloatField(IntegerField):
    """A number with a fraction, as a ``float`` (finite only)."""

    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "invalid": "Enter a number.",
    }

    def html_attrs(self) -> dict[str, AttrValue]:
        """Add ``step="any"`` so that the browser accepts fractions."""
        return {"step": "any", **super().html_attrs()}

    def to_python(self, raw: Any) -> Any:
        """Return the number as a ``float``."""
        text = Field.to_python(self, raw).strip()
        if not _NUMBER_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(self.messages["invalid"])
        return value


class DecimalField(FloatField):
    """An exact decimal number, as a ``Decimal`` (money, measures).

    Args:
        max_digits: Refuse numbers with more digits in all (a ``Numeric(p, s)``
            column holds ``p``).
        decimal_places: Refuse more digits after the point (and set ``step``).
        **options: The options of :class:`IntegerField`.
    """

    def __init__(
        self,
        *,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    def html_attrs(self) -> dict[str, AttrValue]:
        """``step`` from ``decimal_places`` (``any`` without)."""
        attrs = super().html_attrs()
        if self.decimal_places is not None:
            attrs["step"] = str(decimal.Decimal(1).scaleb(-self.decimal_places))
        return attrs

    def to_python(self, raw: Any) -> Any:
        """Return the number as a ``Decimal``, within the digits allowed."""
        text = Field.to_python(self, raw).strip()
        if not _NUMBER_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        value = decimal.Decimal(text)
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite: the pattern has no NaN or Infinity
        places = max(-exponent, 0)
        whole = max(len(digits) + exponent, 0)
        if self.decimal_places is not None and places > self.decimal_places:
            message = f"Enter at most {self.decimal_places} digits after the decimal point."
            raise ValueError(self.messages.get("decimal_places", message))
        if self.max_digits is not None:
            most = self.max_digits - (self.decimal_places or 0)
            if whole > most:
                message = f"Enter at most {most} digits before the decimal point."
                raise ValueError(self.messages.get("max_digits", message))
        return value


class DateField(_RangeField):
    """A date (``<input type="date">``), sent as ``YYYY-MM-DD``.

    Args:
        min_value: The earliest date accepted (``min`` in the browser too).
        max_value: The latest date accepted (``max`` in the browser too).
        **options: The options of :class:`Field`.
    """

    input_type: ClassVar[str] = "date"
    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "invalid": "Enter a valid date as YYYY-MM-DD.",
    }

    def to_python(self, raw: Any) -> Any:
        """Return a ``datetime.date``."""
        text = super().to_python(raw).strip()
        if not _DATE_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(self.messages["invalid"]) from None

    def format_value(self, value: Any) -> str:
        """ISO format, what the date input reads."""
        return value.isoformat() if isinstance(value, dt.date) else super().format_value(value)


class DateTimeField(DateField):
    """A date and time (``<input type="datetime-local">``).

    Browsers send local times without an offset. Without ``timezone`` the value is
    naive and a value sent with an offset is refused; with ``timezone`` a naive
    value is read in that zone and one with an offset is converted to it.

    Args:
        timezone: The zone of the values (e.g. ``datetime.UTC`` or a ``ZoneInfo``).
        **options: The options of :class:`DateField`.
    """

    input_type: ClassVar[str] = "datetime-local"
    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "invalid": "Enter a valid date and time as YYYY-MM-DDTHH:MM.",
        "offset": "Enter the date and time without a time zone offset.",
    }

    def __init__(self, *, timezone: dt.tzinfo | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.timezone = timezone

    def to_python(self, raw: Any) -> Any:
        """Return a ``datetime.datetime``, naive or in ``timezone``."""
        text = Field.to_python(self, raw).strip()
        if not _DATETIME_RE.fullmatch(text):
            raise ValueError(self.messages["invalid"])
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(self.messages["invalid"]) from None
        if self.timezone is None:
            if value.tzinfo is not None:
                raise ValueError(self.messages["offset"])
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=self.timezone)
        return value.astimezone(self.timezone)

    def format_value(self, value: Any) -> str:
        """``YYYY-MM-DDTHH:MM[:SS]``, what the datetime-local input reads."""
        if isinstance(value, dt.datetime):
            moment: dt.datetime = value
            if self.timezone is not None and moment.tzinfo is not None:
                moment = moment.astimezone(self.timezone)
            spec = "seconds" if moment.second else "minutes"
            return moment.replace(tzinfo=None).isoformat(timespec=spec)
        return super().format_value(value)


class BooleanField(Field):
    """A checkbox: ticked is ``True``, absent (not ticked) is ``False``.

    ``required=True`` means the box must be ticked (terms of use); the default
    is ``required=False``, because ``False`` is a valid answer.
    """

    input_type: ClassVar[str] = "checkbox"
    empty_value: Any = False
    default_messages: ClassVar[Mapping[str, str]] = {"required": "Tick this box to continue."}

    def __init__(self, *, required: bool = False, **options: Any) -> None:
        super().__init__(required=required, **options)

    def is_empty(self, raw: Any) -> bool:
        """Not ticked: absent, or a false-like value (``""``, ``0``, ``false``, ``off``)."""
        return raw is None or (isinstance(raw, str) and raw.strip().lower() in _FALSE_VALUES)

    def to_python(self, raw: Any) -> Any:
        """Ticked."""
        super().to_python(raw)
        return True

    def render_input(self, bound: BoundField) -> Markup:
        """Return the checkbox, ticked when the value is true."""
        value = bound.value()
        checked = not self.is_empty(value) if bound.form.is_bound else bool(value)
        attrs: dict[str, AttrValue] = {
            "type": "checkbox",
            "name": bound.html_name,
            "id": bound.id,
            "value": "on",
            "checked": checked,
        }
        attrs.update(bound.common_attrs())
        return tag("input", attrs)

    def render_row(self, bound: BoundField) -> Markup:
        """Return the checkbox before its label, as is usual for checkboxes."""
        return tag(
            "div",
            {"class": bound.css_class()},
            [bound.input(), bound.label_tag(), bound.help_html(), bound.errors_html()],
        )
