from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from click.testing import Result

from oakling import App
from oakling.cli.discovery import DiscoveryError, load_app

if TYPE_CHECKING:
    from pathlib import Path

Invoke = Callable[..., Result]


def test_load_app_finds_app_py_in_the_folder(apps: Path) -> None:
    loaded = load_app(cwd=apps / "hello")
    assert isinstance(loaded.app, App)
    assert loaded.target == "app:app"


def test_load_app_calls_a_create_app_factory(apps: Path) -> None:
    loaded = load_app(cwd=apps / "factory")
    assert loaded.target == "app:create_app"
    assert [route.path for route in loaded.app.router.routes()] == ["/"]


def test_load_app_accepts_a_file_path_and_a_call(apps: Path) -> None:
    loaded = load_app("factory/app.py:create_app()", cwd=apps)
    assert isinstance(loaded.app, App)
    assert loaded.target == "factory/app.py:create_app()"


def test_load_app_falls_back_to_main_py_and_names_the_app_it_finds(apps: Path) -> None:
    with pytest.raises(
        DiscoveryError, match=r"It defines application: pass --app main:application"
    ):
        load_app(cwd=apps / "mainpy")
    assert load_app("main:application", cwd=apps / "mainpy").target == "main:application"


def test_load_app_keeps_the_cause_of_an_import_failure(apps: Path) -> None:
    with pytest.raises(DiscoveryError) as info:
        load_app(cwd=apps / "runtime_error")
    assert isinstance(info.value.cause, RuntimeError)
    assert str(info.value) == "Importing 'app' failed: RuntimeError: the database is down"


def test_no_app_in_the_folder_says_where_it_looked(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("routes", cwd=tmp_path)
    assert result.exit_code == 2
    assert f"No app found: there is no app.py or main.py in {tmp_path}" in result.stderr
    assert "--app module:attr" in result.stderr


def test_unknown_module_is_reported_as_not_found(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("--app", "no_such_module_here", "routes", cwd=tmp_path)
    assert result.exit_code == 2
    assert "could not import module 'no_such_module_here'" in result.stderr


def test_missing_file_path_is_reported(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("routes", "--app", "src/site.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert "the file 'src/site.py' does not exist" in result.stderr


def test_syntax_error_shows_file_and_line_without_traceback(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "syntax_error")
    assert result.exit_code == 2
    assert "Importing 'app' failed: SyntaxError: '(' was never closed" in result.stderr
    assert "syntax_error/app.py, line 3" in result.stderr
    assert "Traceback" not in result.stderr
    assert "--debug" in result.stderr


def test_import_error_inside_the_module_names_the_missing_package(
    invoke: Invoke, apps: Path
) -> None:
    result = invoke("routes", cwd=apps / "import_error")
    assert result.exit_code == 2
    assert (
        "Importing 'app' failed: ModuleNotFoundError: No module named 'oakling_no_such_package'"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback_of_the_users_code_only(invoke: Invoke, apps: Path) -> None:
    result = invoke("--debug", "routes", cwd=apps / "runtime_error")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("the database is down")' in result.stderr
    assert "importlib" not in result.stderr
    assert "discovery.py" not in result.stderr


def test_oakling_debug_env_also_shows_the_traceback(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "import_error", env={"OAKLING_DEBUG": "1"})
    assert "Traceback (most recent call last)" in result.stderr


def test_attribute_that_is_not_an_app_is_refused(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "not_an_app")
    assert result.exit_code == 2
    assert "app:app is not an oakling App (it is a value of type dict)" in result.stderr


def test_missing_attribute_is_reported(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", "--app", "app:application", cwd=apps / "hello")
    assert result.exit_code == 2
    assert "Module 'app' has no attribute 'application'. It defines app." in result.stderr


def test_factory_that_needs_arguments_is_reported(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "mysite.py").write_text("def create_app(config):\n    return None\n")
    result = invoke("--app", "mysite:create_app", "routes", cwd=tmp_path)
    assert result.exit_code == 2
    assert "mysite:create_app() must be callable without arguments" in result.stderr


def test_module_name_taken_by_another_module_is_reported(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "site.py").write_text("from oakling import App\napp = App()\n")
    result = invoke("--app", "site:app", "routes", cwd=tmp_path)
    assert result.exit_code == 2
    assert "The module name 'site' is taken: it was imported from" in result.stderr


def test_factory_returning_something_else_is_reported(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("def create_app():\n    return None\n")
    result = invoke("routes", cwd=tmp_path)
    assert result.exit_code == 2
    assert "main:create_app() returned None, not an oakling App" in result.stderr


def test_app_option_on_the_command_overrides_env_and_group(invoke: Invoke, apps: Path) -> None:
    result = invoke(
        "--app",
        "nothing:here",
        "routes",
        "--app",
        "main:application",
        cwd=apps / "mainpy",
        env={"OAKLING_APP": "also:wrong"},
    )
    assert result.exit_code == 0, result.output
    assert "main.index" in result.stdout


def test_oakling_app_env_names_the_app(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "mainpy", env={"OAKLING_APP": "main:application"})
    assert result.exit_code == 0, result.output
