from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from click.testing import Result

from oakling import App, Component, Depends
from oakling.cli.interface import (
    choose_interface,
    granian_command,
    gunicorn_command,
    server_env,
)

if TYPE_CHECKING:
    from pathlib import Path

Invoke = Callable[..., Result]


def sync_app() -> App:
    app = App()

    @app.get("/")
    def index() -> str:
        return "hi"

    return app


def test_sync_app_is_served_over_wsgi() -> None:
    choice = choose_interface(sync_app())
    assert choice.interface == "wsgi"
    assert choice.describe().startswith("WSGI (every handler is sync")


def test_async_handler_needs_asgi() -> None:
    app = sync_app()

    @app.get("/a")
    async def handler() -> str:
        return "a"

    choice = choose_interface(app)
    assert choice.interface == "asgi"
    assert "async handlers or dependencies: " in choice.describe()
    assert "handler" in choice.describe()


def test_async_dependency_needs_asgi() -> None:
    app = sync_app()

    async def get_user() -> str:
        return "ann"

    @app.get("/me")
    def me(user: Annotated[str, Depends(get_user)]) -> str:
        return user

    assert choose_interface(app).interface == "asgi"


def test_websocket_middleware_hooks_and_lifespan_each_need_asgi() -> None:
    app = sync_app()

    @app.websocket("/ws")
    async def ws() -> None: ...

    def middleware(inner: Any) -> Any:
        return inner

    app.add_middleware(middleware)
    blog = Component("blog")

    @blog.before_request
    async def before() -> None: ...

    app.include(blog)

    @app.on_startup
    def startup() -> None: ...

    reasons = choose_interface(app).reasons
    assert len(reasons) == 5
    assert reasons[1] == "websocket routes: /ws"
    assert reasons[2].startswith("ASGI middleware: ")
    assert reasons[3].startswith("async request hooks or error handlers: ")
    assert reasons[4].startswith("start-up/shutdown hooks or a lifespan")


def test_lifespan_alone_needs_asgi() -> None:
    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield

    app = App(lifespan=lifespan)
    assert choose_interface(app).interface == "asgi"


def test_granian_command_targets_the_shim() -> None:
    argv = granian_command("wsgi", "127.0.0.1", 9000, 2, threads=16)
    assert argv[:3] == [sys.executable, "-m", "granian"]
    assert argv[3:] == [
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        "9000",
        "--workers",
        "2",
        "--no-ws",
        "--blocking-threads",
        "16",
        "oakling.cli._target:wsgi",
    ]
    assert granian_command("asgi", "::", 80, 1)[-1] == "oakling.cli._target:asgi"


def test_gunicorn_command_uses_gthread_and_the_shim() -> None:
    argv = gunicorn_command("::1", 9000, 3)
    assert argv[1:] == [
        "-m",
        "gunicorn",
        "--worker-class",
        "gthread",
        "--workers",
        "3",
        "--threads",
        "8",
        "--bind",
        "[::1]:9000",
        "oakling.cli._target:wsgi",
    ]


def test_server_env_sets_target_and_malloc_thresholds_but_keeps_users() -> None:
    env = server_env("app:app", {"PATH": "/bin", "MALLOC_TRIM_THRESHOLD_": "1"})
    assert env == {
        "PATH": "/bin",
        "OAKLING_APP": "app:app",
        "MALLOC_MMAP_THRESHOLD_": "1048576",
        "MALLOC_TRIM_THRESHOLD_": "1",
    }


def test_serve_dry_run_prints_choice_and_command(invoke: Invoke, secret_key: str) -> None:
    result = invoke("serve", "--dry-run", env={"OAKLING_SECRET_KEY": secret_key})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("oakling: interface WSGI (every handler is sync")
    assert lines[1] == "oakling: serving app:app at http://0.0.0.0:8000/ with 1 worker(s)"
    assert lines[2].endswith(
        "-m granian --interface wsgi --host 0.0.0.0 --port 8000 --workers 1 "
        "--no-ws oakling.cli._target:wsgi"
    )


def test_serve_refuses_without_secret_key(invoke: Invoke) -> None:
    result = invoke("serve", "--dry-run")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Refusing to start: SECRET_KEY is not set")
    assert result.stdout == ""


def test_serve_refuses_rsgi_and_conflicting_options(invoke: Invoke, secret_key: str) -> None:
    env = {"OAKLING_SECRET_KEY": secret_key}
    result = invoke("serve", "--dry-run", "--interface", "rsgi", env=env)
    assert result.exit_code == 2
    assert "cannot be served over RSGI" in result.stderr
    result = invoke("serve", "--dry-run", "--wsgi", "--interface", "asgi", env=env)
    assert result.exit_code == 2
    assert "cannot be combined with --interface asgi" in result.stderr
    result = invoke("serve", "--dry-run", "--interface", "asgi", "--threads", "4", env=env)
    assert result.exit_code == 2
    assert "--threads applies to WSGI only" in result.stderr


def test_serve_warns_in_debug_and_when_wsgi_skips_lifespan(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from oakling import App\napp = App()\napp.on_startup(lambda: None)\n"
    )
    result = invoke("serve", "--dry-run", "--wsgi", cwd=tmp_path, env={"OAKLING_DEBUG": "1"})
    assert result.exit_code == 0, result.output
    assert "Warning: debug is on" in result.stderr
    assert "start-up/shutdown hooks will not run" in result.stderr
    assert "gunicorn --worker-class gthread" in result.stdout
