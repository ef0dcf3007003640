"""The WSGI oakling app behind CORSMiddleware (its native WSGI twin)."""

from __future__ import annotations

from api.oakling_sync_api import app
from oakling.api import CORSConfig, CORSMiddleware

app.add_middleware(CORSMiddleware, config=CORSConfig(allow_origins=["https://app.example.org"]))
