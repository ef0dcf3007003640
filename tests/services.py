"""The real services tests talk to, and throwaway databases on them.

Each helper checks that the service answers. On a laptop without it the test is
skipped with the reason; with ``CI`` set it fails, since CI must run every test.
Tests never create tables in the shared ``test`` databases: ``postgres_database``
and ``mariadb_database`` make a uniquely named database and drop it afterwards,
so parallel workers and parallel runs never see each other's tables.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

POSTGRES = ("127.0.0.1", 5432)
MARIADB = ("127.0.0.1", 3306)
REDIS = ("127.0.0.1", 6379)
RABBITMQ = ("127.0.0.1", 5672)

_NAMES = {POSTGRES: "PostgreSQL", MARIADB: "MariaDB", REDIS: "Redis", RABBITMQ: "RabbitMQ"}


def require(address: tuple[str, int]) -> None:
    """Skip (fail under ``CI``) when nothing listens at ``address``."""
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        message = f"{_NAMES.get(address, 'the service')} is not reachable at {address}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run every test against the real service")
        pytest.skip(message)


def unique_name(prefix: str = "oakling_test") -> str:
    """A database name no other test or run uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a fresh PostgreSQL database; yield its ``postgresql://`` URL; drop it."""
    require(POSTGRES)
    import psycopg

    name = unique_name()
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def mariadb_database() -> Iterator[str]:
    """Create a fresh MariaDB database; yield its ``mysql://`` URL; drop it."""
    require(MARIADB)
    import pymysql

    name = unique_name()
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
