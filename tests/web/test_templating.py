from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ClientFactory

from oakling import App, Component, HTMLResponse, Request, Settings
from oakling.web import Template, Templates, render, render_async, render_string

XSS = '<script>alert("x")</script>'
SECRET = "k" * 50
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

TEMPLATES = {
    "base.html": "<title>{% block title %}{% endblock %}</title>{% block body %}{% endblock %}",
    "page.html": (
        '{% extends "base.html" %}{% block title %}{{ title }}{% endblock %}'
        "{% block body %}<p>{{ payload }}</p>{% endblock %}"
    ),
    "note.txt": "Note: {{ payload }}",
    "feed.xml": "<feed>{{ payload }}</feed>",
    "globals.html": (
        '{{ url_for("page") }}|{{ url_for("item", id=3, q="a b") }}|{{ static("css/app.css") }}|'
        "{{ request.path }}|{{ 3|double }}|{{ shout('hi') }}|{{ 'x'|blogify }}|{{ answer() }}"
    ),
    "csrf.html": "<form>{{ csrf_input() }}</form>|{{ csrf_token() }}|{{ csp_nonce() }}",
    "flash.html": (
        "{% for c, m in get_flashed_messages(with_categories=true) %}{{ c }}:{{ m }};{% endfor %}"
    ),
    "needs_request.html": "{{ csrf_token() }}",
    "404.html": "<h1>Lost</h1><p>{{ detail }}</p><p>{{ status }} {{ title }}</p>",
    "500.html": "<h1>Our fault</h1>{{ request_id }}",
    "403.html": "{{ no_such_function() }}",
    "blog/shared.html": "from the project",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for name, text in TEMPLATES.items():
        path = tmp_path / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    blog = tmp_path / "blog" / "templates" / "blog"
    blog.mkdir(parents=True)
    (blog / "post.html").write_text("post {{ slug }} in {{ 'x'|blogify }}")
    (blog / "shared.html").write_text("from the component")
    return tmp_path


def make_app(site: Path, *, debug: bool = False) -> App:
    app = App(settings=Settings(debug=debug, secret_key=SECRET))
    app.root_path = str(site)

    @app.get("/page")
    def page(request: Request) -> HTMLResponse:
        return render(request, "page.html", title="Home", payload=XSS)

    @app.get("/items/{id:int}")
    def item(id: int) -> str:
        return str(id)

    @app.template_filter
    def double(value: int) -> int:
        return value * 2

    @app.template_global("shout")
    def loud(text: str) -> str:
        return text.upper()

    blog = Component("blog", prefix="/blog", templates=str(site / "blog" / "templates"))

    @blog.template_filter("blogify")
    def blogify(value: str) -> str:
        return f"blog:{value}"

    @blog.template_global
    def answer() -> int:
        return 42

    @blog.get("/{slug}")
    def post(request: Request, slug: str) -> HTMLResponse:
        return render(request, "blog/post.html", slug=slug)

    app.include(blog)
    return app


# -- rendering ---------------------------------------------------------------------------------


def test_render_escapes_a_script_payload(make_client: ClientFactory, site: Path) -> None:
    response = make_client(make_app(site)).get("/page")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == (
        "<title>Home</title><p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p>"
    )
    assert "<script>" not in response.text


def test_text_templates_are_not_escaped_and_xml_ones_are(
    make_client: ClientFactory, site: Path
) -> None:
    app = make_app(site)

    @app.get("/note")
    def note(request: Request) -> HTMLResponse:
        return Template(request, "note.txt", {"payload": XSS})

    @app.get("/feed")
    def feed(request: Request) -> HTMLResponse:
        return Template(request, "feed.xml", {"payload": XSS})

    client = make_client(app)
    note_response = client.get("/note")
    assert note_response.text == f"Note: {XSS}"
    assert note_response.headers["content-type"] == "text/plain; charset=utf-8"
    feed_response = client.get("/feed")
    assert "&lt;script&gt;" in feed_response.text
    assert feed_response.headers["content-type"] == "application/xml"


def test_template_response_status_headers_and_attributes(
    make_client: ClientFactory, site: Path
) -> None:
    app = make_app(site)
    seen: list[Template] = []

    @app.post("/made")
    def made(request: Request) -> HTMLResponse:
        response = Template(
            request, "page.html", {"title": "New", "payload": "ok"}, 201, {"x-made": "yes"}
        )
        seen.append(response)
        return response

    @app.get("/tuple")
    def as_tuple(request: Request) -> Any:
        return render(request, "page.html", title="T", payload=""), 202

    client = make_client(app)
    response = client.post("/made")
    assert response.status_code == 201
    assert response.headers["x-made"] == "yes"
    assert seen[0].template == "page.html"
    assert seen[0].context == {"title": "New", "payload": "ok"}
    assert client.get("/tuple").status_code == 202


def test_globals_filters_and_component_registrations(
    make_client: ClientFactory, site: Path
) -> None:
    app = make_app(site)

    @app.get("/globals")
    def globals_page(request: Request) -> HTMLResponse:
        return render(request, "globals.html")

    response = make_client(app).get("/globals")
    assert response.text == ("/page|/items/3?q=a+b|/static/css/app.css|/globals|6|HI|blog:x|42")


def test_csrf_and_nonce_globals(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)

    @app.get("/form")
    def form(request: Request) -> HTMLResponse:
        return render(request, "csrf.html")

    response = make_client(app).get("/form")
    form_html, token, nonce = response.text.split("|")
    assert form_html.startswith('<form><input type="hidden" name=')
    assert f'value="{token}"' in form_html
    assert len(token) > 20
    assert len(nonce) > 10


def test_flashed_messages_global(make_client: ClientFactory, site: Path) -> None:
    from oakling.web.messages import flash

    app = make_app(site)

    @app.get("/flash")
    def flashing(request: Request) -> HTMLResponse:
        flash(request, "Saved <b>", "success")
        return render(request, "flash.html")

    assert make_client(app).get("/flash").text == "success:Saved &lt;b&gt;;"


def test_component_templates_and_project_override(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)

    @app.get("/shared")
    def shared(request: Request) -> HTMLResponse:
        return render(request, "blog/shared.html")

    client = make_client(app)
    assert client.get("/blog/hello").text == "post hello in blog:x"
    assert client.get("/shared").text == "from the project"


def test_render_async_in_an_async_handler(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)

    @app.get("/async")
    async def async_page(request: Request) -> HTMLResponse:
        return await render_async(request, "page.html", title="A", payload="<i>")

    response = make_client(app).get("/async")
    assert response.text == "<title>A</title><p>&lt;i&gt;</p>"


def test_render_string_for_an_app_has_no_request(site: Path) -> None:
    app = make_app(site)
    assert render_string(app, "note.txt", payload="<x>") == "Note: <x>"
    with pytest.raises(RuntimeError, match=r"csrf_token\(\) needs the request"):
        render_string(app, "needs_request.html")


def test_missing_template_is_a_500(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)

    @app.get("/missing")
    def missing(request: Request) -> HTMLResponse:
        return render(request, "nope.html")

    response = make_client(app).get("/missing", headers={"accept": "application/json"})
    assert response.status_code == 500


def test_templates_compiled_once_and_cached_outside_debug(site: Path) -> None:
    app = make_app(site)
    templates = Templates.of(app)
    assert Templates.of(app) is templates
    first = templates.get_template("page.html")
    _touch(site / "templates" / "page.html", "changed")
    assert templates.get_template("page.html") is first
    assert "changed" not in render_string(app, "page.html")


def test_debug_reloads_changed_templates(site: Path) -> None:
    app = make_app(site, debug=True)
    assert render_string(app, "note.txt", payload="1") == "Note: 1"
    _touch(site / "templates" / "note.txt", "Changed {{ payload }}")
    assert render_string(app, "note.txt", payload="1") == "Changed 1"


def _touch(path: Path, text: str) -> None:
    path.write_text(text)
    later = time.time() + 5
    import os

    os.utime(path, (later, later))


def test_template_folders_project_first(site: Path) -> None:
    from oakling.web.templating import template_folders

    folders = template_folders(make_app(site))
    assert folders == [str(site / "templates"), str(site / "blog" / "templates")]


# -- error pages --------------------------------------------------------------------------------


def test_404_template_for_browsers_problem_json_for_apis(
    make_client: ClientFactory, site: Path
) -> None:
    client = make_client(make_app(site))
    page = client.get("/nowhere", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<h1>Lost</h1>")
    assert "404 Not Found" in page.text
    api = client.get("/nowhere", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


def test_error_template_escapes_the_detail(make_client: ClientFactory, site: Path) -> None:
    page = make_client(make_app(site)).get("/<script>alert(1)</script>", headers=HTML)
    assert page.status_code == 404
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_500_template_for_unhandled_errors(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    page = make_client(app).get("/boom", headers=HTML)
    assert page.status_code == 500
    assert page.text.startswith("<h1>Our fault</h1>")
    assert "secret detail" not in page.text


def test_debug_keeps_the_traceback_page(make_client: ClientFactory, site: Path) -> None:
    app = make_app(site, debug=True)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("visible in debug")

    page = make_client(app).get("/boom", headers=HTML)
    assert page.status_code == 500
    assert "Traceback" in page.text
    assert "Our fault" not in page.text


def test_failing_error_template_falls_back_to_the_built_in_page(
    make_client: ClientFactory, site: Path
) -> None:
    from oakling import Forbidden

    app = make_app(site)

    @app.get("/private")
    def private() -> str:
        raise Forbidden("Members only", headers={"x-why": "members"})

    page = make_client(app).get("/private", headers=HTML)
    assert page.status_code == 403
    assert "Members only" in page.text
    assert page.headers["x-why"] == "members"
    assert "<h1>403 Forbidden</h1>" in page.text


def test_missing_error_template_gives_the_built_in_page(
    make_client: ClientFactory, site: Path
) -> None:
    page = make_client(make_app(site)).post("/page", headers=HTML)
    assert page.status_code == 405
    assert "<h1>405 Method Not Allowed</h1>" in page.text


def test_error_template_failing_while_templates_fail_is_no_loop(
    make_client: ClientFactory, site: Path
) -> None:
    (site / "templates" / "500.html").write_text("{% extends 'nope.html' %}")
    app = make_app(site)

    @app.get("/broken")
    def broken(request: Request) -> HTMLResponse:
        return render(request, "missing.html")

    page = make_client(app).get("/broken", headers=HTML)
    assert page.status_code == 500
    assert "<h1>500 Internal Server Error</h1>" in page.text


# -- staying light ----------------------------------------------------------------------------


def _run(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd
    )
    return result.stdout.strip()


def test_oakling_web_and_html_errors_without_templates_do_not_import_jinja(
    tmp_path: Path,
) -> None:
    code = (
        "import sys, oakling.web\n"
        "from oakling import App\n"
        "from oakling.testing import TestClient\n"
        "app = App(debug=True)\n"
        "r = TestClient(app).get('/x', headers={'accept': 'text/html'})\n"
        "print(r.status_code, 'jinja2' in sys.modules)\n"
    )
    assert _run(code, tmp_path) == "404 False"


def test_oakling_web_exports_are_sorted_documented_and_lazy() -> None:
    import oakling.web

    names = list(oakling.web.__all__)
    assert names == sorted(names, key=lambda n: (0 if n[0].isupper() else 1, n))
    for name in names:
        assert getattr(oakling.web, name).__doc__, name
    with pytest.raises(AttributeError):
        oakling.web.nothing_here  # noqa: B018


def test_the_docs_example(make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    for name in list(os.environ):
        if name.startswith("OAKLING_"):
            monkeypatch.delenv(name)
    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "templates_1.py"
    spec = importlib.util.spec_from_file_location("docs_example_templates_1", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = make_client(module.app)
    page = client.get("/")
    assert "<li>&lt;Cake&gt;: 4.20 €</li>" in page.text
    assert '<link rel="stylesheet" href="/static/css/site.css">' in page.text
    assert '<a href="/">Reload</a>' in page.text
    assert client.get("/static/css/site.css").headers["content-type"] == "text/css; charset=utf-8"
    missing = client.get("/nope", headers=HTML)
    assert missing.status_code == 404
    assert "<title>Not found</title>" in missing.text
    assert "<h1>Nothing here</h1><p>No route for GET /nope</p>" in missing.text


def test_late_registrations_rebuild_the_environment(site: Path, tmp_path: Path) -> None:
    app = make_app(site)
    first = Templates.of(app)
    assert render_string(app, "note.txt", payload="x") == "Note: x"

    @app.template_filter
    def late(value: str) -> str:
        return value[::-1]

    assert Templates.of(app) is not first
    (site / "templates" / "late.txt").write_text("{{ 'abc'|late }}")
    assert render_string(app, "late.txt") == "cba"
    extra = tmp_path / "extra"
    (extra / "extra").mkdir(parents=True)
    (extra / "extra" / "x.txt").write_text("from a late component")
    app.include(Component("extra", templates=str(extra)))
    assert render_string(app, "extra/x.txt") == "from a late component"
