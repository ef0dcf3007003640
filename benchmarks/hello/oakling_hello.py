from oakling import App, Response

app = App()


@app.get("/")
async def index() -> Response:
    return Response("Hello, World!", media_type="text/plain")
