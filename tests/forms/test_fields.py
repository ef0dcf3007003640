"""Fields and validators on their own: conversion, messages, HTML."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import importlib
import inspect
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oakling.forms
from oakling.forms import (
    BooleanField,
    ChoiceField,
    DateTimeField,
    DecimalField,
    Field,
    FieldErrors,
    FloatField,
    Form,
    HiddenField,
    IntegerField,
    MaxLength,
    MaxValue,
    MinLength,
    MinValue,
    MultipleChoiceField,
    Regex,
    TextAreaField,
    TextField,
)
from oakling.forms.choices import choices_of


def _form(**fields: Field) -> type[Form]:
    return type("F", (Form,), dict(fields))


@pytest.mark.parametrize("module_name", ["oakling.forms", "oakling.db.structs"])
def test_public_names_are_sorted_exported_and_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else n[0].islower(), n))
    for name in names:
        value = getattr(module, name)
        if isinstance(value, type) or inspect.isfunction(value):
            assert value.__doc__, f"{module_name}.{name} has no docstring"


def test_import_oakling_loads_no_forms_pillow_or_sqlalchemy() -> None:
    code = (
        "import sys, oakling\n"
        "assert 'oakling.forms' not in sys.modules\n"
        "import oakling.forms\n"
        "bad = [m for m in ('PIL', 'sqlalchemy', 'jinja2', 'oakling.db') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class Size(enum.Enum):
    SMALL = 1
    EXTRA_LARGE = 2


def test_choices_in_every_shape() -> None:
    assert choices_of(Size) == [(Size.SMALL, "Small"), (Size.EXTRA_LARGE, "Extra large")]
    assert choices_of({"a": "A"}) == [("a", "A")]
    assert choices_of([("a", "A"), "b", Size.SMALL]) == [("a", "A"), ("b", "b"), (Size.SMALL, "1")]
    field = ChoiceField(choices=[1, 2, 3])
    assert field.clean("2") == 2
    assert ChoiceField(choices=Size).clean("2") is Size.EXTRA_LARGE


def test_messages_can_be_replaced() -> None:
    field = IntegerField(messages={"required": "How old?", "invalid": "Digits only."})
    with pytest.raises(ValueError, match=re.escape("How old?")):
        field.clean("  ")
    with pytest.raises(ValueError, match=re.escape("Digits only.")):
        field.clean("1_000")
    assert IntegerField().clean(" -42 ") == -42
    with pytest.raises(ValueError, match=re.escape("Enter a whole number.")):
        IntegerField().clean("9" * 31)


def test_validators_run_all_and_keep_their_own_messages() -> None:
    def no_digits(value: str) -> None:
        if any(c.isdigit() for c in value):
            raise ValueError("No digits.")

    field = TextField(max_length=3, validators=[no_digits, Regex("^[a-z]+$", "Lower case only.")])
    with pytest.raises(FieldErrors) as info:
        field.clean("AB12")
    assert info.value.messages == [
        "Enter at most 3 characters (it has 4).",
        "No digits.",
        "Lower case only.",
    ]
    assert repr(MinLength(2)) == "MinLength(2)"
    assert MinLength(2) == MinLength(2)
    assert MinLength(2) != MaxLength(2)
    assert len({MinValue(1), MinValue(1), MaxValue(1)}) == 2
    assert repr(Regex("x")) == "Regex('x')"
    with pytest.raises(ValueError, match="Too early"):
        MinValue(dt.date(2000, 1, 1), "Too early")(dt.date(1999, 1, 1))


def test_numbers() -> None:
    assert FloatField().clean("1e3") == 1000.0
    assert FloatField().clean(".5") == 0.5
    for bad in ("inf", "1e999", "0x10", "1,5"):
        with pytest.raises(ValueError, match=re.escape("Enter a number.")):
            FloatField().clean(bad)
    assert DecimalField(decimal_places=2).clean("10.50") == decimal.Decimal("10.50")
    assert DecimalField().html_attrs() == {"step": "any"}
    assert IntegerField(min_value=1).html_attrs() == {"min": "1"}


def test_dates_and_times() -> None:
    field = DateTimeField(min_value=dt.datetime(2024, 1, 1, 8, 0))
    assert field.clean("2024-05-01T09:30:15") == dt.datetime(2024, 5, 1, 9, 30, 15)
    with pytest.raises(ValueError, match="without a time zone offset"):
        field.clean("2024-05-01 09:30+02:00")
    utc = DateTimeField(timezone=dt.UTC, min_value=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert utc.clean("2024-05-01 09:30+02:00") == dt.datetime(2024, 5, 1, 7, 30, tzinfo=dt.UTC)
    assert utc.clean("2024-05-01T09:30") == dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="at least 2024-01-01 00:00:00"):
        utc.clean("2023-12-31T23:59+00:00")
    paris = dt.timezone(dt.timedelta(hours=1))
    shown = DateTimeField(timezone=paris).format_value(dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC))
    assert shown == "2024-01-01T09:00"
    assert field.html_attrs() == {"min": "2024-01-01T08:00"}
    assert field.format_value(dt.datetime(2024, 5, 1, 9, 30)) == "2024-05-01T09:30"
    assert field.format_value(dt.datetime(2024, 5, 1, 9, 30, 5)) == "2024-05-01T09:30:05"
    with pytest.raises(ValueError, match="Enter a valid date and time"):
        field.clean("2024-02-30T10:00")


def test_booleans() -> None:
    field = BooleanField()
    assert field.clean(None) is False
    assert field.clean("off") is False
    assert field.clean("on") is True
    assert field.clean("yes") is True


def test_multiple_choice_counts_and_plain_dicts() -> None:
    form_class = _form(
        tags=MultipleChoiceField(choices=["a", "b", "c"], min_length=2, max_length=2)
    )
    assert form_class({"tags": ["a", "b", "a"]}).data == {"tags": ["a", "b"]}
    assert form_class({"tags": ["a"]}).errors == {"tags": ["Enter at least 2 choices (it has 1)."]}
    assert form_class({"tags": "a"}).errors == {"tags": ["Enter at least 2 choices (it has 1)."]}
    assert form_class({}).errors == {"tags": ["This field is required."]}
    optional = _form(tags=MultipleChoiceField(choices=["a"], required=False))
    first, second = optional({}).data["tags"], optional({}).data["tags"]
    first.append("x")
    assert second == []


def test_a_list_value_in_a_plain_dict_gives_its_last_item() -> None:
    form = _form(name=TextField())({"name": ["first", "last"]})
    assert form.data == {"name": "last"}


def test_attrs_labels_and_widgets_are_escaped() -> None:
    field = TextField(
        label='Name "quoted" <b>',
        attrs={"placeholder": '"><script>', "autofocus": True, "data-x": None},
    )
    form = _form(name=field)(initial={"name": "<init>"})
    html = str(form["name"])
    assert '<label for="id_name">Name &#34;quoted&#34; &lt;b&gt;</label>' in html
    assert 'value="&lt;init&gt;" required placeholder="&#34;&gt;&lt;script&gt;" autofocus>' in html
    assert "data-x" not in html


def test_textarea_keeps_a_leading_newline_and_hidden_has_no_label() -> None:
    form = _form(body=TextAreaField(strip=False), next=HiddenField())({"body": "\nx", "next": "/"})
    assert '<textarea name="body" id="id_body" required>\n\nx</textarea>' in str(form["body"])
    assert str(form["next"]) == '<input type="hidden" name="next" id="id_next" value="/">'
    assert form.data == {"body": "\nx", "next": "/"}


def test_default_labels_and_repr() -> None:
    field = TextField()
    form_class = _form(first_name=field)
    assert field.label == "First name"
    assert repr(field) == "<TextField 'first_name'>"
    assert repr(form_class(None)["first_name"]) == "<BoundField 'first_name' of F>"
    assert repr(form_class(None)) == "<F unbound>"
    assert repr(form_class({"first_name": "x"})) == "<F valid>"


def test_callable_initial_and_render_options() -> None:
    form = _form(day=oakling.forms.DateField(initial=lambda: dt.date(2024, 1, 2)))()
    html = str(form.render(action="/go?a=1&b=2", method="get", submit="Go", attrs={"class": "x"}))
    assert html.startswith('<form method="get" action="/go?a=1&amp;b=2" class="x">')
    assert 'value="2024-01-02"' in html
    assert "csrf" not in html
    assert html.endswith('<button type="submit">Go</button>\n</form>')


@pytest.mark.parametrize(
    ("field", "raw"),
    [(TextField(), object()), (IntegerField(), object()), (ChoiceField(choices=["a"]), object())],
)
def test_a_file_where_text_is_expected_is_an_error(field: Field, raw: Any) -> None:
    with pytest.raises(ValueError, match=re.escape("Enter text, not a file.")):
        field.clean(raw)


def test_choice_field_as_radio_buttons() -> None:
    form_class = _form(size=ChoiceField(choices=Size, radio=True, help_text="Pick one"))
    html = str(form_class({"size": "9"})["size"])
    assert html.startswith(
        '<fieldset class="field field-size invalid" id="id_size" aria-invalid="true" '
        'aria-describedby="id_size-help id_size-error"><legend>Size</legend>'
    )
    assert (
        '<input type="radio" name="size" id="id_size_1" value="2" required>'
        '<label for="id_size_1">Extra large</label>' in html
    )
    assert "<li>Select one of the options shown.</li>" in html
    chosen = str(form_class({"size": "2"})["size"])
    assert 'id="id_size_1" value="2" checked required>' in chosen
    assert form_class({"size": "2"}).data == {"size": Size.EXTRA_LARGE}


class _Everything(Form):
    text = TextField(max_length=5, pattern="^a")
    email = oakling.forms.EmailField()
    number = IntegerField(min_value=0)
    ratio = FloatField(max_value=1)
    money = DecimalField(max_digits=5, decimal_places=2)
    day = oakling.forms.DateField()
    moment = DateTimeField()
    choice = ChoiceField(choices=Size)
    radio = ChoiceField(choices=["a", "b"], radio=True)
    many = MultipleChoiceField(choices=["a", "b"])
    flag = BooleanField()
    secret = oakling.forms.PasswordField()
    body = TextAreaField()
    hidden = HiddenField()


@given(
    st.dictionaries(
        st.sampled_from(list(_Everything.fields)),
        st.one_of(st.text(), st.lists(st.text(), max_size=3)),
    )
)
@settings(max_examples=300, deadline=None)
def test_any_text_gives_errors_or_values_never_an_exception(data: dict[str, Any]) -> None:
    form = _Everything(data)
    form.is_valid()
    assert set(form.errors) | set(form.data) == set(_Everything.fields)
    html = str(form.render())
    for value in data.values():
        for text in value if isinstance(value, list) else [value]:
            if re.search(r"<[a-zA-Z/!]", text):  # would open a tag if not escaped
                assert text not in html
