"""The two TechEmpower tables as oakling models (``oakling.db.Model``, SQLAlchemy 2)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from oakling.db import Model

__all__ = ("Fortune", "World")


class World(Model):
    __tablename__ = "world"

    id: Mapped[int] = mapped_column(primary_key=True)
    randomnumber: Mapped[int]


class Fortune(Model):
    __tablename__ = "fortune"

    id: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str]
