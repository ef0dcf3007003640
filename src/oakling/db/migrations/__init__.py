"""Migrations: Alembic wrapped so that projects never touch its configuration.

``oakling db init|makemigrations|migrate|downgrade|history|current|check`` use
``Migrations``; ``migrate(app)`` applies everything from Python (tests, deploy
scripts). The project's own migrations live in ``migrations/`` next to the app;
each Component with ``models=`` has its own folder and Alembic branch.
"""

from __future__ import annotations

from oakling.db.migrations.migrator import (
    DatabaseUnavailable,
    MigrationError,
    Migrations,
    NoMigrationsFolder,
    Revision,
    migrate,
)
from oakling.db.migrations.project import APP_LABEL, Branch, Project, project

__all__ = (
    "APP_LABEL",
    "Branch",
    "DatabaseUnavailable",
    "MigrationError",
    "Migrations",
    "NoMigrationsFolder",
    "Project",
    "Revision",
    "migrate",
    "project",
)
