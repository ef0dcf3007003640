import msgspec

from oakling import App
from oakling.http.websocket import WebSocket

app = App()


class Move(msgspec.Struct):
    x: int
    y: int


@app.websocket("/games/{game_id:int}")
async def play(websocket: WebSocket, game_id: int) -> None:
    await websocket.accept()
    await websocket.send_json({"game": game_id, "status": "ready"})
    while True:  # ends when the client disconnects (WebSocketDisconnect)
        move = await websocket.receive_json(Move)  # a bad message closes with code 1007
        await websocket.send_json({"ok": True, "x": move.x, "y": move.y})
