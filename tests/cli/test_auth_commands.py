from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from tests.cli.conftest import Invoke

from oakling.auth import User
from oakling.auth.models import Permission
from oakling.auth.passwords import PasswordHasher
from oakling.db import Model

APP = """
from oakling import App, Settings
from oakling.auth import Auth

app = App(settings=Settings(debug=True, database_url="sqlite:///{db}", password_time_cost=1,
                            password_memory_cost=1024, password_parallelism=1))
app.include(Auth())
"""


def project(tmp_path: Path) -> str:
    database = tmp_path / "site.sqlite3"
    (tmp_path / "app.py").write_text(APP.format(db=database))
    engine = create_engine(f"sqlite:///{database}")
    Model.metadata.create_all(engine)
    engine.dispose()
    return f"sqlite:///{database}"


def users(url: str) -> list[User]:
    engine = create_engine(url)
    with Session(engine) as db:
        found = list(db.scalars(select(User)))
        permissions = db.scalars(select(Permission)).all()
        assert len(permissions) >= 4 * 4  # add/change/delete/view of the auth models at least
    engine.dispose()
    return found


def test_createsuperuser_without_input(invoke: Invoke, tmp_path: Path) -> None:
    url = project(tmp_path)
    env = {"OAKLING_SUPERUSER_PASSWORD": "violet-tram-omelette"}
    result = invoke(
        "createsuperuser",
        "--no-input",
        "--username",
        "root",
        "--email",
        "r@x.org",
        cwd=tmp_path,
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "Superuser 'root' created." in result.output
    [user] = users(url)
    assert (user.username, user.is_superuser, user.is_staff) == ("root", True, True)
    assert PasswordHasher().verify("violet-tram-omelette", user.password)

    again = invoke("createsuperuser", "--no-input", "--username", "root", cwd=tmp_path, env=env)
    assert again.exit_code == 2
    assert "A user 'root' already exists; nothing was saved" in again.output


def test_createsuperuser_prompts_and_validates(invoke: Invoke, tmp_path: Path) -> None:
    url = project(tmp_path)
    answers = (
        "admin\nadmin@example.com\n12345678\n12345678\namber-kettle-lantern\namber-kettle-lantern\n"
    )
    result = invoke("createsuperuser", cwd=tmp_path, input=answers)
    assert result.exit_code == 0, result.output
    assert "This password is too common." in result.output
    [user] = users(url)
    assert user.email == "admin@example.com"


def test_createsuperuser_refuses_a_weak_password_without_input(
    invoke: Invoke, tmp_path: Path
) -> None:
    url = project(tmp_path)
    env = {"OAKLING_SUPERUSER_PASSWORD": "password"}
    result = invoke("createsuperuser", "--no-input", "--username", "x", cwd=tmp_path, env=env)
    assert result.exit_code == 2
    assert "The password was refused" in result.output
    engine = create_engine(url)
    with Session(engine) as db:
        assert db.scalars(select(User)).all() == []  # nothing half-written
    engine.dispose()


def test_changepassword(invoke: Invoke, tmp_path: Path) -> None:
    url = project(tmp_path)
    env = {"OAKLING_SUPERUSER_PASSWORD": "violet-tram-omelette"}
    invoke("createsuperuser", "--no-input", "--username", "root", cwd=tmp_path, env=env)
    result = invoke(
        "changepassword", "root", cwd=tmp_path, input="amber-kettle-lantern\namber-kettle-lantern\n"
    )
    assert result.exit_code == 0, result.output
    [user] = users(url)
    assert PasswordHasher().verify("amber-kettle-lantern", user.password)
    missing = invoke("changepassword", "nobody", cwd=tmp_path)
    assert missing.exit_code == 2
    assert "No user 'nobody'" in missing.output


MIGRATED_APP = """
from oakling import App, Settings
from oakling.auth import Auth

app = App(settings=Settings(debug=True, database_url="{url}", password_time_cost=1,
                            password_memory_cost=1024, password_parallelism=1))
app.include(Auth())
"""


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_the_auth_migrations_apply_and_match_the_models(
    invoke: Invoke, tmp_path: Path, server: str
) -> None:
    from tests.services import mariadb_database, postgres_database

    with postgres_database() if server == "postgresql" else mariadb_database() as url:
        (tmp_path / "app.py").write_text(MIGRATED_APP.format(url=url))
        assert invoke("db", "init", cwd=tmp_path).exit_code == 0
        migrated = invoke("db", "migrate", cwd=tmp_path)
        assert migrated.exit_code == 0, migrated.output
        assert "Applied auth" in migrated.output
        checked = invoke("db", "check", cwd=tmp_path)
        assert checked.exit_code == 0, checked.output
        env = {"OAKLING_SUPERUSER_PASSWORD": "violet-tram-omelette"}
        made = invoke("createsuperuser", "--no-input", "--email", "a@b.org", cwd=tmp_path, env=env)
        assert made.exit_code == 0, made.output
        engine = create_engine(__import__("oakling.db", fromlist=["sync_url"]).sync_url(url))
        with Session(engine) as db:
            [user] = db.scalars(select(User)).all()
            assert user.email == "a@b.org"
        engine.dispose()
