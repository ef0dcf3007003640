import hashlib

from oakling import App, Request

app = App()


@app.get("/inspect/{name}")
def inspect(request: Request) -> dict[str, object]:
    return {
        "method": request.method,
        "path": request.path,
        "url": str(request.url),
        "path_params": request.path_params,
        "query": request.query.getlist("tag"),  # a multi-dict: get(), getlist()
        "agent": request.headers.get("user-agent"),  # case-insensitive
        "cookies": request.cookies,
        "client": request.client[0] if request.client else None,
        "host": request.host,
        "secure": request.is_secure,
        "request_id": request.request_id,
    }


@app.post("/async-echo")
async def async_echo(request: Request) -> dict[str, object]:
    data = await request.json()  # also: await request.body(), await request.form()
    return {"got": data}


@app.post("/sync-echo")
def sync_echo(request: Request) -> dict[str, object]:
    data = request.read_json()  # sync twins: read_body(), read_json(), read_form()
    return {"got": data}


@app.post("/form")
def form(request: Request) -> dict[str, object]:
    fields = request.read_form()
    return {"name": fields.get("name"), "colours": fields.getlist("colour")}


@app.post("/digest")
async def digest(request: Request) -> dict[str, object]:
    sha = hashlib.sha256()
    size = 0
    async for chunk in request.stream(limit=10 * 1024 * 1024):  # chunks as they arrive
        sha.update(chunk)
        size += len(chunk)
    return {"size": size, "sha256": sha.hexdigest()}
