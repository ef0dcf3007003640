"""Models for the fixture tests: every column type JSON has no type for, and foreign keys.

They belong to the ``fx`` component of ``fixture_app`` (``Component(models=...)``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, LargeBinary, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from oakling import App, Component
from oakling.db import IntegerPK, Model


class Kind(enum.Enum):
    novel = "Novel"
    poetry = "Poetry"


class Writer(IntegerPK, Model):
    __tablename__ = "fx_writer"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    born: Mapped[dt.date | None]
    token: Mapped[uuid.UUID | None]
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("fx_writer.id"))


class Work(IntegerPK, Model):
    __tablename__ = "fx_work"

    writer_id: Mapped[int] = mapped_column(ForeignKey("fx_writer.id"))
    title: Mapped[str] = mapped_column(String(100))
    price: Mapped[decimal.Decimal] = mapped_column(Numeric(8, 2))
    published: Mapped[dt.datetime | None]
    cover: Mapped[bytes | None] = mapped_column(LargeBinary)
    kind: Mapped[Kind] = mapped_column(Enum(Kind, name="fx_kind"), default=Kind.novel)
    in_print: Mapped[bool] = mapped_column(default=True)
    rating: Mapped[float | None]
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def make_app(url: str) -> App:
    """An app on ``url`` including the ``fx`` component."""
    import sys

    from oakling import Settings

    app = App(settings=Settings(debug=True, database_url=url))
    app.include(Component("fx", models=sys.modules[__name__]))
    return app
