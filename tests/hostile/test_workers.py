"""A worker killed with SIGKILL under load: the master starts another, only in-flight
requests may fail.

granian restarts a dead worker only with ``--respawn-failed-workers``; gunicorn always does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.conftest import Kind, Server, start, stop

from .conftest import HERE

pytestmark = pytest.mark.server

CLIENTS = 4  # concurrent clients: at most this many requests are in flight at once

TWO_WORKERS = {
    "granian": Kind(
        "granian-asgi",
        "asgi",
        "granian",
        "granian",
        (
            *("-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"),
            *("--port", "{port}", "--workers", "2", "--no-access-log"),
            *("--respawn-failed-workers", "--respawn-interval", "0.2"),
            "hostileapp:app",
        ),
    ),
    "gunicorn": Kind(
        "gunicorn",
        "wsgi",
        "gunicorn",
        "gunicorn",
        (
            *("-m", "gunicorn", "--bind", "127.0.0.1:{port}", "--workers", "2"),
            *("--worker-class", "gthread", "--threads", "2", "--graceful-timeout", "5"),
            "--no-control-socket",
            "hostileapp:wsgi_app",
        ),
    ),
}


def workers(pid: int) -> set[int]:
    """The process ids of ``pid``'s children."""
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.update(int(child) for child in text)
    return children


@pytest.fixture(params=list(TWO_WORKERS))
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = start(
        TWO_WORKERS[request.param],
        tmp_path / "server.log",
        {"PYTHONPATH": str(HERE)},
    )
    try:
        deadline = time.monotonic() + 20
        while len(workers(server.process.pid)) < 2:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        yield server
    finally:
        stop(server)


def test_killed_worker_is_replaced_and_only_in_flight_requests_fail(two_workers: Server) -> None:
    server = two_workers
    master = server.process.pid
    results: list[bool] = []
    phase: list[str] = []  # "before", "killed", "after", appended by the test
    # failures by (phase when the request started, phase when it ended)
    failures: list[tuple[str, str, str]] = []
    stop_event = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        # NOTE: a new connection per request, so that a connection bound to the dead
        # worker is never reused after the in-flight request.
        with httpx.Client(
            base_url=server.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)
        ) as http:
            while not stop_event.is_set():
                started = phase[-1]
                try:
                    response = http.get("/plain")
                    error = "" if response.status_code == 200 else response.text[:200]
                except httpx.TransportError as exc:
                    error = repr(exc)
                with lock:
                    results.append(not error)
                    if error:
                        failures.append((started, phase[-1], error))

    phase.append("before")
    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(results) < 100:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        old = workers(master)
        victim = min(old)
        phase.append("killed")
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while True:
            now = workers(master)
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, f"no new worker: {now}\n{server.output()}"
            time.sleep(0.05)
        phase.append("after")
        served = len(results)
        deadline = time.monotonic() + 10
        while len(results) < served + 200:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        stop_event.set()
        for thread in threads:
            thread.join(10)
    # a request that failed had to be in flight when the worker died: it did not end
    # before the kill, nor start once the new worker was up; at most one per client
    assert not [f for f in failures if f[1] == "before" or f[0] == "after"], failures
    assert len(failures) <= CLIENTS, failures
    assert server.process.poll() is None  # the master kept running
