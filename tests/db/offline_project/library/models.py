"""The library component's models."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from oakling.db import IntegerPK, Model


class Book(IntegerPK, Model):
    __tablename__ = "ofl_book"

    title: Mapped[str] = mapped_column(String(200), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("ofl_author.id", ondelete="CASCADE"))
    pages: Mapped[int | None]
