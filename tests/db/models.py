"""Models of the data-layer tests, on their own metadata (never in ``Model.metadata``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, MetaData, String
from sqlalchemy.orm import Mapped, mapped_column

from oakling.db import NAMING_CONVENTION, UUIDPK, IntegerPK, Model, Timestamps


class DbtBase(Model):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DbtAuthor(IntegerPK, Timestamps, DbtBase):
    __tablename__ = "dbt_author"
    __table_args__ = (CheckConstraint("length(name) > 0", name="name_not_empty"),)

    name: Mapped[str] = mapped_column(String(50), unique=True)
    born: Mapped[dt.date | None] = mapped_column(default=None)


class DbtBook(IntegerPK, DbtBase):
    __tablename__ = "dbt_book"

    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int] = mapped_column(ForeignKey("dbt_author.id"))


class DbtTag(UUIDPK, DbtBase):
    __tablename__ = "dbt_tag"

    label: Mapped[str] = mapped_column(String(20))


METADATA = DbtBase.metadata
