"""Uploads through real multipart requests: size and type checked, nothing kept on failure."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.conftest import ClientFactory
from tests.forms.conftest import _TOKEN_RE, submit

from oakling import App, Request, Settings
from oakling.forms import FileField, Form, ImageField, TextField
from oakling.http.multipart import FormData, UploadFile


def _png(width: int = 4, height: int = 3, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


class Upload(Form):
    title = TextField()
    avatar = ImageField(formats=["PNG", "JPEG"], max_size=50_000, max_pixels=1_000_000)
    cv = FileField(required=False, max_size=1_000, extensions=[".pdf", "txt"])


def _app(folder: Path, **settings: Any) -> App:
    app = App(settings=Settings(**settings)) if settings else App()

    def keep(request: Request, form: Upload) -> Any:
        if not form.is_valid():
            return form.render(request), (422 if form.is_bound else 200)
        avatar = form.data["avatar"]
        avatar.save(folder / "avatar")
        return {"type": avatar.content_type, "size": avatar.size, "title": form.data["title"]}

    @app.route("/upload", methods=["GET", "POST"])
    def upload(request: Request, form: Upload) -> Any:
        return keep(request, form)

    @app.route("/upload-async", methods=["GET", "POST"])
    async def upload_async(request: Request, form: Upload) -> Any:
        return keep(request, form)

    return app


def test_form_with_files_is_rendered_multipart(make_client: ClientFactory, tmp_path: Path) -> None:
    page = make_client(_app(tmp_path)).get("/upload").text
    assert page.startswith('<form method="post" enctype="multipart/form-data">')
    assert (
        '<input type="file" name="avatar" id="id_avatar" required accept="image/png,image/jpeg">'
        in page
    )
    assert '<input type="file" name="cv" id="id_cv" accept=".pdf,.txt">' in page


@pytest.mark.parametrize("url", ["/upload", "/upload-async"])
def test_a_real_png_is_accepted_and_its_type_detected(
    make_client: ClientFactory, tmp_path: Path, url: str
) -> None:
    client = make_client(_app(tmp_path))
    data = _png()
    response = submit(
        client,
        url,
        {"title": "me"},
        files={"avatar": ("me.bin", data, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"type": "image/png", "size": len(data), "title": "me"}
    assert (tmp_path / "avatar").read_bytes() == data


@pytest.mark.parametrize(
    ("filename", "content", "content_type", "message"),
    [
        (
            "photo.png",
            b"just some text, renamed\n",
            "image/png",
            "Upload a valid image; this file is not an image or is damaged.",
        ),
        (
            "photo.png",
            _png()[:40],
            "image/png",
            "Upload a valid image; this file is not an image or is damaged.",
        ),
        (
            "anim.png",
            _png(fmt="GIF"),
            "image/png",
            "Upload an image in one of these formats: PNG, JPEG.",
        ),
        (
            "big.png",
            _png(1200, 1000),
            "image/png",
            "The image is too large (1200 x 1000 pixels); the limit is 1,000,000 pixels in all.",
        ),
        (
            "huge.png",
            b"\x89PNG" + b"0" * 60_000,
            "image/png",
            "The file is too large (58.6 KiB); the limit is 48.8 KiB.",
        ),
    ],
    ids=["text-renamed-png", "truncated-png", "gif-not-allowed", "too-many-pixels", "too-big"],
)
def test_bad_images_are_refused_and_nothing_is_stored(
    make_client: ClientFactory,
    tmp_path: Path,
    filename: str,
    content: bytes,
    content_type: str,
    message: str,
) -> None:
    client = make_client(_app(tmp_path))
    response = submit(
        client, "/upload", {"title": "me"}, files={"avatar": (filename, content, content_type)}
    )
    assert response.status_code == 422
    assert f'<ul class="errors" id="id_avatar-error"><li>{message}</li></ul>' in response.text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("side", "message"),
    [
        (
            5_000,
            "The image is too large (5000 x 5000 pixels); the limit is 10,000,000 pixels in all.",
        ),
        (20_000, "The image is too large; the limit is 10,000,000 pixels in all."),
    ],
)
def test_a_decompression_bomb_is_refused_before_decoding(side: int, message: str) -> None:
    # One-bit pixels of one colour compress to almost nothing; the header alone says the
    # image is far over the limit (at 20,000 x 20,000, over twice Pillow's own limit too).
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) < 100_000
    with _single(ImageField(max_pixels=10_000_000), data) as form:
        assert not form.is_valid()
        assert form.errors["f"] == [message]


@contextlib.contextmanager
def _single(field: Any, content: bytes, filename: str = "x.png") -> Iterator[Form]:
    """A form of one field bound to one uploaded file, closed afterwards."""

    class One(Form):
        f = field

    spooled = tempfile.SpooledTemporaryFile()  # noqa: SIM115 - closed by FormData below
    spooled.write(content)
    spooled.seek(0)
    upload = UploadFile(spooled, filename=filename, content_type="image/png", size=len(content))
    with FormData([("f", upload)]) as data:
        yield One(data)


def test_an_upload_over_the_request_limit_is_a_413_before_any_form(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = make_client(_app(tmp_path, max_upload_size=10_000))
    response = submit(client, "/upload", {"title": "t"}, files={"avatar": ("a.png", b"x" * 20_000)})
    assert response.status_code == 413
    assert "OAKLING_MAX_UPLOAD_SIZE" in response.text
    assert list(tmp_path.iterdir()) == []


def test_file_field_checks_size_and_extension(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client(_app(tmp_path))
    image = ("a.png", _png(), "image/png")
    too_big = submit(
        client, "/upload", {"title": "t"}, files={"avatar": image, "cv": ("cv.pdf", b"x" * 1001)}
    )
    assert too_big.status_code == 422
    assert "<li>The file is too large (1001 bytes); the limit is 1000 bytes.</li>" in too_big.text
    wrong = submit(
        client, "/upload", {"title": "t"}, files={"avatar": image, "cv": ("cv.exe", b"MZ")}
    )
    assert "<li>Upload a file of type .pdf, .txt.</li>" in wrong.text
    assert list(tmp_path.iterdir()) == []
    good = submit(
        client, "/upload", {"title": "t"}, files={"avatar": image, "cv": ("CV.TXT", b"hello")}
    )
    assert good.status_code == 200


def test_an_empty_file_input_is_missing(make_client: ClientFactory, tmp_path: Path) -> None:
    client = make_client(_app(tmp_path))
    token = _TOKEN_RE.search(client.get("/upload").text)
    # What a browser sends for a file input left empty: a part with filename="".
    body = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n'
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + (token.group(1).encode() if token else b"")
        + b'\r\n--b\r\nContent-Disposition: form-data; name="avatar"; filename=""\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"
    )
    empty = client.post(
        "/upload", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert empty.status_code == 422
    assert '<ul class="errors" id="id_avatar-error"><li>This field is required.</li>' in empty.text
    assert list(tmp_path.iterdir()) == []


def test_text_where_a_file_is_expected_is_refused(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    client = make_client(_app(tmp_path))
    as_text = submit(client, "/upload", {"title": "t", "avatar": "not a file"})
    assert as_text.status_code == 422
    assert list(tmp_path.iterdir()) == []
    with FormData([("title", "t"), ("avatar", "not a file")]) as data:
        assert Upload(data).errors == {
            "avatar": ["Choose a file to upload (the form must be sent as multipart/form-data)."]
        }


def test_image_field_accepts_jpeg_and_rewinds() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    with _single(ImageField(), buffer.getvalue(), "x.jpg") as form:
        assert form.is_valid(), form.errors
        upload = form.data["f"]
        assert upload.content_type == "image/jpeg"
        assert upload.read() == buffer.getvalue()
