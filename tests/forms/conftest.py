from __future__ import annotations

import re
from typing import Any

import httpx

from oakling.testing import TestClient

_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def submit(
    client: TestClient,
    url: str,
    data: dict[str, Any],
    files: dict[str, Any] | None = None,
) -> httpx.Response:
    """GET the page (session and CSRF token), then POST ``data`` with the token, as a browser."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    match = _TOKEN_RE.search(page.text)
    if match is not None:
        data = {**data, "csrf_token": match.group(1)}
    return client.post(url, data=data, files=files)
