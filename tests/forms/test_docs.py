"""docs/forms.md: its examples answer as the page says."""

from __future__ import annotations

import importlib.util
import io
import itertools
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.forms.conftest import submit

from oakling.testing import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
_counter = itertools.count()


def load(name: str) -> types.ModuleType:
    module_name = f"docs_forms_{name}_{next(_counter)}"
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client_for(interface: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    for name in list(os.environ):
        if name.startswith("OAKLING_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    clients: list[TestClient] = []

    def make(name: str) -> tuple[types.ModuleType, TestClient]:
        module = load(name)
        client = TestClient(module.app, wsgi=interface == "wsgi")
        client.__enter__()
        clients.append(client)
        return module, client

    yield make
    for client in clients:
        client.__exit__()
        client.close()


def test_forms_1(client_for: Any) -> None:
    module, client = client_for("forms_1")
    first = client.get("/contact")
    assert first.status_code == 200
    assert first.text.startswith("<!doctype html>")
    assert '<label for="id_copy">Send me a copy</label>' in first.text
    bad = submit(
        client,
        "/contact",
        {"name": "Ada", "email": "ada@example.com", "topic": "bug", "message": "<b>It breaks</b>"},
    )
    assert bad.status_code == 422
    assert "<li>Link to the page where the bug happens.</li>" in bad.text
    assert "&lt;b&gt;It breaks&lt;/b&gt;</textarea>" in bad.text
    good = submit(
        client,
        "/contact",
        {"name": "Ada", "email": "ada@example.com", "topic": "question", "message": "How do I?"},
    )
    assert good.status_code == 422
    assert "<li>Enter at least 10 characters (it has 9).</li>" in good.text
    done = submit(
        client,
        "/contact",
        {"name": "Ada", "email": "ada@example.com", "topic": "question", "message": "How do I x?"},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/thanks")
    assert module.app.state.messages == [
        {
            "name": "Ada",
            "email": "ada@example.com",
            "topic": "question",
            "message": "How do I x?",
            "copy": False,
        }
    ]


def test_forms_2(client_for: Any) -> None:
    module, client = client_for("forms_2")
    api = client.post("/api/signups", json={"name": "A", "email": "a@b.co", "age": 30})
    assert api.status_code == 422
    page = client.get("/signup").text
    assert '<label for="id_name">Your name</label>' in page
    assert '<p class="help" id="id_age-help">You must be an adult.</p>' in page
    assert 'type="number" name="age" id="id_age" value="" required' in page
    assert '<option value="free" selected>free</option>' in page
    assert '<button type="submit">Sign up</button>' in page
    young = submit(client, "/signup", {"name": "Bo", "email": "b@c.de", "age": "17", "terms": "on"})
    assert young.status_code == 422
    assert "<li>Enter a value of at least 18.</li>" in young.text
    ok = submit(client, "/signup", {"name": "Bo", "email": "b@c.de", "age": "30", "terms": "on"})
    assert ok.text == "<p>Welcome!</p>"
    assert module.app.state.signups == [
        module.SignupIn(name="Bo", email="b@c.de", age=30, plan="free", company=None)
    ]
    assert list(module.QuickForm.fields) == ["name", "email", "age", "plan"]


def test_forms_3(client_for: Any, tmp_path: Path) -> None:
    _, client = client_for("forms_3")
    assert 'enctype="multipart/form-data"' in client.get("/avatar").text
    fake = submit(client, "/avatar", {}, files={"image": ("cat.png", b"GIF89a not really")})
    assert fake.status_code == 422
    assert "not an image" in fake.text
    assert not (tmp_path / "uploads").exists()
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG")
    real = submit(client, "/avatar", {}, files={"image": ("cat.png", buffer.getvalue())})
    assert real.json() == {"saved": "avatar.jpg", "bytes": len(buffer.getvalue())}
    assert (tmp_path / "uploads" / "avatar.jpg").read_bytes() == buffer.getvalue()
