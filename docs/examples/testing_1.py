"""test_app.py: an app and its tests, run over ASGI and WSGI by one fixture."""

from collections.abc import Iterator

import pytest

from oakling import App
from oakling.http.websocket import WebSocket
from oakling.testing import TestClient, WebSocketRejected

app = App()


@app.get("/items/{item_id:int}")
def item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


@app.websocket("/ws")
async def shout(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())


@pytest.fixture(params=["asgi", "wsgi"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with TestClient(app, wsgi=request.param == "wsgi") as test_client:  # runs the lifespan
        yield test_client


def test_item(client: TestClient) -> None:
    response = client.get("/items/3")
    assert response.status_code == 200
    assert response.json() == {"id": 3}


def test_bad_id_is_404(client: TestClient) -> None:
    assert client.get("/items/three").status_code == 404


def test_websocket() -> None:
    with TestClient(app) as client, client.websocket_connect("/ws") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "HELLO"


def test_unknown_websocket_is_rejected() -> None:
    with TestClient(app) as client:
        with pytest.raises(WebSocketRejected) as rejected, client.websocket_connect("/nope"):
            pass
        assert rejected.value.code == 4404
