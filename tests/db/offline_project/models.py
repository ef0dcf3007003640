"""The project's models: every column type fixtures and migrations must handle."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

from sqlalchemy import Enum, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oakling.db import IntegerPK, Model, Timestamps


class Genre(enum.Enum):
    novel = "novel"
    poetry = "poetry"


class Author(IntegerPK, Timestamps, Model):
    __tablename__ = "ofl_author"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    born: Mapped[dt.date | None]
    token: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    fee: Mapped[decimal.Decimal] = mapped_column(Numeric(10, 2), default=0)
    active: Mapped[bool] = mapped_column(default=True)
    genre: Mapped[Genre] = mapped_column(Enum(Genre, name="ofl_genre"), default=Genre.novel)
    bio: Mapped[str | None] = mapped_column(Text)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
