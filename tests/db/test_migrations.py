"""Migrations from the command line, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.db import fixture_models
from tests.db.cli_support import BACKENDS, columns, database, oakling, ok, rows, tables, write

from oakling import App, Component, Settings
from oakling.db.migrations import project
from oakling.exceptions import ConfigurationError

APP = """
    from oakling import App
    app = App(debug=True)
"""

AUTHOR_V1 = """
    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column
    from oakling.db import IntegerPK, Model

    class Author(IntegerPK, Model):
        __tablename__ = "author"
        name: Mapped[str] = mapped_column(String(50))
"""

AUTHOR_V2 = (
    AUTHOR_V1
    + """
        born: Mapped[int | None] = mapped_column(index=True)
"""
)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(str(request.param), tmp_path) as found:
        yield found


def test_init_make_migrate_check_downgrade(tmp_path: Path, url: str) -> None:
    write(tmp_path, {"app.py": APP, "models.py": AUTHOR_V1})
    assert "Created" in ok(oakling(tmp_path, "db", "init", url=url))
    out = ok(oakling(tmp_path, "db", "makemigrations", "-m", "create author", url=url))
    assert re.search(r"Wrote app \w+: .*migrations/\w+_create_author\.py", out)
    assert ok(oakling(tmp_path, "db", "migrate", url=url)).startswith("Applied app ")
    assert tables(url) >= {"author", "alembic_version"}
    rows(url, "INSERT INTO author (id, name) VALUES (1, 'Ada')")
    assert "agree" in ok(oakling(tmp_path, "db", "check", url=url))

    write(tmp_path, {"models.py": AUTHOR_V2})
    result = oakling(tmp_path, "db", "check", url=url)
    assert result.returncode == 1
    assert "app: column author.born has no migration (add it)" in result.stdout
    assert "app: index ix_author_born on author has no migration (add it)" in result.stdout
    ok(oakling(tmp_path, "db", "makemigrations", "-m", "add born", url=url))
    result = oakling(tmp_path, "db", "makemigrations", "-m", "again", url=url)
    assert "not at the latest revisions: run `oakling db migrate` first" in result.stderr
    ok(oakling(tmp_path, "db", "migrate", url=url))
    assert "born" in columns(url, "author")
    assert "agree" in ok(oakling(tmp_path, "db", "check", url=url))
    assert ok(oakling(tmp_path, "db", "makemigrations", "-m", "x", url=url)) == (
        "No changes detected.\n"
    )

    history = ok(oakling(tmp_path, "db", "history", url=url)).splitlines()
    assert [line.split()[0] for line in history] == ["app", "app"]
    assert history[0].endswith("create author")
    assert history[1].endswith("add born  (head)")
    head = history[1].split()[1]
    assert ok(oakling(tmp_path, "db", "current", url=url)).split() == ["app", head]

    assert "Reverted app " in ok(oakling(tmp_path, "db", "downgrade", "app@-1", url=url))
    assert "born" not in columns(url, "author")
    assert rows(url, "SELECT id, name FROM author") == [(1, "Ada")]
    assert "1 migration(s) to apply" in ok(oakling(tmp_path, "db", "current", url=url))
    ok(oakling(tmp_path, "db", "migrate", url=url))
    assert "Nothing to apply" in ok(oakling(tmp_path, "db", "migrate", url=url))
    ok(oakling(tmp_path, "db", "downgrade", "base", url=url))
    assert tables(url) == {"alembic_version"}


COMPONENTS = {
    "app.py": """
        from oakling import App
        from shop import shop
        from people import people

        app = App(debug=True)
        app.include(shop)      # included first, yet its tables need people's
        app.include(people)
    """,
    "people/__init__.py": """
        from oakling import Component
        people = Component("people", models="people.models")
    """,
    "people/models.py": """
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column
        from oakling.db import IntegerPK, Model

        class Person(IntegerPK, Model):
            __tablename__ = "person"
            name: Mapped[str] = mapped_column(String(50))
    """,
    "shop/__init__.py": """
        from oakling import Component
        from shop import models
        shop = Component("shop", models=models)
    """,
    "shop/models.py": """
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import Mapped, mapped_column
        from oakling.db import IntegerPK, Model

        class Order(IntegerPK, Model):
            __tablename__ = "shop_order"
            person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
            item: Mapped[str] = mapped_column(String(50))
    """,
    "models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import Mapped, mapped_column
        from oakling.db import IntegerPK, Model

        class Review(IntegerPK, Model):
            __tablename__ = "review"
            order_id: Mapped[int] = mapped_column(ForeignKey("shop_order.id"))
    """,
}


def test_components_have_their_own_branches_applied_in_dependency_order(
    tmp_path: Path, url: str
) -> None:
    write(tmp_path, COMPONENTS)
    ok(oakling(tmp_path, "db", "init", url=url))
    out = ok(oakling(tmp_path, "db", "makemigrations", "-m", "initial", url=url))
    wrote = [line.split()[1:3] for line in out.splitlines() if line.startswith("Wrote")]
    assert [label for label, _ in wrote] == ["people", "shop", "app"]
    people_rev, shop_rev, app_rev = (rev.rstrip(":") for _, rev in wrote)
    assert len(list((tmp_path / "people" / "migrations").glob("*.py"))) == 1
    assert len(list((tmp_path / "shop" / "migrations").glob("*.py"))) == 1
    assert len(list((tmp_path / "migrations").glob("*.py"))) == 1
    shop_file = next((tmp_path / "shop" / "migrations").glob("*.py")).read_text()
    assert f"depends_on: str | Sequence[str] | None = '{people_rev}'" in shop_file
    assert "branch_labels: str | Sequence[str] | None = ('shop',)" in shop_file

    out = ok(oakling(tmp_path, "db", "migrate", url=url))
    applied = [line.split()[1] for line in out.splitlines()]
    assert applied == ["people", "shop", "app"]
    assert tables(url) >= {"person", "shop_order", "review"}
    assert "agree" in ok(oakling(tmp_path, "db", "check", url=url))
    current = ok(oakling(tmp_path, "db", "current", url=url)).split()
    assert current == ["app", app_rev, "people", people_rev, "shop", shop_rev]

    # One component at a time: down (what depends on it goes first) and up again.
    ok(oakling(tmp_path, "db", "downgrade", "app", url=url))
    ok(oakling(tmp_path, "db", "downgrade", "shop", url=url))
    assert "shop_order" not in tables(url)
    assert "person" in tables(url)
    out = ok(oakling(tmp_path, "db", "migrate", "shop", url=url))
    assert [line.split()[1] for line in out.splitlines()] == ["shop"]
    ok(oakling(tmp_path, "db", "migrate", url=url))

    write(
        tmp_path,
        {
            "people/models.py": COMPONENTS["people/models.py"].rstrip()
            + "\n            email: Mapped[str | None]\n"
        },
    )
    out = ok(
        oakling(tmp_path, "db", "makemigrations", "-m", "email", "--component", "shop", url=url)
    )
    assert out == "No changes detected.\n"
    out = ok(
        oakling(tmp_path, "db", "makemigrations", "-m", "email", "--component", "people", url=url)
    )
    assert out.startswith("Wrote people ")
    assert len(list((tmp_path / "people" / "migrations").glob("*.py"))) == 2
    history = ok(oakling(tmp_path, "db", "history", url=url)).splitlines()
    assert [line.split()[0] for line in history] == ["people", "people", "shop", "app"]


def test_makemigrations_refuses_a_component_whose_targets_have_no_migration(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    write(tmp_path, COMPONENTS)
    ok(oakling(tmp_path, "db", "init", url=url))
    result = oakling(tmp_path, "db", "makemigrations", "-m", "x", "--component", "shop", url=url)
    assert result.returncode == 2
    assert result.stderr == (
        "Error: Tables of 'shop' refer to tables of 'people', which has no migration yet: "
        "run `oakling db makemigrations --component people` first\n"
    )
    assert not list((tmp_path / "shop" / "migrations").glob("*.py"))


RENAME = '''
    """rename name to full_name"""
    import sqlalchemy as sa
    from alembic import op

    revision = "0000000000aa"
    down_revision = "{down}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        with op.batch_alter_table("author") as batch_op:
            batch_op.alter_column("name", new_column_name="full_name")


    def downgrade() -> None:
        with op.batch_alter_table("author") as batch_op:
            batch_op.alter_column("full_name", new_column_name="name")
'''

SCORED = """
    from sqlalchemy import String
    from sqlalchemy.orm import Mapped, mapped_column
    from oakling.db import IntegerPK, Model

    class Author(IntegerPK, Model):
        __tablename__ = "author"
        {name}: Mapped[str] = mapped_column(String(50))
        score: Mapped[{score}]
"""


def test_sqlite_rename_and_type_change_keep_the_data_both_ways(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    write(tmp_path, {"app.py": APP, "models.py": SCORED.format(name="name", score="str")})
    ok(oakling(tmp_path, "db", "init", url=url))
    out = ok(oakling(tmp_path, "db", "makemigrations", "-m", "create", url=url))
    first = out.split()[2].rstrip(":")
    ok(oakling(tmp_path, "db", "migrate", url=url))
    rows(url, "INSERT INTO author (id, name, score) VALUES (1, 'Ada', '42'), (2, 'Bob', '7')")

    # The rename is written by hand (autogenerate sees a drop and an add) ...
    write(tmp_path, {"migrations/0000000000aa_rename.py": RENAME.format(down=first)})
    # ... the type change is detected, and rendered in batch mode on SQLite.
    write(tmp_path, {"models.py": SCORED.format(name="full_name", score="int")})
    ok(oakling(tmp_path, "db", "migrate", url=url))
    out = ok(oakling(tmp_path, "db", "makemigrations", "-m", "score is a number", url=url))
    text = Path(out.split()[3]).read_text()
    assert 'with op.batch_alter_table("author", schema=None) as batch_op:' in text.replace("'", '"')
    assert "type_=sa.Integer()" in text
    ok(oakling(tmp_path, "db", "migrate", url=url))
    assert columns(url, "author") == {"id": "INTEGER", "full_name": "VARCHAR", "score": "INTEGER"}
    assert rows(url, "SELECT id, full_name, score FROM author ORDER BY id") == [
        (1, "Ada", 42),
        (2, "Bob", 7),
    ]
    assert "agree" in ok(oakling(tmp_path, "db", "check", url=url))

    ok(oakling(tmp_path, "db", "downgrade", first, url=url))
    assert columns(url, "author") == {"id": "INTEGER", "name": "VARCHAR", "score": "VARCHAR"}
    assert rows(url, "SELECT id, name, score FROM author ORDER BY id") == [
        (1, "Ada", "42"),
        (2, "Bob", "7"),
    ]


FAILING = '''
    """create a table, then fail"""
    import sqlalchemy as sa
    from alembic import op

    revision = "0000000000bb"
    down_revision = "{down}"
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        op.create_table("half", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO no_such_table VALUES (1)")


    def downgrade() -> None:
        op.drop_table("half")
'''


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_failing_migration_leaves_nothing_half_applied(tmp_path: Path, backend: str) -> None:
    with database(backend, tmp_path) as url:
        write(tmp_path, {"app.py": APP, "models.py": AUTHOR_V1})
        ok(oakling(tmp_path, "db", "init", url=url))
        first = ok(oakling(tmp_path, "db", "makemigrations", "-m", "c", url=url)).split()[2]
        write(tmp_path, {"migrations/0000000000bb_fail.py": FAILING.format(down=first[:-1])})
        result = oakling(tmp_path, "db", "migrate", url=url)
        assert result.returncode == 2
        assert result.stderr.startswith("Error: The database refused a statement: ")
        assert "no_such_table" in result.stderr
        assert "Traceback" not in result.stderr
        assert tables(url) <= {"alembic_version"}  # the first revision was rolled back too
        assert ok(oakling(tmp_path, "db", "current", url=url)).startswith("No migration applied")


def test_makemigrations_warns_when_a_column_may_have_been_renamed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    write(tmp_path, {"app.py": APP, "models.py": SCORED.format(name="name", score="str")})
    ok(oakling(tmp_path, "db", "init", url=url))
    ok(oakling(tmp_path, "db", "makemigrations", "-m", "create", url=url))
    ok(oakling(tmp_path, "db", "migrate", url=url))
    write(tmp_path, {"models.py": SCORED.format(name="full_name", score="str")})
    out = ok(oakling(tmp_path, "db", "makemigrations", "-m", "rename?", url=url))
    assert out.splitlines()[1] == (
        "  note: it drops and adds columns; if that is a rename, edit it to use "
        "alter_column(..., new_column_name=...) or the data is lost"
    )


def test_component_ownership_rules(tmp_path: Path) -> None:
    def app_with(*components: Component) -> App:
        app = App(settings=Settings(debug=True))
        for component in components:
            app.include(component)
        return app

    found = project(app_with(Component("fx", models="tests.db.fixture_models")), tmp_path)
    fx = found.branch("fx")
    assert fx.tables == {"fx_writer", "fx_work"}
    assert fx.directory == Path(fixture_models.__file__).parent / "migrations"
    assert found.branch("app").tables == frozenset()  # nothing under tmp_path
    assert found.owner("fx_work") is fx

    moved = Component("fx", models=fixture_models, migrations="../fx_migrations")
    assert project(app_with(moved), tmp_path).branch("fx").directory == (
        Path(fixture_models.__file__).parents[1] / "fx_migrations"
    )
    with pytest.raises(ConfigurationError, match="cannot be called 'app'"):
        project(app_with(Component("app", models=fixture_models)), tmp_path)
    with pytest.raises(ConfigurationError, match="importing its models module 'nowhere' failed"):
        project(app_with(Component("fx", models="nowhere")), tmp_path)
    root = Path(fixture_models.__file__).parent
    with pytest.raises(ConfigurationError, match="would keep its migrations in the project's"):
        project(app_with(Component("fx", models=fixture_models)), root)
