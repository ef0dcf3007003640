"""Async tests: AsyncTestClient, with the anyio pytest plugin (installed with anyio)."""

import pytest

from oakling import App
from oakling.testing import AsyncTestClient

app = App()


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # AsyncTestClient runs on asyncio


@pytest.mark.anyio
async def test_ping() -> None:
    async with AsyncTestClient(app) as client:  # runs the lifespan
        response = await client.get("/ping")
    assert response.json() == {"pong": True}
