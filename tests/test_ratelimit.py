from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.conftest import ClientFactory
from tests.services import REDIS, require

from oakling import App, Request, Settings
from oakling.exceptions import ConfigurationError, ServiceUnavailable
from oakling.ratelimit import Limiter, MemoryStore, Rate, RedisStore, limiter, rate_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("5/minute", 5, 60),
        ("100/hour", 100, 3600),
        ("10/30s", 10, 30),
        ("1/day", 1, 86400),
        (" 3 / 2 minutes ", 3, 120),
        ("7/second", 7, 1),
    ],
)
def test_rates_are_parsed(text: str, limit: int, period: int) -> None:
    assert Rate.parse(text) == Rate(limit, period)


@pytest.mark.parametrize("text", ["", "5", "5/fortnight", "0/minute", "-1/minute", "x/minute"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a rate"):
        Rate.parse(text)


def test_gcra_allows_the_burst_then_one_per_interval() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    rate = Rate.parse("3/minute")
    assert [store.hit("k", rate).allowed for _ in range(4)] == [True, True, True, False]
    assert store.hit("k", rate).retry_after == pytest.approx(20)
    clock.now += 19.9
    assert not store.hit("k", rate).allowed
    clock.now += 0.2
    assert store.hit("k", rate).allowed  # one interval later, one more
    assert not store.hit("k", rate).allowed
    assert store.hit("other", rate).allowed  # keys are counted apart
    clock.now += 60
    assert [store.hit("k", rate).allowed for _ in range(4)] == [True, True, True, False]
    store.reset("k")
    assert store.hit("k", rate).allowed


def test_memory_store_forgets_idle_keys() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    for i in range(100):
        store.hit(f"ip{i}", Rate.parse("5/minute"))
    clock.now += 120
    store.hit("new", Rate.parse("5/minute"))
    assert list(store._tats) == ["new"]


def test_rate_limited_route_answers_429_with_retry_after(make_client: ClientFactory) -> None:
    app = App(debug=True)

    @app.post("/login")
    @rate_limit("2/minute")
    def login(request: Request) -> str:
        return "tried"

    @app.get("/open")
    def open_route() -> str:
        return "open"

    client = make_client(app)
    assert [client.post("/login").status_code for _ in range(2)] == [200, 200]
    refused = client.post("/login")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json()["detail"] == (
        "Too many requests: the limit is 2 per minute. Try again in 30 seconds."
    )
    assert client.get("/open").status_code == 200  # other routes are not counted


def test_keys_scopes_and_methods(make_client: ClientFactory) -> None:
    app = App(debug=True)

    def by_account(request: Request) -> str:
        return request.query_params.get("user", "")

    @app.route("/a", methods=["GET", "POST"])
    @rate_limit("1/hour", key=by_account, scope="shared", methods=("POST",))
    def a() -> str:
        return "a"

    @app.post("/b")
    @rate_limit("1/hour", key=by_account, scope="shared")
    def b() -> str:
        return "b"

    client = make_client(app)
    assert client.post("/a?user=ann").status_code == 200
    assert client.post("/b?user=ann").status_code == 429  # same budget, same account
    assert client.post("/b?user=bob").status_code == 200  # another account
    assert [client.get("/a?user=ann").status_code for _ in range(3)] == [200] * 3  # GET free


def test_redis_store_shares_counts_between_limiters() -> None:
    require(REDIS)
    prefix = f"test:{uuid.uuid4().hex}:"
    first = Limiter(RedisStore(prefix=prefix))
    second = Limiter(RedisStore(prefix=prefix))  # another process, in effect
    rate = Rate.parse("3/minute")
    decisions = [
        first.hit("ip", rate).allowed,
        second.hit("ip", rate).allowed,
        first.hit("ip", rate).allowed,
        second.hit("ip", rate),
    ]
    assert decisions[:3] == [True, True, True]
    last = decisions[3]
    assert not last.allowed
    assert 19 < last.retry_after <= 20
    first.reset("ip")
    assert second.hit("ip", rate).allowed
    first.reset("ip")


def test_redis_limits_a_route_across_apps(make_client: ClientFactory) -> None:
    require(REDIS)
    scope = f"login-{uuid.uuid4().hex}"

    def make() -> Any:
        app = App(settings=Settings(debug=True, rate_limit_store="redis"))

        @app.post("/login")
        @rate_limit("2/minute", scope=scope)
        def login() -> str:
            return "ok"

        return make_client(app)

    one, two = make(), make()
    statuses = [
        one.post("/login").status_code,
        two.post("/login").status_code,
        one.post("/login").status_code,
    ]
    assert statuses == [200, 200, 429]


def test_an_unreachable_redis_is_a_503_not_a_hang() -> None:
    from tests.cli.conftest import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(ServiceUnavailable, match="not answering") as info:
        store.hit("k", Rate.parse("1/minute"))
    assert info.value.headers == {"Retry-After": "5"}


def test_unknown_store_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_STORE='disk'"):
        limiter(App(settings=Settings(debug=True, rate_limit_store="disk")))
