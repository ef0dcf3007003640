from __future__ import annotations

from oakling import App

application = App()


@application.get("/")
def index() -> str:
    return "main"
