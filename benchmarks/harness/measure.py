"""Verify then time one target, case by case. Runs inside a worker subprocess."""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from harness import asgi, wsgi
from harness.cases import CASES, Case, check

if TYPE_CHECKING:
    from collections.abc import Callable

    from harness.targets import Target

Response = tuple[int, list[tuple[bytes, bytes]], bytes]
AGREE = 1.03  # the best two repeats must be within 3% for a minimum to count as confirmed


@dataclass(slots=True)
class Budget:
    """How long to spend per case."""

    repeats: int = 4
    max_repeats: int = 8
    repeat_seconds: float = 0.1
    warmup_seconds: float = 0.08


@dataclass(slots=True)
class CaseResult:
    """The outcome for one case: either an error or timings in µs/request."""

    case: str
    error: str | None = None
    n: int = 0
    samples_us: list[float] = field(default_factory=list)

    @property
    def best_us(self) -> float:
        """Minimum over repeats of the mean µs/request."""
        return min(self.samples_us)

    def as_json(self) -> dict[str, Any]:
        """Serialisable form, with min and median precomputed."""
        data = asdict(self)
        if self.samples_us:
            data.update(summarize(self.samples_us))
        return data


def confirmed(samples_us: list[float]) -> bool:
    """True when the second-best repeat is within AGREE of the best one.

    Noise only ever adds time, so the minimum is the estimate; a lone low outlier
    cannot happen, but a minimum that no other repeat came near may still be inflated.
    """
    if len(samples_us) < 2:
        return False
    best, second = sorted(samples_us)[:2]
    return second <= best * AGREE


def summarize(samples_us: list[float]) -> dict[str, Any]:
    """Min and median over the repeats, and whether the min was confirmed."""
    return {
        "min_us": min(samples_us),
        "median_us": statistics.median(samples_us),
        "confirmed": confirmed(samples_us),
    }


class Driver:
    """Uniform interface over the ASGI and WSGI in-process drivers."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.app: Any = None
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.lifespan: asgi.Lifespan | None = None

    def start(self) -> None:
        """Import the app and run lifespan startup when it is ASGI."""
        self.app = self.target.load()
        if self.target.interface == "asgi":
            self.lifespan = asgi.Lifespan(self.app)
            self.loop.run_until_complete(self.lifespan.startup())

    def stop(self) -> None:
        """Run lifespan shutdown and close the loop."""
        if self.lifespan is not None:
            self.loop.run_until_complete(self.lifespan.shutdown())
        self.loop.close()

    def prepare(self, case: Case) -> tuple[Callable[[], Response], Callable[[int], Response]]:
        """Return (send one request, send n requests) callables for a case."""
        if self.target.interface == "wsgi":
            return self._prepare_wsgi(case)
        return self._prepare_asgi(case)

    def _prepare_asgi(self, case: Case) -> tuple[Callable[[], Response], Callable[[int], Response]]:
        assert self.lifespan is not None
        factory = asgi.RequestFactory(case, self.lifespan.state)
        run = self.loop.run_until_complete

        def one() -> Response:
            ex = run(asgi.request(self.app, factory))
            return ex.status, ex.headers, ex.body

        def many(n: int) -> Response:
            ex = run(asgi.run_many(self.app, factory, n))
            return ex.status, ex.headers, ex.body

        return one, many

    def _prepare_wsgi(self, case: Case) -> tuple[Callable[[], Response], Callable[[int], Response]]:
        factory = wsgi.EnvironFactory(case)

        def one() -> Response:
            res = wsgi.request(self.app, factory)
            return res.status, res.headers, res.body

        def many(n: int) -> Response:
            res = wsgi.run_many(self.app, factory, n)
            return res.status, res.headers, res.body

        return one, many


def measure_target(target: Target, budget: Budget) -> dict[str, Any]:
    """Start the target's app, verify and time every case, and return a JSON-able report."""
    report: dict[str, Any] = {"key": target.key, "error": None, "cases": []}
    driver = Driver(target)
    try:
        driver.start()
    except Exception:
        report["error"] = "could not start app: " + describe_exception()
        return report
    report["lifespan"] = bool(driver.lifespan and driver.lifespan.supported)
    for case in CASES:
        report["cases"].append(measure_case(driver, case, budget).as_json())
    try:
        driver.stop()
    except Exception:
        report["shutdown_error"] = describe_exception()
    return report


def describe_exception() -> str:
    """The current exception on one line, with the innermost frame, then the traceback."""
    exc_type, exc, tb = sys.exc_info()
    frames = traceback.extract_tb(tb)
    where = (
        f" (at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    )
    name = exc_type.__name__ if exc_type else "Exception"
    return f"{name}: {exc}{where}\n" + traceback.format_exc(limit=-8)


def measure_case(driver: Driver, case: Case, budget: Budget) -> CaseResult:
    """Verify one case's response, then time it."""
    result = CaseResult(case.name)
    try:
        one, many = driver.prepare(case)
        result.error = check(case, *one())
        if result.error is None:
            _time(result, case, many, budget)
    except Exception:
        result.error = "raised " + describe_exception()
    return result


def _time(result: CaseResult, case: Case, many: Callable[[int], Response], budget: Budget) -> None:
    """Time `repeats` batches, and more (up to `max_repeats`) until the minimum is confirmed."""
    per_request = _warm_up(many, budget.warmup_seconds)
    result.n = max(20, round(budget.repeat_seconds / per_request))
    samples = result.samples_us
    while len(samples) < budget.max_repeats:
        if len(samples) >= budget.repeats and confirmed(samples):
            return
        gc.collect()
        start = time.perf_counter_ns()
        last = many(result.n)
        samples.append((time.perf_counter_ns() - start) / result.n / 1000)
        error = check(case, *last)
        if error is not None:
            result.error = f"a timed request went wrong: {error}"
            return


def _warm_up(many: Callable[[int], Response], seconds: float) -> float:
    """Run growing batches until one takes `seconds`/4; return the seconds per request."""
    n, spent, per_request = 10, 0.0, 0.0
    while spent < seconds:
        start = time.perf_counter_ns()
        many(n)
        elapsed = (time.perf_counter_ns() - start) / 1e9
        spent += elapsed
        per_request = elapsed / n
        if elapsed < seconds / 4:
            n *= 2
    return per_request


_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}
_BODY = {"type": "http.response.body", "body": b"Hello, World!"}


async def _null_asgi(scope: Any, receive: Any, send: Any) -> None:
    await send(_START)
    await send(_BODY)


def _null_wsgi(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!"]


def measure_floor(budget: Budget) -> dict[str, float]:
    """µs/request of the harness itself: apps that only send a constant response."""
    loop = asyncio.new_event_loop()
    factory = asgi.RequestFactory(CASES[0], {})
    environ = wsgi.EnvironFactory(CASES[0])

    def asgi_many(n: int) -> Response:
        ex = loop.run_until_complete(asgi.run_many(_null_asgi, factory, n))
        return ex.status, ex.headers, ex.body

    def wsgi_many(n: int) -> Response:
        res = wsgi.run_many(_null_wsgi, environ, n)
        return res.status, res.headers, res.body

    floors = {}
    for name, many in (("asgi", asgi_many), ("wsgi", wsgi_many)):
        result = CaseResult("floor")
        _time(result, CASES[0], many, budget)
        floors[name] = result.best_us
    loop.close()
    return floors
