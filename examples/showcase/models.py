"""The showcase's database model: documents, stored with SQLAlchemy through oakling.db."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oakling.db import IntegerPK, Model, Timestamps


class Document(IntegerPK, Timestamps, Model):
    """A titled text; titles are unique (a duplicate is a 409, not a 500)."""

    __tablename__ = "document"

    title: Mapped[str] = mapped_column(String(120), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
