"""An app built by a factory, `create_app()`."""

from __future__ import annotations

from oakling import App


def create_app() -> App:
    app = App()

    @app.get("/")
    def index() -> str:
        return "made by a factory"

    return app
