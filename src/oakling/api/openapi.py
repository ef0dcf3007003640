"""The ``OpenAPI`` Component: ``/openapi.json`` built once, and Swagger UI at ``/docs``.

::

    from oakling.api import OpenAPI, bearer_auth

    app.include(OpenAPI(title="Shop", version="1.0",
                        security_schemes={"bearer": bearer_auth()}))

The docs page and its scripts come from the ``swagger-ui-py`` package's files
(``pip install 'oakling[api]'``), never from a CDN: it works with no internet.
"""

from __future__ import annotations

import html
import importlib.util
import json
import pathlib
from typing import TYPE_CHECKING, Any

from oakling.api.doc import doc
from oakling.api.document import DocumentInfo, build_document
from oakling.component import Component
from oakling.exceptions import ConfigurationError, MissingDependency, NotFound
from oakling.http.request import Request  # noqa: TC001 - read by handler injection
from oakling.http.response import HTMLResponse, Response, json_encode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from oakling.app import App

__all__ = ("OpenAPI", "swagger_ui_dir")

# NOTE: only these files are served, by name: no path from the client reaches the disk.
_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
_ASSET_CACHE = "public, max-age=86400"


def swagger_ui_dir() -> pathlib.Path:
    """Return the folder of Swagger UI's files in the installed ``swagger-ui-py`` package.

    Raises:
        MissingDependency: ``swagger-ui-py`` is not installed.
    """
    spec = importlib.util.find_spec("swagger_ui")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for location in locations:
        static = pathlib.Path(location) / "static"
        if (static / "swagger-ui-bundle.js").is_file():
            return static
    raise MissingDependency("swagger-ui-py", extra="api")


class OpenAPI(Component):
    """Serve the app's OpenAPI 3.1 document and an offline Swagger UI.

    Args:
        title: The API's title.
        version: The API's version (not oakling's, nor OpenAPI's).
        description: Markdown shown at the top of the docs page.
        path: Where the JSON document is served.
        docs_path: Where Swagger UI is served; ``None`` for no docs page.
        servers: OpenAPI ``servers`` entries, e.g. ``[{"url": "https://api.example.com"}]``.
        security_schemes: Schemes by name, e.g. ``{"bearer": bearer_auth()}``.
        security: The default requirement of every operation, e.g. ``["bearer"]``.
        tags: Tag descriptions by tag name.
        components: Document only the routes of these Components (e.g. one API version).
        name: The Component's name (route names ``"openapi.document"``, ``"openapi.docs"``).
        prefix: The URL prefix of both paths.

    Raises:
        MissingDependency: ``docs_path`` is set and ``swagger-ui-py`` is not installed.
    """

    def __init__(
        self,
        title: str = "API",
        version: str = "0.1.0",
        *,
        description: str | None = None,
        path: str = "/openapi.json",
        docs_path: str | None = "/docs",
        servers: Sequence[Mapping[str, Any]] | None = None,
        security_schemes: Mapping[str, Mapping[str, Any]] | None = None,
        security: Sequence[str | Mapping[str, Sequence[str]]] | None = None,
        tags: Mapping[str, str] | None = None,
        components: Sequence[Component] | None = None,
        name: str = "openapi",
        prefix: str = "",
    ) -> None:
        super().__init__(name, prefix=prefix)
        requirements: list[dict[str, list[str]]] | None = None
        if security is not None:
            if isinstance(security, str):
                raise ConfigurationError(f"OpenAPI(security=...) takes a list, e.g. [{security!r}]")
            requirements = [
                {item: []} if isinstance(item, str) else {k: list(v) for k, v in item.items()}
                for item in security
            ]
        self.info = DocumentInfo(
            title=title,
            version=version,
            description=description,
            servers=servers,
            security_schemes=security_schemes,
            security=requirements,
            tags=tags,
            components=components,
        )
        self._cache: dict[tuple[int, int, str], Response] = {}
        self._docs_dir: pathlib.Path | None = None
        hidden = doc(include_in_schema=False)

        # NOTE: plain functions, not bound methods: doc() marks them out of the document.
        @hidden
        def document(request: Request) -> Response:
            return self._serve_document(request)

        self.add_route(path, document)
        if docs_path is None:
            return
        self._docs_dir = swagger_ui_dir()

        @hidden
        def docs(request: Request) -> Response:
            return self._serve_docs(request)

        @hidden
        def docs_init(request: Request) -> Response:
            return self._serve_init(request)

        @hidden
        def docs_asset(file: str) -> Response:
            return self._serve_asset(file)

        self.add_route(docs_path, docs)
        self.add_route(docs_path + "/init.js", docs_init)
        self.add_route(docs_path + "/{file}", docs_asset)

    def document(self, app: App) -> dict[str, Any]:
        """Build the OpenAPI document of ``app`` (not cached; the route's copy is).

        Raises:
            ConfigurationError: A route uses a security scheme that is not declared.
        """
        return build_document(app, self.info)

    # -- routes ---------------------------------------------------------------------------

    def _serve_document(self, request: Request) -> Response:
        app: App = request.app
        root = request.scope.get("root_path", "")
        # NOTE: built once; a route added later (rare, but allowed) builds it again.
        key = (id(app), len(app.endpoints), root)
        cached = self._cache.get(key)
        if cached is None:
            document = self.document(app)
            if root and "servers" not in document:
                document = {**document, "servers": [{"url": root}]}
                document = _reorder(document)
            cached = Response(json_encode(document), media_type="application/json")
            self._cache = {key: cached}
        return cached

    def _serve_docs(self, request: Request) -> Response:
        base = _path(request, f"{self.name}.docs")
        title = html.escape(self.info.title)
        page = (
            "<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title} - API docs</title>\n"
            f'<link rel="stylesheet" href="{html.escape(base)}/swagger-ui.css">\n'
            f'<link rel="icon" type="image/png" href="{html.escape(base)}/favicon-32x32.png">\n'
            '</head>\n<body>\n<div id="swagger-ui"></div>\n'
            f'<script src="{html.escape(base)}/swagger-ui-bundle.js"></script>\n'
            f'<script src="{html.escape(base)}/init.js"></script>\n'
            "</body>\n</html>\n"
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    def _serve_init(self, request: Request) -> Response:
        url = _path(request, f"{self.name}.document")
        # NOTE: validatorUrl null: Swagger UI would otherwise send the document to an
        # online validator. No inline script, so a strict CSP (script-src 'self') works.
        script = (
            "window.ui = SwaggerUIBundle({\n"
            f"  url: {json.dumps(url)},\n"
            '  dom_id: "#swagger-ui",\n'
            "  deepLinking: true,\n"
            "  validatorUrl: null,\n"
            "  withCredentials: true,\n"
            "  presets: [SwaggerUIBundle.presets.apis],\n"
            '  layout: "BaseLayout"\n'
            "});\n"
        )
        return Response(
            script,
            headers={"Cache-Control": "no-cache"},
            media_type="text/javascript",
        )

    def _serve_asset(self, file: str) -> Response:
        media_type = _ASSETS.get(file)
        if media_type is None or self._docs_dir is None:
            raise NotFound(f"No docs asset {file[:100]!r}")
        from oakling.http.files import FileResponse

        return FileResponse(
            self._docs_dir / file,
            headers={"Cache-Control": _ASSET_CACHE},
            media_type=media_type.split(";")[0],
        )


def _path(request: Request, name: str) -> str:
    path: str = request.app.url_for(name)
    return str(request.scope.get("root_path", "")) + path


def _reorder(document: dict[str, Any]) -> dict[str, Any]:
    order = ["openapi", "info", "servers", "paths", "components", "security", "tags"]
    return {key: document[key] for key in order if key in document}
