from collections.abc import Callable
from typing import Any

from oakling import App, Component, Request

blog = Component("blog", prefix="/blog")


@blog.get("/")
def posts() -> list[str]:
    return ["hello-world"]


@blog.get("/{slug:slug}")
def post(slug: str, request: Request) -> dict[str, str]:
    return {"slug": slug, "url": request.app.url_for("blog.post", slug=slug)}


comments = Component("comments", prefix="/comments")


@comments.get("/")
def list_comments() -> list[str]:
    return []


blog.include(comments)  # names: "blog.comments.list_comments"


def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Any WSGI app (or ASGI app, or another oakling App) can be mounted."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"legacy: {environ['SCRIPT_NAME']} {environ['PATH_INFO']}".encode()]


app = App()
app.include(blog)  # under its own prefix; app.include(blog, prefix="/news") to move it
app.mount("/legacy", legacy)
