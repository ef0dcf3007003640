"""Create and fill the benchmark database (``world`` and ``fortune``, as TechEmpower's)."""

from __future__ import annotations

import random

import psycopg
from psycopg import sql
from tfb import DSN, ROWS

FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


def ensure(dsn: str = DSN, *, reset: bool = False) -> None:
    """Create the database of ``dsn`` if missing, then (re)fill its two tables if needed."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    name = info["dbname"]
    admin = psycopg.conninfo.make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not reset and _filled(conn):
            return
        conn.execute("DROP TABLE IF EXISTS world, fortune")
        conn.execute(
            "CREATE TABLE world (id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)"
        )
        conn.execute(
            "CREATE TABLE fortune (id integer PRIMARY KEY, message varchar(2048) NOT NULL)"
        )
        rng = random.Random(42)
        with conn.cursor().copy("COPY world (id, randomnumber) FROM STDIN") as copy:
            for i in range(1, ROWS + 1):
                copy.write_row((i, rng.randint(1, 10000)))
        with conn.cursor().copy("COPY fortune (id, message) FROM STDIN") as copy:
            for i, message in enumerate(FORTUNES, 1):
                copy.write_row((i, message))
        conn.execute("VACUUM ANALYZE world")
        conn.execute("VACUUM ANALYZE fortune")


def _filled(conn: psycopg.Connection) -> bool:
    try:
        worlds = conn.execute("SELECT count(*) FROM world").fetchone()
        fortunes = conn.execute("SELECT count(*) FROM fortune").fetchone()
    except psycopg.errors.UndefinedTable:
        return False
    return bool(worlds and fortunes and worlds[0] == ROWS and fortunes[0] == len(FORTUNES))


def fortune_rows() -> list[tuple[int, str]]:
    """The rows of ``fortune`` as created here."""
    return list(enumerate(FORTUNES, 1))
