"""Choice fields: one value (a select or radio buttons) or several (checkboxes).

Choices are ``(value, label)`` pairs; the value may be of any type (an enum
member, an int...): its text is what the page sends, and the cleaned value is
the choice's own object, never the text.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from oakling.forms.fields import Field
from oakling.forms.render import Markup, tag
from oakling.forms.validators import MaxLength, MinLength

if TYPE_CHECKING:
    from oakling.forms.form import BoundField
    from oakling.forms.render import AttrValue

__all__ = ("ChoiceField", "MultipleChoiceField", "choices_of")


def choices_of(choices: Any) -> list[tuple[Any, str]]:
    """Normalise choices into ``(value, label)`` pairs.

    Accepts an ``Enum`` class (label: the member name, made readable), a mapping
    value → label, pairs, or plain values (label: the value).
    """
    if isinstance(choices, type) and issubclass(choices, enum.Enum):
        return [(member, member.name.replace("_", " ").capitalize()) for member in choices]
    if isinstance(choices, Mapping):
        return [(value, str(label)) for value, label in choices.items()]
    pairs: list[tuple[Any, str]] = []
    for choice in choices:
        if isinstance(choice, tuple) and len(choice) == 2:
            pairs.append((choice[0], str(choice[1])))
        else:
            pairs.append((choice, str(choice.value if isinstance(choice, enum.Enum) else choice)))
    return pairs


def _key(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


class ChoiceField(Field):
    """One value out of a list (``<select>``); the cleaned value is the choice's own.

    Args:
        choices: An ``Enum`` class, a mapping value → label, ``(value, label)``
            pairs or plain values; values may be of any type (their text is sent).
        radio: Render labelled radio buttons in a ``<fieldset>`` instead of a
            ``<select>`` (better for a few choices).
        **options: The options of :class:`Field`.
    """

    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "invalid_choice": "Select one of the options shown.",
    }

    def __init__(self, *, choices: Any, radio: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.choices = choices_of(choices)
        self.radio = radio
        self._by_key = {_key(value): value for value, _ in self.choices}

    def to_python(self, raw: Any) -> Any:
        """Return the choice whose text was sent."""
        text = super().to_python(raw)
        try:
            return self._by_key[text]
        except KeyError:
            raise ValueError(self.messages["invalid_choice"]) from None

    def format_value(self, value: Any) -> str:
        """The text sent for the choice ``value``."""
        return "" if value is None else _key(value)

    def render_input(self, bound: BoundField) -> Markup:
        """Return the ``<select>`` (or radios), the submitted or initial choice selected."""
        selected = bound.text_value()
        if self.radio:
            return _boxes(self, bound, "radio", {selected})
        options: list[str] = []
        if not self.required or selected not in self._by_key:
            options.append(tag("option", {"value": ""}, "---------"))
        for value, label in self.choices:
            key = _key(value)
            options.append(tag("option", {"value": key, "selected": key == selected}, label))
        attrs: dict[str, AttrValue] = {"name": bound.html_name, "id": bound.id}
        attrs.update(bound.common_attrs())
        return tag("select", attrs, [Markup("\n"), *options])

    def render_row(self, bound: BoundField) -> Markup:
        """Return the row; radios go in a ``<fieldset>`` whose ``<legend>`` is the label."""
        return _fieldset_row(self, bound) if self.radio else super().render_row(bound)


class MultipleChoiceField(ChoiceField):
    """Any number of values out of a list: a group of checkboxes in a ``<fieldset>``.

    The cleaned value is a list of the chosen values, in the order of ``choices``.
    ``required=True`` (the default) means at least one; ``min_length`` and
    ``max_length`` bound the number chosen.
    """

    def __init__(
        self, *, min_length: int | None = None, max_length: int | None = None, **options: Any
    ) -> None:
        super().__init__(**options)
        self.empty_value = []
        if min_length is not None:
            self.validators.insert(0, _ChoiceCount(MinLength(min_length)))
        if max_length is not None:
            self.validators.insert(0, _ChoiceCount(MaxLength(max_length)))

    def extract(self, data: Mapping[str, Any], key: str) -> Any:
        """Return every value sent for the field."""
        getlist = getattr(data, "getlist", None)
        if getlist is not None:
            values: Any = getlist(key)
        else:
            values = data.get(key, [])
        if isinstance(values, str):
            return [values]
        return list(values)

    def is_empty(self, raw: Any) -> bool:
        """Nothing chosen."""
        return not raw

    def clean(self, raw: Any) -> Any:
        """Convert and validate the choices; an empty field gives a fresh empty list."""
        value = super().clean(raw)
        return list(value) if value is self.empty_value and isinstance(value, list) else value

    def to_python(self, raw: Any) -> Any:
        """Return the chosen values, each once, in the order of the choices."""
        chosen = set()
        for item in raw:
            chosen.add(_key(ChoiceField.to_python(self, item)))
        return [value for value, _ in self.choices if _key(value) in chosen]

    def format_value(self, value: Any) -> str:
        """Not used for a group: see :meth:`selected`."""
        return ""

    def selected(self, bound: BoundField) -> set[str]:
        """The text of each chosen value, submitted or initial."""
        value = bound.value()
        if value is None:
            return set()
        if isinstance(value, (str, enum.Enum)):
            value = [value]
        return {item if isinstance(item, str) else _key(item) for item in value}

    def render_input(self, bound: BoundField) -> Markup:
        """Return one labelled checkbox per choice."""
        return _boxes(self, bound, "checkbox", self.selected(bound))

    def render_row(self, bound: BoundField) -> Markup:
        """Return a ``<fieldset>`` whose ``<legend>`` is the label."""
        return _fieldset_row(self, bound)


def _boxes(field: ChoiceField, bound: BoundField, kind: str, selected: set[str]) -> Markup:
    """One labelled radio button or checkbox per choice."""
    items: list[str] = []
    required = kind == "radio" and field.required
    for index, (value, label) in enumerate(field.choices):
        key = _key(value)
        option_id = f"{bound.id}_{index}"
        attrs: dict[str, AttrValue] = {
            "type": kind,
            "name": bound.html_name,
            "id": option_id,
            "value": key,
            "checked": key in selected,
            "required": required,
        }
        attrs.update(field.attrs)
        box = tag("input", attrs)
        items.append(tag("div", {}, [box, tag("label", {"for": option_id}, label)]))
    return Markup("").join(items)


def _fieldset_row(field: Field, bound: BoundField) -> Markup:
    """A group of inputs: a ``<fieldset>`` named by its ``<legend>``, errors linked to it."""
    attrs: dict[str, AttrValue] = {"class": bound.css_class(), "id": bound.id}
    attrs.update(bound.aria_attrs())
    return tag(
        "fieldset",
        attrs,
        [tag("legend", {}, field.label), bound.input(), bound.help_html(), bound.errors_html()],
    )


class _ChoiceCount:
    """A length validator on the number of choices (no HTML attribute for a group)."""

    __slots__ = ("validator",)

    html_attrs: Mapping[str, str] = {}

    def __init__(self, validator: MinLength | MaxLength) -> None:
        self.validator = validator

    def __call__(self, value: Any, /) -> None:
        self.validator(value)
