"""oakling's data layer: SQLAlchemy 2 models, sessions per request, Alembic migrations.

Install with ``pip install 'oakling[db]'`` (add ``[postgres]`` or ``[mysql]`` for
those servers). ``import oakling`` never loads this package.
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from oakling.exceptions import MissingDependency

    raise MissingDependency("sqlalchemy", extra="db") from exc

from oakling.db.engine import DEFAULT, Databases, async_url, databases, sync_url
from oakling.db.models import NAMING_CONVENTION, UUIDPK, IntegerPK, Model, Timestamps, utcnow

__all__ = (
    "DEFAULT",
    "NAMING_CONVENTION",
    "UUIDPK",
    "Databases",
    "IntegerPK",
    "Model",
    "Timestamps",
    "async_url",
    "databases",
    "sync_url",
    "utcnow",
)
