from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Invoke = Callable[..., Result]

COMMANDS = ["check", "new", "openapi", "routes", "run", "serve", "shell"]


def test_routes_lists_methods_path_name_handler_sorted_by_path(invoke: Invoke) -> None:
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Methods", "Path", "Name", "Handler"]
    rows = [line.split() for line in lines[2:]]
    assert rows == [
        ["GET", "/", "index", "app.index"],
        ["POST", "/api/items", "create", "app.create"],
        ["GET", "/api/items/{item_id}", "item", "app.item"],
        ["GET", "/debug", "debug", "app.debug"],
    ]


def test_routes_marks_websocket_routes(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "asyncapp")
    assert result.exit_code == 0, result.output
    assert ["WS", "/ws", "echo", "app.echo"] in [
        line.split() for line in result.stdout.splitlines()
    ]


def test_routes_shows_qualified_names_of_factory_handlers(invoke: Invoke, apps: Path) -> None:
    result = invoke("routes", cwd=apps / "factory")
    assert "app.create_app.<locals>.index" in result.stdout


def test_routes_of_an_empty_app(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from oakling import App\napp = App()\n")
    result = invoke("routes", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout == "No routes.\n"


def test_check_passes_in_debug(invoke: Invoke) -> None:
    result = invoke("check", env={"OAKLING_DEBUG": "1"})
    assert result.exit_code == 0, result.output
    assert result.stdout == "No issues found.\n"


def test_check_fails_without_secret_key_outside_debug(invoke: Invoke) -> None:
    result = invoke("check")
    assert result.exit_code == 1
    assert "app.E001 (error): SECRET_KEY is not set" in result.stdout


def test_check_deploy_lists_each_issue_with_id_and_fix(invoke: Invoke) -> None:
    env = {"OAKLING_DEBUG": "1", "OAKLING_ALLOWED_HOSTS": "*", "OAKLING_SECURE_SSL_REDIRECT": "1"}
    result = invoke("check", "--deploy", env=env)
    assert result.exit_code == 1
    out = result.stdout
    assert "deploy.E001 (error): Debug mode is on" in out
    assert "deploy.E002 (error): The secret key is not set" in out
    assert "deploy.W004 (warning): Allowed hosts contain '*'" in out
    assert out.count("    fix: ") == 3
    assert "Found 2 error(s) and 1 warning(s)." in out


def test_check_deploy_reports_a_missing_key_once(invoke: Invoke) -> None:
    result = invoke("check", "--deploy")
    assert "deploy.E002" in result.stdout
    assert "app.E001" not in result.stdout


def test_check_deploy_with_only_warnings_exits_0(invoke: Invoke) -> None:
    result = invoke("check", "--deploy", env={"OAKLING_SECRET_KEY": "short-but-not-known"})
    assert result.exit_code == 0, result.output
    assert (
        "deploy.W003 (warning): The secret key is weak: it is 19 characters long" in result.stdout
    )
    assert "deploy.W005" in result.stdout


def test_check_deploy_clean_settings(invoke: Invoke, secret_key: str) -> None:
    env = {
        "OAKLING_SECRET_KEY": secret_key,
        "OAKLING_ALLOWED_HOSTS": "example.com",
        "OAKLING_SECURE_SSL_REDIRECT": "1",
    }
    result = invoke("check", "--deploy", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "No issues found.\n"


def test_check_deploy_warns_about_plain_http_by_default(invoke: Invoke, secret_key: str) -> None:
    env = {"OAKLING_SECRET_KEY": secret_key, "OAKLING_ALLOWED_HOSTS": "example.com"}
    result = invoke("check", "--deploy", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("security.W008 (warning): Plain HTTP requests")


def test_shell_has_app_and_settings(invoke: Invoke) -> None:
    result = invoke(
        "shell",
        "--plain",
        input="print(type(app).__name__, settings.debug)\n",
        env={"OAKLING_DEBUG": "1"},
    )
    assert result.exit_code == 0, result.output
    assert "oakling shell: app = <App routes=4 debug=True>" in result.output
    assert "App True" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {command} ")
    assert len(result.stdout.splitlines()) > 4


def test_group_help_lists_commands_and_quick_start(invoke: Invoke) -> None:
    result = invoke("--help")
    for command in COMMANDS:
        assert f"\n  {command} " in result.stdout
    assert "Quick start:\n    oakling new mysite" in result.stdout


def test_console_script_runs_and_import_oakling_does_not_load_click() -> None:
    script = str(Path(sys.executable).with_name("oakling"))
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("oakling, version ")
    code = "import sys, oakling, oakling.cli, oakling.cli._target; print('click' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
