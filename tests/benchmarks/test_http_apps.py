"""The HTTP benchmark's oakling apps answer the six TechEmpower tests by the rules.

Runs the verification step of ``benchmarks/http/run.py`` (no timing) against oakling's
async app served by granian, on a throwaway PostgreSQL database filled as the benchmark does.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.services import postgres_database

HTTP = Path(__file__).resolve().parents[2] / "benchmarks" / "http"
TESTS = ["json", "plaintext", "db", "queries", "updates", "fortunes"]

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def bench_dsn() -> Iterator[str]:
    pytest.importorskip("asyncpg")
    pytest.importorskip("jinja2")
    pytest.importorskip("granian")
    with postgres_database() as url:
        yield url


@pytest.fixture
def http_modules(bench_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, ...]]:
    monkeypatch.setenv("TFB_DSN", bench_dsn)  # read by the servers' tfb module
    monkeypatch.setenv("TFB_LOOP", "auto")  # uvloop is a benchmark-only dependency
    monkeypatch.syspath_prepend(str(HTTP))
    for name in ("tfb", "database", "targets", "servers", "verify"):
        sys.modules.pop(name, None)
    modules = tuple(importlib.import_module(n) for n in ("database", "servers", "targets"))
    verify = importlib.import_module("verify")
    yield (*modules, verify)
    for name in ("tfb", "database", "targets", "servers", "verify"):
        sys.modules.pop(name, None)


def test_oakling_http_app_passes_techempower_checks(
    bench_dsn: str, http_modules: tuple[Any, ...], tmp_path: Path
) -> None:
    database, servers, targets, verify = http_modules
    database.ensure(bench_dsn)
    (target,) = targets.select("granian-asgi:oakling")
    with servers.running(target, tmp_path) as server:
        failures = verify.verify(server.port, TESTS, bench_dsn)
    assert failures == {}
