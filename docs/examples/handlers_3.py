from collections.abc import Iterator
from typing import Annotated

from oakling import App, Depends, Header, Request, Unauthorized

app = App()
app.state.log = []


class Connection:
    def __init__(self, log: list[str]) -> None:
        self.log = log


def connection(request: Request) -> Iterator[Connection]:
    """A generator dependency: the code after ``yield`` runs once the response is sent."""
    log: list[str] = request.app.state.log
    log.append("open")
    try:
        yield Connection(log)
    except Exception:
        log.append("rollback")  # the handler raised: its exception is thrown in here
        raise
    else:
        log.append("commit")
    finally:
        log.append("close")


def current_user(
    conn: Annotated[Connection, Depends(connection)],  # dependencies can use dependencies
    token: Annotated[str | None, Header(alias="Authorization")] = None,
) -> str:
    conn.log.append("user")
    if token != "Bearer secret":
        raise Unauthorized("Send 'Authorization: Bearer secret'")
    return "ada"


User = Annotated[str, Depends(current_user)]  # a reusable alias
Conn = Annotated[Connection, Depends(connection)]


@app.get("/me")
def me(user: User, conn: Conn) -> dict[str, object]:
    # ``connection`` ran once: results are cached per request (Depends(fn, use_cache=False)
    # calls it again).
    return {"user": user, "log": list(conn.log)}


@app.post("/fail")
def fail(user: User) -> None:
    raise RuntimeError("something broke")
