from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClientFactory

from oakling import App, Component, Settings
from oakling.exceptions import ConfigurationError
from oakling.http.request import Request
from oakling.web.static import IMMUTABLE, media_type_for, safe_parts, static_url

# NOTE: an audit hook cannot be removed: it records only while a test switches it on.
_WATCH: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCH and event in ("open", "os.listdir", "os.scandir") and args:
        _WATCH[-1].append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project folder: static/ with files, dotfiles and symlinks; a secret next to it."""
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_text("body { color: red }\n")
    (static / "js").mkdir()
    (static / "js" / "app.js").write_text("console.log(1)\n")
    (static / "logo.svg").write_text("<svg/>")
    (static / "font.woff2").write_bytes(b"wOF2")
    (static / "data.unknownext").write_bytes(b"\x00\x01")
    (static / ".env").write_text("SECRET_KEY=TOP SECRET")
    (static / ".git").mkdir()
    (static / ".git" / "config").write_text("TOP SECRET")
    (static / ".well-known").mkdir()
    (static / ".well-known" / "security.txt").write_text("Contact: x@example.com\n")
    (static / "%2e%2e").mkdir()  # a real folder with that odd name: found literally, not decoded
    (static / "%2e%2e" / "odd.txt").write_text("odd")
    (static / "out.txt").symlink_to(tmp_path / "secret.txt")
    (static / "outdir").symlink_to(tmp_path)
    (static / "in.css").symlink_to(static / "css" / "app.css")
    (static / "to-dotfile").symlink_to(static / ".env")
    return tmp_path


def make_app(site: Path, *, debug: bool = False, **settings: Any) -> App:
    app = App(settings=Settings(debug=debug, **settings))
    app.root_path = str(site)
    app.static()
    return app


# -- serving ---------------------------------------------------------------------------------


def test_serves_a_file_with_type_validators_and_short_cache(
    make_client: ClientFactory, site: Path
) -> None:
    client = make_client(make_app(site))
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.text == "body { color: red }\n"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=60"
    assert response.headers["etag"].startswith('"')
    assert "last-modified" in response.headers
    again = client.get("/static/css/app.css", headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_debug_asks_browsers_to_revalidate(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site, debug=True)).get("/static/css/app.css")
    assert response.headers["cache-control"] == "no-cache"


def test_max_age_setting(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site, static_max_age=3600)).get("/static/js/app.js")
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_head_gives_headers_only(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).head("/static/js/app.js")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len("console.log(1)\n"))


def test_ranges_are_answered(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).get(
        "/static/css/app.css", headers={"range": "bytes=0-3"}
    )
    assert response.status_code == 206
    assert response.content == b"body"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("js/app.js", "text/javascript; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("font.woff2", "font/woff2"),
        ("data.unknownext", "application/octet-stream"),
        (".well-known/security.txt", "text/plain; charset=utf-8"),
    ],
)
def test_content_types(
    make_client: ClientFactory, site: Path, name: str, content_type: str
) -> None:
    response = make_client(make_app(site)).get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type


def test_media_type_table() -> None:
    assert media_type_for("a.MJS") == "text/javascript"
    assert media_type_for("site.webmanifest") == "application/manifest+json"
    assert media_type_for("x.tar.gz") == "application/gzip"


def test_other_methods_get_405(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).post("/static/css/app.css")
    assert response.status_code == 405


def test_symlink_inside_the_folder_is_served(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).get("/static/in.css")
    assert response.status_code == 200
    assert response.text == "body { color: red }\n"


def test_a_deleted_file_gives_404_even_when_cached(make_client: ClientFactory, site: Path) -> None:
    client = make_client(make_app(site))
    assert client.get("/static/js/app.js").status_code == 200
    (site / "static" / "js" / "app.js").unlink()
    assert client.get("/static/js/app.js").status_code == 404


def test_folder_with_percent_name_is_taken_literally(
    make_client: ClientFactory, site: Path
) -> None:
    # NOTE: "%252e%252e" is decoded once by the server into the name "%2e%2e", never twice.
    response = make_client(make_app(site)).get("/static/%252e%252e/odd.txt")
    assert response.status_code == 200
    assert response.text == "odd"


# -- attacks ---------------------------------------------------------------------------------


def _raw_request(app: App, interface: str, raw_path: bytes) -> tuple[int, bytes]:
    """Send a path exactly as given (httpx would normalise dot segments)."""
    from urllib.parse import unquote_to_bytes

    decoded = unquote_to_bytes(raw_path)
    if interface == "wsgi":
        status: list[str] = []
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": decoded.decode("latin-1"),
            "RAW_URI": raw_path.decode("latin-1"),
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "oakling.testing": True,
        }
        body = b"".join(app.wsgi(environ, lambda s, h, e=None: status.append(s)))
        return int(status[0].split()[0]), body

    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": decoded.decode("utf-8", "surrogateescape"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], body


ATTACKS = [
    b"/static/../secret.txt",
    b"/static/css/../../secret.txt",
    b"/static/%2e%2e/secret.txt",
    b"/static/%2E%2E/%2e%2e/secret.txt",
    b"/static/..%2fsecret.txt",
    b"/static/css%2f..%2f..%2fsecret.txt",
    b"/static/%252e%252e/secret.txt",
    b"/static/%252e%252e%252fsecret.txt",
    b"/static/..%5csecret.txt",
    b"/static/..\\secret.txt",
    b"/static/css%5c..%5c..%5csecret.txt",
    b"/static//etc/passwd",
    b"/static/%2fetc%2fpasswd",
    b"/static/./css/app.css",
    b"/static/css//app.css",
    b"/static/out.txt",
    b"/static/outdir/secret.txt",
    b"/static/to-dotfile",
    b"/static/.env",
    b"/static/.git/config",
    b"/static/css/.%2e/.%2e/secret.txt",
    b"/static/css",
    b"/static/css/",
    b"/static/",
    b"/static/%0asecret.txt",
]


@pytest.mark.parametrize("raw_path", ATTACKS, ids=[a.decode("latin-1") for a in ATTACKS])
def test_path_attacks_get_404_and_read_nothing(interface: str, site: Path, raw_path: bytes) -> None:
    app = make_app(site)
    opened: list[str] = []
    _WATCH.append(opened)
    try:
        status, body = _raw_request(app, interface, raw_path)
    finally:
        _WATCH.remove(opened)
    assert status == 404, body
    assert b"TOP SECRET" not in body
    assert b"color" not in body
    # NOTE: the manifest is looked for on the first request; nothing else is opened.
    assert not [p for p in opened if str(site) in p and not p.endswith("manifest.json")], opened


@pytest.mark.parametrize("raw_path", [b"/static/%00", b"/static/css/app.css%00.png"])
def test_nul_byte_is_refused_before_routing(interface: str, site: Path, raw_path: bytes) -> None:
    status, body = _raw_request(make_app(site), interface, raw_path)
    assert status == 400
    assert b"TOP SECRET" not in body


@pytest.mark.parametrize(
    "path",
    ["", "a/../b", "./a", "a//b", "/a", ".env", "a/.git/x", "a\\b", "a\x00b", "a\nb"],
)
def test_safe_parts_refuses(path: str) -> None:
    assert safe_parts(path) is None


def test_safe_parts_accepts_ordinary_paths() -> None:
    assert safe_parts("css/app.css") == ["css", "app.css"]
    assert safe_parts(".well-known/x.txt") == [".well-known", "x.txt"]
    assert safe_parts("a..b/c.d") == ["a..b", "c.d"]


def test_404_page_names_the_file_not_the_folder(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).get("/static/nope.css")
    assert response.status_code == 404
    assert "nope.css" in response.json()["detail"]
    assert str(site) not in response.text


# -- components and configuration ------------------------------------------------------------


def _component(site: Path, name: str = "blog") -> Component:
    folder = site / f"{name}_static"
    (folder / "css").mkdir(parents=True)
    (folder / "css" / "blog.css").write_text("/* blog */")
    (folder / "css" / "shared.css").write_text("/* from the component */")
    return Component(name, static=str(folder))


def test_component_files_are_served_under_its_name(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)
    app.include(_component(site))
    client = make_client(app)
    assert client.get("/static/blog/css/blog.css").text == "/* blog */"
    assert client.get("/static/css/blog.css").status_code == 404


def test_project_file_overrides_the_components(make_client: ClientFactory, site: Path) -> None:
    app = App(settings=Settings())
    app.root_path = str(site)
    app.include(_component(site))  # NOTE: included before app.static(): the project still wins
    (site / "static" / "blog" / "css").mkdir(parents=True)
    (site / "static" / "blog" / "css" / "shared.css").write_text("/* project */")
    app.static()
    client = make_client(app)
    assert client.get("/static/blog/css/shared.css").text == "/* project */"
    assert client.get("/static/blog/css/blog.css").text == "/* blog */"


def test_component_static_without_app_static_uses_the_setting(
    make_client: ClientFactory, site: Path
) -> None:
    app = App(settings=Settings(static_url="/assets"))
    app.include(_component(site))
    client = make_client(app)
    assert client.get("/assets/blog/css/blog.css").status_code == 200
    assert app.url_for("static", path="blog/css/blog.css") == "/assets/blog/css/blog.css"


def test_one_static_url_per_app(site: Path) -> None:
    app = make_app(site)
    with pytest.raises(ConfigurationError, match="already served at /static"):
        app.static("/assets", str(site / "static"))
    app.static("/static", str(site / "blog_static"))  # same URL: another folder, fine


def test_two_components_of_one_name_with_static_files_clash(site: Path) -> None:
    app = make_app(site)
    app.include(_component(site))
    other = Component("blog", static=str(site / "static"))
    with pytest.raises(ConfigurationError, match="would clash"):
        app.include(other, prefix="/other")


def test_static_url_setting_must_be_a_path() -> None:
    with pytest.raises(ConfigurationError, match="OAKLING_STATIC_URL"):
        Settings(static_url="static")


def test_relative_folder_is_relative_to_the_module(make_client: ClientFactory, site: Path) -> None:
    app = App(settings=Settings())
    assert app.root_path == str(Path(__file__).parent)
    app.root_path = str(site)
    app.static("/static", "static")
    assert make_client(app).get("/static/logo.svg").status_code == 200


def test_app_without_static_files_has_no_static_route() -> None:
    app = App(settings=Settings())
    assert "static" not in app.extensions
    assert [r for r in app.router.routes() if r.name == "static"] == []


# -- production: the collected, hashed files -----------------------------------------------


def _collected(site: Path) -> Path:
    root = site / "staticfiles"
    (root / "css").mkdir(parents=True)
    (root / "css" / "app.css").write_text("plain")
    (root / "css" / "app.0123456789ab.css").write_text("hashed")
    (root / "manifest.json").write_text(
        json.dumps({"version": 1, "paths": {"css/app.css": "css/app.0123456789ab.css"}})
    )
    return root


def test_production_serves_hashed_files_as_immutable(
    make_client: ClientFactory, site: Path
) -> None:
    _collected(site)
    app = make_app(site)
    client = make_client(app)
    hashed = client.get("/static/css/app.0123456789ab.css")
    assert hashed.text == "hashed"
    assert hashed.headers["cache-control"] == IMMUTABLE
    plain = client.get("/static/css/app.css")
    assert plain.text == "plain"
    assert plain.headers["cache-control"] == "public, max-age=60"
    # NOTE: with a manifest, only STATIC_ROOT is served: the sources are not.
    assert client.get("/static/js/app.js").status_code == 404
    assert static_url(app, "css/app.css") == "/static/css/app.0123456789ab.css"
    assert static_url(app, "not/in/manifest.js") == "/static/not/in/manifest.js"


def test_debug_ignores_the_manifest(make_client: ClientFactory, site: Path) -> None:
    _collected(site)
    app = make_app(site, debug=True)
    assert static_url(app, "css/app.css") == "/static/css/app.css"
    assert make_client(app).get("/static/css/app.css").text == "body { color: red }\n"


def test_broken_manifest_is_a_clear_error(site: Path) -> None:
    root = _collected(site)
    (root / "manifest.json").write_text("{not json")
    app = make_app(site)
    with pytest.raises(ConfigurationError, match="manifest"):
        static_url(app, "css/app.css")


def test_static_url_keeps_the_root_path_and_quotes(site: Path) -> None:
    app = make_app(site, debug=True)
    request = Request({"type": "http", "root_path": "/prefix", "headers": []})
    assert static_url(app, "img/a b.png", request) == "/prefix/static/img/a%20b.png"


def test_file_stat_is_reused_only_for_hashed_files(site: Path) -> None:
    _collected(site)
    app = make_app(site)
    files = app.extensions["static"]
    files.serve("css/app.0123456789ab.css")
    files.serve("css/app.css")
    assert files._cache["css/app.0123456789ab.css"].stat is not None
    assert files._cache["css/app.css"].stat is None
    assert os.path.isabs(files._cache["css/app.css"].path)


def test_a_folder_added_after_serving_takes_effect(make_client: ClientFactory, site: Path) -> None:
    app = App(settings=Settings())
    app.root_path = str(site)
    app.include(_component(site))
    client = make_client(app)
    assert client.get("/static/blog/css/shared.css").text == "/* from the component */"
    (site / "static" / "blog" / "css").mkdir(parents=True)
    (site / "static" / "blog" / "css" / "shared.css").write_text("/* project */")
    app.static()
    assert client.get("/static/blog/css/shared.css").text == "/* project */"


def test_small_and_large_files_and_ranges_come_whole(
    make_client: ClientFactory, site: Path
) -> None:
    big = bytes(range(256)) * 1000  # 256 kB: sent in chunks; small files in one read
    (site / "static" / "big.bin").write_bytes(big)
    client = make_client(make_app(site))
    assert client.get("/static/big.bin").content == big
    middle = client.get("/static/big.bin", headers={"range": "bytes=1000-1009"})
    assert (middle.status_code, middle.content) == (206, big[1000:1010])
    tail = client.get("/static/css/app.css", headers={"range": "bytes=-4"})
    assert (tail.status_code, tail.content) == (206, b"red }\n"[-4:])
