"""Type-checked only (mypy): decorators keep the handler's signature."""

from __future__ import annotations

from typing import assert_type

from oakling import App

app = App(debug=True)


@app.get("/users/{id:int}")
def user(id: int) -> dict[str, int]:
    return {"id": id}


assert_type(user(1), dict[str, int])
