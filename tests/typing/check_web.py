"""Type-checked only (mypy): template decorators keep the function's type."""

from __future__ import annotations

from typing import assert_type

from oakling import App, Component, Request
from oakling.web import Template, render, render_string

app = App(debug=True)
blog = Component("blog", templates="templates", static="static")


@app.template_filter
def money(cents: int) -> str:
    return f"{cents / 100:.2f}"


@blog.template_global("year")
def current_year() -> int:
    return 2026


assert_type(money(100), str)
assert_type(current_year(), int)


def page(request: Request) -> Template:
    return render(request, "page.html", title="x")


assert_type(render_string(app, "mail.txt"), str)
