import uuid

from oakling import App, Request

app = App()


@app.get("/")
def index(request: Request) -> dict[str, str]:
    return {
        "user": app.url_for("user", user_id=42),  # a path
        "search": app.url_for("search", q="oak", page=2),  # extra params: query string
        "file": str(request.url_for("download", path="docs/a b.txt")),  # absolute
    }


@app.get("/users/me")  # static routes are tried before dynamic ones
def me() -> str:
    return "me"


@app.get("/users/{user_id:int}", name="user")
def user_by_id(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@app.get("/users/{username}")  # str: anything up to the next "/"
def user_by_name(username: str) -> dict[str, str]:
    return {"username": username}


@app.get("/orders/{order_id}")  # no converter written: inferred from the annotation
def order(order_id: uuid.UUID) -> dict[str, str]:
    return {"order": order_id.hex}


@app.get("/files/{path:path}", name="download")  # path: the rest, slashes included
def download(path: str) -> str:
    return path


@app.get("/search/")  # "/search" answers 308 to "/search/"
def search(q: str = "", page: int = 1) -> dict[str, object]:
    return {"q": q, "page": page}


@app.route("/ping", methods=["GET", "POST"])
def ping(request: Request) -> str:
    return request.method
