from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from oakling import App, Request


class Pool:
    """Stands for a database or HTTP connection pool."""

    def __init__(self) -> None:
        self.open = True

    async def close(self) -> None:
        self.open = False


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[dict[str, object]]:
    pool = Pool()  # before the first request
    yield {"pool": pool}  # each key becomes app.state.<key>
    await pool.close()  # after the last one


app = App(lifespan=lifespan)
app.state.events = []


@app.on_startup
def starting() -> None:  # runs before the lifespan is entered (sync or async)
    app.state.events.append("startup")


@app.on_shutdown
async def stopping() -> None:  # runs after the lifespan is left
    app.state.events.append("shutdown")


@app.get("/")
def index(request: Request) -> dict[str, bool]:
    return {"pool_open": request.app.state.pool.open}
