"""``oakling run`` and ``oakling serve`` as real processes, hit over HTTP."""

from __future__ import annotations

import importlib.metadata
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.server

Start = Callable[[list[str], Path, dict[str, str]], AbstractContextManager[Any]]


def _proc_file(pid: int, name: str) -> list[str]:
    path = Path(f"/proc/{pid}/{name}")
    return path.read_bytes().decode().split("\0") if path.exists() else []


def test_run_serves_in_debug_with_access_log_and_reload(
    start: Start, apps: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(apps / "hello", project, ignore=shutil.ignore_patterns("__pycache__"))
    with start(["run"], project, clean_env) as server:
        assert httpx.get(server.url + "/debug").json() == {"debug": True, "access_log": True}
        source = project / "app.py"
        changed = source.read_text().replace('"<h1>Hello</h1>"', '"<h1>Reloaded</h1>"')
        deadline = time.monotonic() + 20
        next_write = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_write:
                # NOTE: the reloader may start watching after the server answers: an edit
                # made before that goes unseen, so edit again until the app reloads.
                source.write_text(changed + f"\n# edit {next_write}\n")
                next_write = time.monotonic() + 2
            try:
                if httpx.get(server.url + "/", timeout=1).text == "<h1>Reloaded</h1>":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the app was not reloaded")
    assert f"oakling: serving app:app at {server.url}/ (debug on, reload on" in server.output
    assert 'oakling.access: 127.0.0.1 "GET /debug" 200' in server.output
    assert "uvicorn.access" not in server.output
    assert '"GET /debug HTTP/1.1" 200' not in server.output  # uvicorn's own access log is off


def test_run_without_reload(start: Start, apps: Path, clean_env: dict[str, str]) -> None:
    with start(["run", "--no-reload"], apps / "factory", clean_env) as server:
        assert httpx.get(server.url + "/").text == "made by a factory"
    assert "reload off" in server.output


def test_serve_picks_wsgi_on_granian_for_a_sync_app(
    start: Start, apps: Path, clean_env: dict[str, str], secret_key: str
) -> None:
    env = {**clean_env, "OAKLING_SECRET_KEY": secret_key}
    with start(["serve"], apps / "hello", env) as server:
        response = httpx.get(server.url + "/api/items/7")
        assert response.json() == {"id": 7}
        assert response.headers["server"] == "granian"
        assert httpx.get(server.url + "/debug").json()["debug"] is False
        cmdline = _proc_file(server.process.pid, "cmdline")
        environ = _proc_file(server.process.pid, "environ")
    if cmdline:
        assert cmdline[1:4] == ["-m", "granian", "--interface"]
        assert "oakling.cli._target:wsgi" in cmdline
        assert "MALLOC_MMAP_THRESHOLD_=1048576" in environ
        assert "MALLOC_TRIM_THRESHOLD_=4194304" in environ
    assert "oakling: interface WSGI (every handler is sync" in server.output


def test_serve_picks_asgi_on_granian_for_async_and_websockets(
    start: Start, apps: Path, clean_env: dict[str, str], secret_key: str
) -> None:
    env = {**clean_env, "OAKLING_SECRET_KEY": secret_key}
    with start(["serve"], apps / "asyncapp", env) as server:
        assert httpx.get(server.url + "/").json() == {"hello": "async"}
        assert httpx.get(server.url + "/sync").text == "sync"
        sync_client = pytest.importorskip("websockets.sync.client")
        with sync_client.connect(server.url.replace("http", "ws") + "/ws") as ws:
            ws.send("ping")
            assert ws.recv() == "ping"
    assert (
        "oakling: interface ASGI (async handlers or dependencies: app.index, app.echo; "
        "websocket routes: /ws)"
    ) in server.output


def test_serve_wsgi_uses_gunicorn(
    start: Start, apps: Path, clean_env: dict[str, str], secret_key: str
) -> None:
    env = {**clean_env, "OAKLING_SECRET_KEY": secret_key}
    if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 27:
        # NOTE: gunicorn 27 opens a control socket in ~/.gunicorn by default; parallel
        # test servers would fight over it.
        env["GUNICORN_CMD_ARGS"] = "--no-control-socket"
    with start(["serve", "--wsgi", "--workers", "2"], apps / "factory", env) as server:
        response = httpx.get(server.url + "/")
        assert response.text == "made by a factory"
        assert response.headers["server"] == "gunicorn"
    assert "oakling: interface WSGI on gunicorn (--wsgi)" in server.output
    assert "Using worker: gthread" in server.output
