from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from click.testing import Result

from oakling.cli.project import FILES

if TYPE_CHECKING:
    from pathlib import Path

Invoke = Callable[..., Result]


def test_new_creates_a_project_whose_tests_pass(
    invoke: Invoke, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    result = invoke("new", "my-site", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "Created my-site/" in result.stdout
    project = tmp_path / "my-site"
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == sorted(
        FILES
    )
    env_lines = (project / ".env").read_text().splitlines()
    assert "OAKLING_DEBUG=1" in env_lines
    key = next(
        line.split("=", 1)[1] for line in env_lines if line.startswith("OAKLING_SECRET_KEY=")
    )
    assert len(key) >= 50
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    assert "OAKLING_SECRET_KEY=change-me" in (project / ".env.example").read_text()
    assert ".env\n" in (project / ".gitignore").read_text()
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        # NOTE: the generated tests need no plugin; autoloading this venv's (hypothesis...)
        # would triple the run time.
        env={**clean_env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout


def test_new_projects_get_different_secret_keys(invoke: Invoke, tmp_path: Path) -> None:
    invoke("new", "one", cwd=tmp_path)
    invoke("new", "two", cwd=tmp_path)
    one, two = ((tmp_path / name / ".env").read_text() for name in ("one", "two"))
    assert one != two.replace("two", "one")


def test_new_generated_app_passes_the_deploy_check_except_debug_and_hosts(
    invoke: Invoke, tmp_path: Path
) -> None:
    invoke("new", "site", cwd=tmp_path)
    result = invoke("check", "--deploy", cwd=tmp_path / "site")
    assert result.exit_code == 1
    assert [
        line.split()[0] for line in result.stdout.splitlines() if line.startswith("deploy.")
    ] == [
        "deploy.E001",
        "deploy.W005",
    ]


def test_new_refuses_a_non_empty_folder(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("mine")
    result = invoke("new", "site", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Refusing to overwrite site/: the folder exists and is not empty." in result.stderr
    assert os.listdir(tmp_path / "site") == ["notes.txt"]


def test_new_fills_an_empty_folder(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    assert invoke("new", "site", cwd=tmp_path).exit_code == 0
    assert (tmp_path / "site" / "app.py").is_file()


def test_new_refuses_names_that_are_not_plain_folder_names(invoke: Invoke, tmp_path: Path) -> None:
    for name in ("../escape", "a/b", "-rf", ".hidden", "1st", "with space", ""):
        result = invoke("new", "--", name, cwd=tmp_path)
        assert result.exit_code == 2, name
        assert "Invalid project name" in result.stderr
    assert list(tmp_path.iterdir()) == []
