import time

from oakling import App, Component, PlainTextResponse, Request, Response

app = App()
admin = Component("admin", prefix="/admin")


@app.before_request
def start_timer(request: Request) -> None:
    request.state.started = time.perf_counter()


@app.after_request
def add_timing(request: Request, response: Response) -> None:
    took = (time.perf_counter() - request.state.started) * 1000
    response.headers["Server-Timing"] = f"app;dur={took:.1f}"  # change it in place


@app.teardown_request
def log_failures(request: Request, exc: BaseException | None) -> None:
    if exc is not None:  # runs for every routed request, failed or not
        request.app.state.failures.append(f"{request.path}: {exc!r}")


@admin.before_request  # only for the component's routes, after the app's hooks
def require_token(request: Request) -> Response | None:
    if request.headers.get("x-admin-token") != "letmein":
        return PlainTextResponse("Forbidden", 403)  # a non-None result is the response
    return None


@app.get("/")
def index() -> str:
    return "home"


@app.get("/boom")
def boom() -> str:
    raise ValueError("boom")


@admin.get("/")
def dashboard() -> str:
    return "admin"


app.state.failures = []
app.include(admin)
