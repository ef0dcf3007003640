"""``oakling collectstatic``: every static file in one folder, with content-hashed names.

Each file of the app's and its components' static folders is copied into
``settings.static_root`` under its URL path (``blog/css/blog.css`` for a
component's file) and again with a hash of its content in the name
(``blog/css/blog.3f2a9c1b4d5e.css``); ``manifest.json`` maps one to the other.
In CSS files, ``url(...)`` and ``@import`` references to other static files are
rewritten to their hashed names (as Django's ``ManifestStaticFilesStorage`` does)
before the CSS file's own hash is computed. The manifest is written last, so a
server never reads a manifest that names files not yet copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from oakling.cli._context import CLIError, ScriptInfo, app_option, pass_info

if TYPE_CHECKING:
    from oakling.web.static import StaticFiles

__all__ = ("Collector", "collectstatic", "hashed_name")

_HASH_LENGTH = 12
_CSS_URL = re.compile(
    r"""(?P<head>url\(\s*(?P<quote>['"]?))(?P<url>[^'")\s]+)(?P<tail>(?P=quote)\s*\))"""
    r"""|(?P<ihead>@import\s*(?P<iquote>['"]))(?P<iurl>[^'"]+)(?P<itail>(?P=iquote))""",
    re.IGNORECASE,
)
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def hashed_name(path: str, content_hash: str) -> str:
    """Return ``path`` with ``content_hash`` before its extension: ``a/app.<hash>.css``."""
    directory, name = posixpath.split(path)
    stem, ext = posixpath.splitext(name)
    return posixpath.join(directory, f"{stem}.{content_hash}{ext}")


@dataclass
class Collector:
    """Copies the files of a ``StaticFiles`` into ``root``, hashed, with a manifest.

    Args:
        files: The app's static files.
        root: The destination folder (``settings.static_root``).
    """

    files: StaticFiles
    root: str
    sources: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, str] = field(default_factory=dict)
    _visiting: set[str] = field(default_factory=set)

    def check_root(self) -> None:
        """Refuse a destination that is, holds or is inside a source folder.

        Raises:
            CLIError: ``--clear`` would delete sources, or copies would feed themselves.
        """
        root = os.path.realpath(self.root)
        for _namespace, folder in self.files.folders:
            if os.path.commonpath([root, folder]) in (root, folder):
                raise CLIError(
                    f"STATIC_ROOT {self.root} overlaps the static folder {folder}: "
                    "set OAKLING_STATIC_ROOT to a folder of its own, e.g. staticfiles/"
                )

    def collect(self) -> dict[str, str]:
        """Copy every file and its hashed twin; write the manifest; return it."""
        self.sources = dict(self.files.iter_files())
        for path in self.sources:
            self._hash(path)
        self._write_manifest()
        return self.manifest

    def _hash(self, path: str) -> str:
        """Copy ``path`` (and its hashed twin) into root; return the hashed name."""
        done = self.manifest.get(path)
        if done is not None:
            return done
        source = self.sources[path]
        target = os.path.join(self.root, *path.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)
        if path.lower().endswith(".css"):
            self._visiting.add(path)
            with open(source, "rb") as file:
                content = self._rewrite_css(path, file.read().decode("utf-8", "surrogateescape"))
            self._visiting.discard(path)
            data = content.encode("utf-8", "surrogateescape")
            digest = hashlib.sha256(data).hexdigest()[:_HASH_LENGTH]
            hashed = hashed_name(path, digest)
            _write_bytes(os.path.join(self.root, *hashed.split("/")), data, source)
        else:
            digest = _file_hash(source)
            hashed = hashed_name(path, digest)
            shutil.copy2(source, os.path.join(self.root, *hashed.split("/")))
        self.manifest[path] = hashed
        return hashed

    def _rewrite_css(self, path: str, text: str) -> str:
        base = posixpath.dirname(path)
        static_prefix = self.files.url_path + "/"

        def replace(match: re.Match[str]) -> str:
            is_url = match.group("url") is not None
            url = match.group("url") if is_url else match.group("iurl")
            head = match.group("head") if is_url else match.group("ihead")
            tail = match.group("tail") if is_url else match.group("itail")
            new = self._hashed_reference(base, url, static_prefix)
            return match.group(0) if new is None else f"{head}{new}{tail}"

        return _CSS_URL.sub(replace, text)

    def _hashed_reference(self, base: str, url: str, static_prefix: str) -> str | None:
        if _EXTERNAL.match(url) or url.startswith("data:"):
            return None
        ref, sep, rest = _split_suffix(url)
        if ref.startswith(static_prefix):
            target = ref[len(static_prefix) :]
        elif ref.startswith("/"):
            return None
        else:
            target = posixpath.normpath(posixpath.join(base, ref))
        if target.startswith("../") or target == ".." or target not in self.sources:
            return None
        if target in self._visiting:
            return None  # NOTE: an @import cycle: that reference keeps its plain name
        hashed_target = self._hash(target)
        new_ref = ref[: len(ref) - len(posixpath.basename(ref))] + posixpath.basename(hashed_target)
        return new_ref + sep + rest

    def _write_manifest(self) -> None:
        data = {"version": 1, "paths": dict(sorted(self.manifest.items()))}
        text = json.dumps(data, indent=2) + "\n"
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temp, os.path.join(self.root, "manifest.json"))


def _split_suffix(url: str) -> tuple[str, str, str]:
    for sep in ("?", "#"):
        if sep in url:
            ref, _, rest = url.partition(sep)
            return ref, sep, rest
    return url, "", ""


def _file_hash(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()[:_HASH_LENGTH]


def _write_bytes(target: str, data: bytes, like: str) -> None:
    with open(target, "wb") as file:
        file.write(data)
    shutil.copystat(like, target)


@click.command()
@app_option
@click.option("--clear", is_flag=True, help="Delete what STATIC_ROOT holds before copying.")
@pass_info
def collectstatic(info: ScriptInfo, clear: bool) -> None:
    """Copy every static file into STATIC_ROOT, with hashed names and a manifest.

    Sources: the folders given to app.static() and the components' static
    folders (a project file overrides a component's at the same path).
    Outside debug, the app then serves STATIC_ROOT and templates' static()
    links to the hashed names, cached by browsers for a year.
    """
    app = info.load_app()
    files = app.extensions.get("static")
    if files is None:
        click.echo("The app serves no static files (see app.static()): nothing to collect.")
        return
    root = files.static_root
    collector = Collector(files, root)
    collector.check_root()
    if clear and os.path.isdir(root):
        shutil.rmtree(root)
    os.makedirs(root, exist_ok=True)
    manifest = collector.collect()
    click.echo(f"{len(manifest)} static file(s) collected into {root} (with hashed copies).")
