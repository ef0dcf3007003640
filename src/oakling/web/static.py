"""Static files: the app's and its components' folders, served under one URL.

``app.static("/static", "static")`` serves the files of ``static/`` (next to the
app's module) at ``/static/...``; a component made with ``static="static"`` has
its files served under ``/static/<component name>/...``, the way a Flask
blueprint's are, and a project file at the same path (``static/blog/x.css``)
overrides the component's (``blog/static/x.css``), as templates do.

A request path is refused with 404 unless it names a regular file inside one of
the folders: no ``..`` or ``.`` segment, no empty segment (``//``), no backslash,
no NUL, no dotfile or dot-folder (``.well-known`` aside), no symlink leading
outside the folder, no directory (so no listing). The path is taken as the server
decoded it once: ``%252e%252e`` stays the literal name ``%2e%2e``.

Files are sent by ``FileResponse`` (ETag, Last-Modified, 304, ranges, HEAD) with
a Content-Type from a table of web types (``text/*`` with ``charset=utf-8``).

``oakling collectstatic`` copies every file into ``settings.static_root`` with a
content-hashed twin (``css/app.3f2a9c1b4d5e.css``) and a ``manifest.json``.
Outside debug, when that manifest exists, files are served from there: the
hashed ones with ``Cache-Control: public, max-age=31536000, immutable``, and
``static()`` in templates gives the hashed URLs. Other files get
``max-age=settings.static_max_age``; in debug, ``no-cache`` (revalidated with
the ETag each time).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import stat as stat_module
import threading
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple
from urllib.parse import quote

from oakling.component import normalise_prefix
from oakling.exceptions import ConfigurationError, NotFound
from oakling.http.files import FileResponse, guess_media_type

if TYPE_CHECKING:
    from collections.abc import Iterator

    from oakling._types import Receive, Scope, Send
    from oakling.app import App
    from oakling.component import Component
    from oakling.http.files import Conditions, FilePlan
    from oakling.http.request import Request
    from oakling.http.response import Response
    from oakling.http.streaming import RunSync

__all__ = (
    "IMMUTABLE",
    "MANIFEST_NAME",
    "StaticFiles",
    "media_type_for",
    "safe_parts",
    "static_files",
    "static_url",
)

logger = logging.getLogger("oakling.static")

MANIFEST_NAME: Final = "manifest.json"
"""The name of the manifest ``collectstatic`` writes in ``static_root``."""

IMMUTABLE: Final = "public, max-age=31536000, immutable"
"""The Cache-Control of files whose name holds a hash of their content."""

_CACHE_LIMIT = 4096
_WEB_TYPES: Final = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".html": "text/html",
    ".htm": "text/html",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}


def media_type_for(name: str) -> str:
    """Return the Content-Type media type of a file name (web types first, then mimetypes)."""
    ext = os.path.splitext(name)[1].lower()
    return _WEB_TYPES.get(ext) or guess_media_type(name)


def safe_parts(path: str) -> list[str] | None:
    """Split a request path into its segments, or ``None`` if it may not name a static file.

    Refused: empty, absolute or with an empty segment, ``.``/``..`` segments,
    dotfiles other than ``.well-known``, backslashes, NUL and other control characters.
    """
    if not path or "\\" in path or not path.isprintable():
        return None
    parts = path.split("/")
    for part in parts:
        if not part or (part[0] == "." and part != ".well-known"):
            return None
    return parts


class _Hit(NamedTuple):
    path: str
    stat: os.stat_result | None
    media_type: str
    cache_control: str


class StaticFiles:
    """The static files an app serves under one URL path.

    Made by ``app.static()`` (or by including a component with static files) and
    kept in ``app.extensions["static"]``.

    Args:
        app: The app.
        url_path: The URL path, e.g. ``/static``.
    """

    def __init__(self, app: App, url_path: str) -> None:
        self.app = app
        self.url_path = url_path
        self.folders: list[tuple[str, str]] = []
        """``(namespace, folder)`` pairs, searched in order; namespace ``""`` or ``"blog/"``."""
        self._namespaces: dict[str, Component] = {}
        self._search: list[tuple[tuple[str, ...], str]] | None = None
        self._manifest: dict[str, str] | None = None
        self._immutable: frozenset[str] = frozenset()
        self._cache: dict[str, _Hit] | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------

    def add_folder(self, folder: str, namespace: str = "") -> None:
        """Serve the files of ``folder`` (an absolute path) under ``namespace``."""
        if not os.path.isdir(folder):
            logger.warning("The static folder %s does not exist (yet)", folder)
        self.folders.append((namespace, os.path.realpath(folder)))
        self._search = self._cache = None  # NOTE: a new folder may now win: resolve again

    def add_component(self, component: Component) -> None:
        """Serve ``component``'s static folder under ``<url_path>/<component name>/``.

        Raises:
            ConfigurationError: Another component of that name already has static files.
        """
        folder = getattr(component, "static_folder", None)
        if folder is None:
            return
        other = self._namespaces.get(component.name)
        if other is not None and other is not component:
            raise ConfigurationError(
                f"Two components named {component.name!r} have static files; their URLs "
                f"({self.url_path}/{component.name}/...) would clash: rename one"
            )
        self._namespaces[component.name] = component
        # NOTE: the project's folders come first, whatever the order of the calls.
        self.add_folder(component._folder(folder), component.name + "/")

    def _setup(self) -> list[tuple[tuple[str, ...], str]]:
        with self._lock:
            settings = self.app.settings
            manifest = None if settings.debug else self._load_manifest()
            search: list[tuple[tuple[str, ...], str]]
            if manifest is not None:
                self._manifest = manifest
                self._immutable = frozenset(manifest.values())
                search = [((), os.path.realpath(self.static_root))]
            else:
                ordered = sorted(self.folders, key=lambda item: item[0] != "")
                search = [(tuple(ns.split("/")[:-1]), folder) for ns, folder in ordered]
            self._cache = None if settings.debug else {}
            self._search = search
            return search

    @property
    def static_root(self) -> str:
        """Where ``collectstatic`` puts the files (``settings.static_root``), absolute."""
        return self.app._folder(self.app.settings.static_root)

    def _load_manifest(self) -> dict[str, str] | None:
        path = os.path.join(self.static_root, MANIFEST_NAME)
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"Cannot read the static files manifest {path}: {exc}"
            ) from None
        paths = data.get("paths") if isinstance(data, dict) else None
        if not isinstance(paths, dict):
            raise ConfigurationError(f"{path} is not a manifest: run `oakling collectstatic`")
        return {str(k): str(v) for k, v in paths.items()}

    @property
    def manifest(self) -> dict[str, str] | None:
        """The ``collectstatic`` manifest in use (``None`` in debug or before collecting)."""
        if self._search is None:
            self._setup()
        return self._manifest

    # -- serving -------------------------------------------------------------------------

    def serve(self, path: str) -> Response:
        """Answer ``GET <url_path>/<path>``: the file, or 404."""
        cache = self._cache
        hit = cache.get(path) if cache is not None else None
        if hit is None:
            hit = self.find(path)
            if hit is None:
                raise NotFound(f"No static file {path[:200]!r}")
            cache = self._cache
            if cache is not None:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                # NOTE: only a hashed file's stat is kept: its content never changes;
                # the others are looked at again by FileResponse (one stat per request).
                immutable = hit.cache_control == IMMUTABLE
                cache[path] = hit if immutable else hit._replace(stat=None)
        response = _StaticFileResponse(hit.path, media_type=hit.media_type, stat_result=hit.stat)
        # NOTE: appended raw: a headers mapping costs a MutableHeaders per request.
        response.raw_headers.append((b"cache-control", hit.cache_control.encode("latin-1")))
        return response

    def find(self, path: str) -> _Hit | None:
        """Resolve a request path to a regular file inside one of the folders, safely."""
        parts = safe_parts(path)
        if parts is None:
            return None
        search = self._search if self._search is not None else self._setup()
        for namespace, folder in search:
            if namespace:
                if parts[: len(namespace)] != list(namespace) or len(parts) == len(namespace):
                    continue
                rest = parts[len(namespace) :]
            else:
                rest = parts
            found = _inside(folder, rest)
            if found is not None:
                real, stat = found
                return _Hit(real, stat, media_type_for(real), self._cache_control(path))
        return None

    def _cache_control(self, path: str) -> str:
        if self.app.settings.debug:
            return "no-cache"
        if path in self._immutable:
            return IMMUTABLE
        return f"public, max-age={self.app.settings.static_max_age}"

    # -- URLs and collecting ---------------------------------------------------------------

    def hashed_name(self, path: str) -> str:
        """Return the name to link to: the hashed one from the manifest, else ``path``."""
        manifest = self.manifest
        if manifest is None:
            return path
        return manifest.get(path, path)

    def iter_files(self) -> Iterator[tuple[str, str]]:
        """Yield ``(path, file)`` for every file of the source folders; the first one wins.

        Dotfiles, files reached through symlinks leading outside their folder and
        anything that is not a regular file are skipped, as when serving.
        """
        seen: set[str] = set()
        for namespace, folder in sorted(self.folders, key=lambda item: item[0] != ""):
            walked: set[str] = set()
            for directory, dirnames, filenames in os.walk(folder, followlinks=True):
                real = os.path.realpath(directory)
                if real in walked or not (real == folder or real.startswith(folder + os.sep)):
                    dirnames[:] = []  # NOTE: a symlink loop, or a folder outside
                    continue
                walked.add(real)
                dirnames[:] = sorted(d for d in dirnames if safe_parts(d) is not None)
                relative = os.path.relpath(directory, folder)
                base = [] if relative == "." else relative.split(os.sep)
                for name in sorted(filenames):
                    parts = [*base, name]
                    logical = namespace + "/".join(parts)
                    if logical in seen or safe_parts(logical) is None:
                        continue
                    found = _inside(folder, parts)
                    if found is not None:
                        seen.add(logical)
                        yield logical, found[0]


class _Whole(io.BytesIO):
    """A small file's body, read while the response was prepared."""


class _StaticFileResponse(FileResponse):
    """A ``FileResponse`` that, under ASGI, reads a small file whole while preparing.

    ``FileResponse`` stats and opens the file in one trip to the thread pool, then
    reads each chunk in another; a static file usually fits in one chunk, so here it
    is read in the first trip (without ``pathsend``; WSGI keeps ``wsgi.file_wrapper``).
    """

    _whole = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the file over ASGI."""
        self._whole = True
        await super().__call__(scope, receive, send)

    def _prepare(self, method: str, conditions: Conditions, pathsend: bool) -> Any:
        prepared = super()._prepare(method, conditions, pathsend)
        file = prepared.file
        if self._whole and file is not None and prepared.plan.length <= self.chunk_size:
            with file:
                file.seek(prepared.plan.start)
                prepared.file = _Whole(file.read(prepared.plan.length))
        return prepared

    async def _send_chunks(
        self, file: IO[bytes], plan: FilePlan, send: Send, run_sync: RunSync
    ) -> None:
        if isinstance(file, _Whole):
            with contextlib.suppress(OSError):  # NOTE: the client is gone: nothing to do
                await send({"type": "http.response.body", "body": file.getvalue()})
            return
        await super()._send_chunks(file, plan, send, run_sync)


def _inside(folder: str, parts: list[str]) -> tuple[str, os.stat_result] | None:
    real = os.path.realpath(os.path.join(folder, *parts))
    if not real.startswith(folder + os.sep):
        return None  # NOTE: a symlink leading out of the folder
    if safe_parts(real[len(folder) + 1 :].replace(os.sep, "/")) is None:
        return None  # NOTE: a symlink to a dotfile inside the folder
    try:
        stat = os.stat(real)
    except (OSError, ValueError):
        return None
    if not stat_module.S_ISREG(stat.st_mode):
        return None
    return real, stat


def static_files(app: App, url_path: str | None = None) -> StaticFiles:
    """Return ``app``'s static files, registering the route on first use.

    Raises:
        ConfigurationError: ``url_path`` differs from the one already in use.
    """
    files: StaticFiles | None = app.extensions.get("static")
    wanted = normalise_prefix(url_path) if url_path is not None else None
    if files is None:
        base = wanted or normalise_prefix(app.settings.static_url)
        if not base:
            raise ConfigurationError("Static files need a URL path such as '/static'")
        files = StaticFiles(app, base)
        app.add_route(f"{base}/{{path:path}}", files.serve, ["GET"], name="static")
        app.extensions["static"] = files
    elif wanted is not None and wanted != files.url_path:
        raise ConfigurationError(
            f"Static files are already served at {files.url_path}; an app has one static "
            f"URL (call app.static({wanted!r}, ...) before including components with "
            "static files, or set OAKLING_STATIC_URL)"
        )
    return files


def static_url(app: App, path: str, request: Request | None = None) -> str:
    """Return the URL of static file ``path``: hashed in production, with the root path."""
    files: StaticFiles | None = app.extensions.get("static")
    path = path.lstrip("/")
    if files is not None:
        base = files.url_path
        path = files.hashed_name(path)
    else:
        base = normalise_prefix(app.settings.static_url)
    root = request.scope.get("root_path", "") if request is not None else ""
    return f"{root}{base}/{quote(path)}"
