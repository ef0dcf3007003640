"""Alembic's environment script for oakling projects; the work is in ``migrator``."""

from oakling.db.migrations.migrator import run_environment

run_environment()
