"""oakling's data layer: SQLAlchemy 2 models, sessions per request, Alembic migrations.

Install with ``pip install 'oakling[db]'`` (add ``[postgres]`` or ``[mysql]`` for
those servers). ``import oakling`` never loads this package; importing it makes
database errors answer 409 (a violated constraint) or 503 (database down).
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from oakling.exceptions import MissingDependency

    raise MissingDependency("sqlalchemy", extra="db") from exc

from oakling.db import errors as _errors
from oakling.db.engine import DEFAULT, Databases, async_url, databases, sync_url
from oakling.db.models import NAMING_CONVENTION, UUIDPK, IntegerPK, Model, Timestamps, utcnow
from oakling.db.query import KeysetPage, Page
from oakling.db.session import (
    AsyncSession,
    Database,
    Session,
    async_session,
    atomic,
    session,
)

_errors.install()

__all__ = (
    "DEFAULT",
    "NAMING_CONVENTION",
    "UUIDPK",
    "AsyncSession",
    "Database",
    "Databases",
    "IntegerPK",
    "KeysetPage",
    "Model",
    "Page",
    "Session",
    "Timestamps",
    "async_session",
    "async_url",
    "atomic",
    "databases",
    "session",
    "sync_url",
    "utcnow",
)
