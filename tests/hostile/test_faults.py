"""Faults on the server side: a full disk while spooling an upload, a stream that breaks.

The worker-kill test is in ``test_workers.py``; database faults come with the data layer.
"""

from __future__ import annotations

import errno
import tempfile
from typing import Annotated, Any, ClassVar

import pytest
from tests.conftest import ClientFactory

from oakling import App, Form, Settings
from oakling.http.multipart import UploadFile


class FullDisk:
    """A spooled file whose writes fail with ENOSPC once it would go to disk."""

    made: ClassVar[list[FullDisk]] = []

    def __init__(self, max_size: int = 0, **_: Any) -> None:
        self.max_size = max_size
        self.size = 0
        self.closed = False
        FullDisk.made.append(self)

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_size:
            raise OSError(errno.ENOSPC, "No space left on device")
        return len(data)

    def rollover(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        self.closed = True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def read(self, size: int = -1) -> bytes:
        return b""


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> list[FullDisk]:
    FullDisk.made = []
    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", FullDisk)
    return FullDisk.made


def upload_app(stored: list[Any]) -> App:
    app = App(settings=Settings(debug=True, spool_max_size=1024))

    @app.post("/upload", status=201)
    def upload(title: Annotated[str, Form()], document: UploadFile) -> dict[str, int]:
        stored.append(title)
        return {"size": document.size}

    return app


def test_full_disk_while_spooling_an_upload_is_507(
    make_client: ClientFactory, full_disk: list[FullDisk]
) -> None:
    stored: list[Any] = []
    client = make_client(upload_app(stored))
    response = client.post(
        "/upload", data={"title": "t"}, files={"document": ("big.bin", b"x" * 5000)}
    )
    assert response.status_code == 507
    assert "no room left to store this upload; nothing was kept" in response.json()["detail"]
    assert stored == []
    assert full_disk
    assert all(f.closed for f in full_disk)  # nothing half-written is kept


def test_a_small_upload_still_fits_in_memory(
    make_client: ClientFactory, full_disk: list[FullDisk]
) -> None:
    stored: list[Any] = []
    client = make_client(upload_app(stored))
    response = client.post("/upload", data={"title": "t"}, files={"document": ("s.txt", b"x")})
    assert response.status_code == 201
    assert stored == ["t"]


def test_other_disk_errors_are_not_hidden(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(FullDisk):
        def write(self, data: bytes) -> int:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Broken)
    stored: list[Any] = []
    client = make_client(upload_app(stored))
    response = client.post("/upload", data={"title": "t"}, files={"document": ("a", b"x")})
    assert response.status_code == 500  # a real fault: logged, not dressed up as 507
    assert stored == []
