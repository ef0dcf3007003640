from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from oakling import App, Settings
from oakling.testing import TestClient
from oakling.web.static import IMMUTABLE, static_url

Invoke = Callable[..., Result]

APP = """
from oakling import App, Component

app = App()
app.static()
blog = Component("blog", static="blog_static")
app.include(blog)
"""

APP_CSS = """\
@import "base.css";
@import url('fonts.css');
body { background: url("../img/bg.png") }
.a { background: url(../img/bg.png?v=1#frag) }
.b { background: url('/static/img/bg.png') }
.c { background: url(data:image/png;base64,AAAA) }
.d { background: url(https://cdn.example.com/x.png) }
.e { background: url(missing.png) }
.f { background: url(../../outside.png) }
"""


PNG = b"\x89PNG fake"


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "img").mkdir()
    (static / "css" / "app.css").write_text(APP_CSS)
    (static / "css" / "base.css").write_text("html { color: black }")
    (static / "css" / "fonts.css").write_text("@import 'app.css';")  # a cycle
    (static / "img" / "bg.png").write_bytes(PNG)
    (static / ".env").write_text("SECRET")
    blog = tmp_path / "blog_static"
    blog.mkdir()
    (blog / "blog.css").write_text(".logo { background: url(logo.svg) }")
    (blog / "logo.svg").write_text("<svg/>")
    return tmp_path


def test_collectstatic_copies_hashes_and_writes_a_manifest(invoke: Invoke, project: Path) -> None:
    result = invoke("collectstatic", cwd=project)
    assert result.exit_code == 0, result.output
    root = project / "staticfiles"
    assert "6 static file(s) collected" in result.output
    paths = json.loads((root / "manifest.json").read_text())["paths"]
    png = "img/bg." + _h(PNG) + ".png"
    assert paths["img/bg.png"] == png
    assert (root / png).read_bytes() == PNG
    assert (root / "img" / "bg.png").read_bytes() == PNG
    assert set(paths) == {
        "css/app.css",
        "css/base.css",
        "css/fonts.css",
        "img/bg.png",
        "blog/blog.css",
        "blog/logo.svg",
    }
    assert not (root / ".env").exists()
    for hashed in paths.values():
        assert (root / hashed).is_file()


def test_css_references_point_to_hashed_names(invoke: Invoke, project: Path) -> None:
    invoke("collectstatic", cwd=project)
    root = project / "staticfiles"
    paths = json.loads((root / "manifest.json").read_text())["paths"]
    css = (root / paths["css/app.css"]).read_text()
    bg = Path(paths["img/bg.png"]).name
    base = Path(paths["css/base.css"]).name
    assert f'@import "{base}";' in css
    assert f'url("../img/{bg}")' in css
    assert f"url(../img/{bg}?v=1#frag)" in css
    assert f"url('/static/img/{bg}')" in css
    assert "url(data:image/png;base64,AAAA)" in css
    assert "url(https://cdn.example.com/x.png)" in css
    assert "url(missing.png)" in css
    assert "url(../../outside.png)" in css
    # NOTE: the hash is that of the rewritten content; the plain copy is the original.
    assert paths["css/app.css"] == f"css/app.{_h(css.encode())}.css"
    assert (root / "css" / "app.css").read_text() == APP_CSS
    blog_css = (root / paths["blog/blog.css"]).read_text()
    assert Path(paths["blog/logo.svg"]).name in blog_css


def test_collected_files_are_served_hashed_and_immutable(invoke: Invoke, project: Path) -> None:
    invoke("collectstatic", cwd=project)
    app = App(settings=Settings())
    app.root_path = str(project)
    app.static()
    paths = json.loads((project / "staticfiles" / "manifest.json").read_text())["paths"]
    url = static_url(app, "css/app.css")
    assert url == "/static/" + paths["css/app.css"]
    with TestClient(app) as client:
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_clear_removes_stale_files(invoke: Invoke, project: Path) -> None:
    stale = project / "staticfiles" / "old.css"
    stale.parent.mkdir()
    stale.write_text("old")
    invoke("collectstatic", cwd=project)
    assert stale.exists()
    result = invoke("collectstatic", "--clear", cwd=project)
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert (project / "staticfiles" / "manifest.json").exists()


def test_static_root_inside_a_source_folder_is_refused(invoke: Invoke, project: Path) -> None:
    result = invoke(
        "collectstatic", "--clear", cwd=project, env={"OAKLING_STATIC_ROOT": "static/out"}
    )
    assert result.exit_code == 2
    assert "overlaps the static folder" in result.output
    assert (project / "static" / "css" / "app.css").exists()


def test_an_app_without_static_files(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """
            from oakling import App
            app = App()
            """
        )
    )
    result = invoke("collectstatic", cwd=tmp_path)
    assert result.exit_code == 0
    assert "nothing to collect" in result.output
    assert not (tmp_path / "staticfiles").exists()
