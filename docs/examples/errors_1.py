from oakling import App, HTTPError, NotFound, Request
from oakling.exceptions import Conflict, TooManyRequests

app = App()


class PaymentDeclined(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@app.get("/users/{user_id:int}")
def user(user_id: int) -> dict[str, int]:
    if user_id != 1:
        raise NotFound(f"No user {user_id}")  # 404 problem+json (or an HTML page)
    return {"id": 1}


@app.post("/users")
def create_user() -> None:
    raise Conflict("That e-mail address is taken")


@app.get("/busy")
def busy() -> None:
    raise TooManyRequests(retry_after=30)  # sends Retry-After: 30


@app.get("/teapot")
def teapot() -> None:
    raise HTTPError(418, "I'm a teapot", headers={"X-Tea": "earl-grey"})


@app.post("/pay")
def pay() -> None:
    raise PaymentDeclined("card expired")


@app.errorhandler(PaymentDeclined)  # by exception class (subclasses too)
def declined(request: Request, exc: PaymentDeclined) -> tuple[dict[str, str], int]:
    return {"error": "payment_declined", "reason": exc.reason}, 402


@app.errorhandler(404)  # by status: every 404, unrouted paths included
def not_found(request: Request, exc: HTTPError) -> tuple[str, int]:
    return f"<h1>Nothing at {request.path}</h1><p>{exc.detail}</p>", 404
