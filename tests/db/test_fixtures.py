"""Fixtures: dump and load round-trip every type; a bad file loads nothing and says why."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from tests.db import fixture_models as fm
from tests.db.cli_support import BACKENDS, database

from oakling.cli import cli
from oakling.db.fixtures import FixtureError, dumps, loads
from oakling.db.migrations import Migrations

TOKEN = "6f1c2b8e-0d4a-4c1e-9b1a-2f5e8c7d9a01"
RECORDS: list[dict[str, Any]] = [
    # a work before its writer, a pupil before the mentor: load sorts them
    {
        "model": "fx.Work",
        "pk": 1,
        "fields": {
            "writer_id": 2,
            "title": "Notes",
            "price": "12.50",
            "published": "2024-05-06T07:08:09+00:00",
            "cover": "AAEC/w==",
            "kind": "poetry",
            "in_print": False,
            "rating": 4.5,
            "extra": {"tags": ["a", "b"], "n": 1},
        },
    },
    {"model": "fx.Writer", "pk": 2, "fields": {"name": "Bob", "mentor_id": 1}},
    {
        "model": "fx.Writer",
        "pk": 1,
        "fields": {"name": "Ada", "born": "1815-12-10", "token": TOKEN},
    },
]


@pytest.fixture(params=BACKENDS)
def migrations(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Migrations]:
    with database(str(request.param), tmp_path) as url:
        found = Migrations(fm.make_app(url), root=tmp_path)
        engine = found.engine()
        tables = [fm.Writer.__table__, fm.Work.__table__]
        fm.Model.metadata.create_all(engine, tables=tables)  # type: ignore[arg-type]
        try:
            yield found
        finally:
            fm.Model.metadata.drop_all(engine, tables=tables)  # type: ignore[arg-type]
            engine.dispose()


@pytest.fixture
def sqlite(tmp_path: Path) -> Migrations:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    found = Migrations(fm.make_app(url), root=tmp_path)
    engine = found.engine()
    fm.Model.metadata.create_all(engine, tables=[fm.Writer.__table__, fm.Work.__table__])  # type: ignore[list-item]
    engine.dispose()
    return found


def _count(migrations: Migrations) -> int:
    engine = migrations.engine()
    with engine.connect() as connection:
        return sum(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (fm.Writer.__table__, fm.Work.__table__)  # type: ignore[misc]
        )


def test_load_then_dump_round_trips_every_type(migrations: Migrations) -> None:
    engine = migrations.engine()
    assert loads(migrations.project, engine, json.dumps(RECORDS)) == 3
    with sa.orm.Session(engine) as session:
        work = session.get_one(fm.Work, 1)
        ada = session.get_one(fm.Writer, 1)
        assert work.price == decimal.Decimal("12.50")
        assert work.cover == b"\x00\x01\x02\xff"
        assert work.kind is fm.Kind.poetry
        assert work.in_print is False
        assert work.extra == {"tags": ["a", "b"], "n": 1}
        assert work.published is not None
        assert work.published.replace(tzinfo=None) == dt.datetime(2024, 5, 6, 7, 8, 9)
        assert ada.token == uuid.UUID(TOKEN)
        assert ada.born == dt.date(1815, 12, 10)

    first = dumps(migrations.project, engine)
    records = json.loads(first)
    assert [(r["model"], r["pk"]) for r in records] == [
        ("fx.Writer", 1),
        ("fx.Writer", 2),
        ("fx.Work", 1),
    ]
    assert records[0]["fields"] == {
        "name": "Ada",
        "born": "1815-12-10",
        "token": TOKEN,
        "mentor_id": None,
    }
    assert records[2]["fields"]["price"] == "12.50"
    assert records[2]["fields"]["cover"] == "AAEC/w=="
    assert records[2]["fields"]["kind"] == "poetry"

    # Loading a dump again changes nothing (rows are updated in place) ...
    assert loads(migrations.project, engine, first) == 3
    assert dumps(migrations.project, engine) == first
    # ... and the integer keys' sequences were moved past the loaded ids.
    with engine.begin() as connection:
        connection.execute(sa.insert(fm.Writer.__table__).values(name="New"))  # type: ignore[arg-type]
    assert json.loads(dumps(migrations.project, engine, ["Writer"]))[-1]["pk"] == 3


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"model": "fx.Novel", "pk": 9, "fields": {}},
            "record 1 (pk=9): unknown model 'fx.Novel'; known: fx.Work, fx.Writer",
        ),
        (
            {"model": "fx.Writer", "pk": 9, "fields": {"nmae": "X"}},
            "record 1 (fx.Writer, pk=9): unknown field 'nmae'; fields: id, name, born, token, "
            "mentor_id",
        ),
        (
            {"model": "fx.Writer", "pk": 9, "fields": {"name": 5}},
            "record 1 (fx.Writer, pk=9): field 'name': expected a string, got 5",
        ),
        (
            {"model": "fx.Writer", "pk": 9, "fields": {"name": "X", "born": "10/12/1815"}},
            "record 1 (fx.Writer, pk=9): field 'born': cannot read '10/12/1815': "
            "Invalid isoformat string: '10/12/1815'",
        ),
        (
            {"model": "fx.Work", "pk": 9, "fields": {"writer_id": 1, "title": "T", "price": "x"}},
            "record 1 (fx.Work, pk=9): field 'price': expected a number, got 'x'",
        ),
        (
            {"model": "fx.Work", "pk": 9, "fields": {"kind": "opera"}},
            "record 1 (fx.Work, pk=9): field 'kind': 'opera' is not one of novel, poetry",
        ),
        (
            {"model": "fx.Writer", "pk": "nine", "fields": {"name": "X"}},
            "record 1 (fx.Writer, pk='nine'): field 'id': expected an integer, got 'nine'",
        ),
        ("Writer 9", "record 1: expected an object with model, pk and fields"),
    ],
)
def test_a_bad_record_loads_nothing_and_is_named(
    sqlite: Migrations, record: Any, message: str
) -> None:
    good = {"model": "fx.Writer", "pk": 1, "fields": {"name": "Ada"}}
    with pytest.raises(FixtureError) as caught:
        loads(sqlite.project, sqlite.engine(), json.dumps([good, record]))
    assert str(caught.value) == message
    assert caught.value.index == 1
    assert _count(sqlite) == 0


def test_a_constraint_violation_rolls_back_the_whole_file(migrations: Migrations) -> None:
    data = [
        {"model": "fx.Writer", "pk": 1, "fields": {"name": "Ada"}},
        {"model": "fx.Writer", "pk": 2, "fields": {"name": "Bob"}},
        {"model": "fx.Writer", "pk": 3, "fields": {"name": "Ada"}},  # duplicate name
    ]
    with pytest.raises(FixtureError) as caught:
        loads(migrations.project, migrations.engine(), json.dumps(data))
    assert str(caught.value).startswith("record 2 (fx.Writer, pk=3): constraint violation: ")
    assert (caught.value.index, caught.value.model, caught.value.pk) == (2, "fx.Writer", 3)
    assert _count(migrations) == 0


def test_a_missing_reference_is_a_constraint_violation(sqlite: Migrations) -> None:
    data = [{"model": "fx.Work", "pk": 1, "fields": {"writer_id": 7, "title": "T", "price": 1}}]
    engine = sqlite.engine()
    sa.event.listen(engine, "connect", lambda c, _: c.execute("PRAGMA foreign_keys = ON"))
    with pytest.raises(FixtureError, match=r"^record 0 \(fx.Work, pk=1\): constraint violation: "):
        loads(sqlite.project, engine, json.dumps(data))


def test_not_json_and_not_a_list(sqlite: Migrations) -> None:
    with pytest.raises(FixtureError, match=r"^data.json is not valid JSON: "):
        loads(sqlite.project, sqlite.engine(), "[{", source="data.json")
    with pytest.raises(FixtureError, match=r"^a fixture file holds a JSON list of records$"):
        loads(sqlite.project, sqlite.engine(), "{}")


def test_dump_and_load_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    (tmp_path / "site_fx.py").write_text(
        f"from tests.db.fixture_models import make_app\napp = make_app({url!r})\n"
    )
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("OAKLING_")]:
        monkeypatch.delenv(key)
    migrations = Migrations(fm.make_app(url), root=tmp_path)
    fm.Model.metadata.create_all(
        migrations.engine(), tables=[fm.Writer.__table__, fm.Work.__table__]
    )  # type: ignore[list-item]
    (tmp_path / "data.json").write_text(json.dumps(RECORDS))
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "load", "data.json", "--app", "site_fx:app"])
    assert result.exit_code == 0, result.output
    assert result.output == "Loaded 3 record(s) from data.json.\n"
    result = runner.invoke(cli, ["db", "dump", "Work", "--app", "site_fx:app"])
    assert result.exit_code == 0, result.output
    assert [r["model"] for r in json.loads(result.output)] == ["fx.Work"]
    result = runner.invoke(cli, ["db", "dump", "Nope", "--app", "site_fx:app"])
    assert result.exit_code == 2
    assert result.output == "Error: unknown model 'Nope'; known: fx.Work, fx.Writer\n"
    (tmp_path / "bad.json").write_text(json.dumps([{"model": "fx.Writer", "pk": 5, "fields": {}}]))
    result = runner.invoke(cli, ["db", "load", "bad.json", "--app", "site_fx:app"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: record 0 (fx.Writer, pk=5): constraint violation: ")
    result = runner.invoke(cli, ["db", "load", "missing.json", "--app", "site_fx:app"])
    assert result.output == "Error: Cannot read missing.json: No such file or directory\n"
