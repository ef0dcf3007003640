"""Type-checked only: forms keep the Struct's type through ``form.struct``."""

from __future__ import annotations

from typing import assert_type

import msgspec

from oakling.forms import Form, StructForm, TextField, form_for


class Point(msgspec.Struct):
    x: int
    y: int


class PointForm(StructForm[Point]):
    label = TextField(required=False)


def typed_struct(form: PointForm) -> int:
    assert_type(form.struct, Point)
    return form.struct.x + form.struct.y


def from_a_factory() -> Point:
    form = form_for(Point)({"x": "1", "y": "2"})
    return form.struct


async def bound(form_class: type[Form]) -> bool:
    form = form_class(None)
    return form.is_valid() and isinstance(form.data, dict)
