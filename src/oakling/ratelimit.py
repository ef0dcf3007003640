"""Rate limits: ``@rate_limit("5/minute")`` on a route, or ``limiter.hit(...)`` by hand.

Counting uses GCRA (the generic cell rate algorithm): per key, one timestamp, the
"theoretical arrival time"; a limit of N per window admits a burst of N, then one
request every window/N. It is exact (no fixed-window double bursts) and O(1) in
time and space.

Two stores: ``MemoryStore`` (one process; the default) and ``RedisStore`` (shared
by every process and machine; the check is one atomic Lua script). A Redis that
does not answer within its timeout gives a 503, never a hung worker and never an
unlimited endpoint.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from oakling.exceptions import ConfigurationError, ServiceUnavailable, TooManyRequests
from oakling.http.request import Request  # noqa: TC001  # read at runtime by injection
from oakling.params import guard

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "Decision",
    "Limiter",
    "MemoryStore",
    "Rate",
    "RateStore",
    "RedisStore",
    "by_ip",
    "limiter",
    "rate_limit",
)

_UNITS = {
    "s": 1,
    "second": 1,
    "m": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Read ``"5/minute"``, ``"100/hour"``, ``"10/30s"``, ``"1000/day"``.

        Raises:
            ConfigurationError: The text is not a rate.
        """
        match = _RATE.match(text.lower())
        unit = _UNITS.get(match.group(3)) if match else None
        if match is None or unit is None or int(match.group(1)) <= 0:
            raise ConfigurationError(
                f"{text!r} is not a rate; write COUNT/PERIOD, e.g. '5/minute', '100/hour', "
                "'10/30s' (units: second, minute, hour, day)"
            )
        return cls(int(match.group(1)), int(match.group(2) or 1) * unit)

    @property
    def interval(self) -> float:
        """Seconds between requests once the burst is spent."""
        return self.period / self.limit


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit: allowed or not, and when to retry."""

    allowed: bool
    retry_after: float
    """Seconds until a request would be allowed (0 when allowed)."""


class RateStore(Protocol):
    """Where GCRA timestamps live."""

    def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Count ``cost`` requests for ``key``; say whether they are allowed."""
        ...

    def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login, say)."""
        ...


def _gcra(tat: float, now: float, rate: Rate, cost: int) -> tuple[Decision, float]:
    # NOTE: the theoretical arrival time moves one interval per request; a request is
    # allowed while it stays within one period of now (that is the burst).
    tat = max(tat, now)
    new_tat = tat + rate.interval * cost
    wait = new_tat - rate.period - now
    if wait > 1e-6:  # NOTE: a tolerance: (now + period) - period may not equal now in floats
        return Decision(False, wait), tat
    return Decision(True, 0.0), new_tat


class MemoryStore:
    """Counters in this process's memory: right for one process, and for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._next_sweep = 0.0

    def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Count ``cost`` requests for ``key``."""
        with self._lock:
            now = self._clock()
            if now >= self._next_sweep:
                self._sweep(now)
            decision, tat = _gcra(self._tats.get(key, now), now, rate, cost)
            self._tats[key] = tat
            return decision

    def _sweep(self, now: float) -> None:
        # NOTE: a key whose arrival time has passed is as good as new: drop it, so memory
        # stays bounded by the keys seen in the last period.
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
        self._next_sweep = now + 60

    def reset(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._tats.pop(key, None)


_GCRA_LUA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or t)
if tat < t then tat = t end
local interval = tonumber(ARGV[1]) * tonumber(ARGV[3])
local new_tat = tat + interval
local wait = new_tat - tonumber(ARGV[2]) - t
if wait > 0.000001 then
  return {0, tostring(wait)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - t) * 1000))
return {1, '0'}
"""


class RedisStore:
    """Counters in Redis, shared by every process; one atomic script per hit.

    Args:
        url: The server, e.g. ``redis://127.0.0.1:6379/0``.
        prefix: Put before every key, to share a server between apps.
        timeout: Seconds for connecting and for each command.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "ratelimit:",
        timeout: float = 2.0,
    ) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from oakling.exceptions import MissingDependency

            raise MissingDependency("redis", extra="redis") from exc
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix
        self._script = self.client.register_script(_GCRA_LUA)

    def hit(self, key: str, rate: Rate, cost: int = 1) -> Decision:
        """Count ``cost`` requests for ``key``.

        Raises:
            ServiceUnavailable: Redis did not answer (503: the limit cannot be checked).
        """
        try:
            allowed, retry = self._script(
                keys=[self.prefix + key], args=[rate.interval, rate.period, cost]
            )
        except self._errors as exc:
            raise ServiceUnavailable(
                "The rate-limit store (Redis) is not answering; try again shortly",
                retry_after=5,
            ) from exc
        return Decision(bool(allowed), float(retry))

    def reset(self, key: str) -> None:
        """Forget ``key``."""
        try:
            self.client.delete(self.prefix + key)
        except self._errors as exc:
            raise ServiceUnavailable(
                "The rate-limit store (Redis) is not answering", retry_after=5
            ) from exc


class Limiter:
    """Checks rates against a store; ``check`` raises 429 with ``Retry-After``."""

    def __init__(self, store: RateStore) -> None:
        self.store = store

    def hit(self, key: str, rate: str | Rate, cost: int = 1) -> Decision:
        """Count a request for ``key`` against ``rate``."""
        parsed = rate if isinstance(rate, Rate) else Rate.parse(rate)
        return self.store.hit(key, parsed, cost)

    def check(self, key: str, rate: str | Rate, *, what: str = "requests") -> None:
        """Count a request for ``key``; over the rate, raise ``TooManyRequests``.

        Raises:
            TooManyRequests: 429 with ``Retry-After`` (whole seconds, rounded up).
        """
        parsed = rate if isinstance(rate, Rate) else Rate.parse(rate)
        decision = self.store.hit(key, parsed)
        if not decision.allowed:
            wait = max(1, math.ceil(decision.retry_after))
            raise TooManyRequests(
                f"Too many {what}: the limit is {parsed.limit} per {_period(parsed.period)}. "
                f"Try again in {wait} second{'s' if wait != 1 else ''}.",
                retry_after=wait,
            )

    def reset(self, key: str) -> None:
        """Forget ``key``."""
        self.store.reset(key)


def _period(seconds: float) -> str:
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds == size:
            return name
        if seconds % size == 0:
            return f"{int(seconds // size)} {name}s"
    return "second" if seconds == 1 else f"{seconds:g} seconds"


def limiter(app: Any) -> Limiter:
    """The ``Limiter`` of ``app``: its store from ``rate_limit_store`` (memory or redis).

    Raises:
        ConfigurationError: ``rate_limit_store`` names no known store.
    """
    found: Limiter | None = app.extensions.get("ratelimit")
    if found is None:
        settings = app.settings
        kind = settings.rate_limit_store
        store: RateStore
        if kind == "memory":
            store = MemoryStore()
        elif kind == "redis":
            store = RedisStore(settings.redis_url)
        else:
            raise ConfigurationError(
                f"RATE_LIMIT_STORE={kind!r} is not a store; use 'memory' or 'redis'"
            )
        found = app.extensions.setdefault("ratelimit", Limiter(store))
    return found


def by_ip(request: Request) -> str:
    """The client's address (after trusted proxies): the default rate-limit key."""
    client = request.client
    return client[0] if client else "unknown"


def rate_limit(
    rate: str,
    *,
    key: Callable[[Request], str] = by_ip,
    scope: str | None = None,
    methods: tuple[str, ...] | None = None,
) -> Callable[[Any], Any]:
    """Limit a route to ``rate`` (``"5/minute"``) per client; over it, 429 with ``Retry-After``.

    Put it below the route decorator (it is a ``guard``). ``key(request)`` says whose
    requests are counted together (the client's IP by default); ``scope`` names the
    counter (the handler's name by default), so several routes can share one budget;
    ``methods`` limits only those methods (e.g. ``("POST",)`` for a login form).
    """
    parsed = Rate.parse(rate)
    wanted = frozenset(m.upper() for m in methods) if methods else None

    def decorator(handler: Any) -> Any:
        name = scope or f"{getattr(handler, '__module__', '')}.{handler.__qualname__}"

        def check_rate(request: Request) -> None:
            if wanted is not None and request.method not in wanted:
                return
            limiter(request.app).check(f"{name}:{key(request)}", parsed)

        return guard(check_rate)(handler)

    return decorator
