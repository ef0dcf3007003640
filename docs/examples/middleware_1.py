import time

from oakling import App
from oakling._types import ASGIApp, Message, Receive, Scope, Send


class TimingMiddleware:
    """A plain ASGI middleware: adds ``Server-Timing`` to every HTTP response."""

    def __init__(self, app: ASGIApp, *, metric: str = "app") -> None:
        self.app = app
        self.metric = metric

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websocket and lifespan pass straight through
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                header = f"{self.metric};dur={took:.1f}".encode()
                message["headers"] = [*message["headers"], (b"server-timing", header)]
            await send(message)

        await self.app(scope, receive, send_with_timing)


class PoweredByMiddleware:
    def __init__(self, app: ASGIApp, *, value: str) -> None:
        self.app = app
        self.value = value.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_powered(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-powered-by", self.value)]
            await send(message)

        await self.app(scope, receive, send_powered if scope["type"] == "http" else send)


# In the constructor: (class, options) pairs, outermost first...
app = App(middleware=[(PoweredByMiddleware, {"value": "oakling"})])
# ...or later: the last one added becomes the outermost.
app.add_middleware(TimingMiddleware, metric="total")


@app.get("/")
def index() -> str:
    return "<p>timed</p>"
