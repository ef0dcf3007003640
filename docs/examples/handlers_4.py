import asyncio
import dataclasses

from oakling import App, JSONResponse, PlainTextResponse, Response, redirect

app = App()


@dataclasses.dataclass
class Point:
    x: int
    y: int


@app.get("/html")
def html_page() -> str:  # str: text/html
    return "<p>Hi</p>"


@app.get("/json")
async def json_data() -> dict[str, int]:  # dict, list, Struct, dataclass...: JSON
    await asyncio.sleep(0)
    return {"answer": 42}


@app.get("/point")
def point() -> Point:
    return Point(1, 2)


@app.get("/bytes")
def raw() -> bytes:  # bytes: application/octet-stream
    return b"\x89PNG"


@app.delete("/nothing")
def nothing() -> None:  # None: 204 No Content
    return None


@app.post("/created")
def created() -> tuple[dict[str, int], int, dict[str, str]]:  # (body, status[, headers])
    return {"id": 7}, 201, {"Location": "/things/7"}


@app.get("/text")
def text() -> Response:  # any Response, as is
    response = PlainTextResponse("plain", headers={"Cache-Control": "no-store"})
    response.set_cookie("seen", "1", max_age=3600)  # HttpOnly, SameSite=Lax by default
    return response


@app.get("/teapot")
def teapot() -> JSONResponse:
    return JSONResponse({"tea": True}, status_code=418)


@app.get("/old")
def old() -> Response:
    return redirect("/html")  # 302; redirect(url, 303) after a POST form
