"""The oakling app behind CORSMiddleware (requests carry no Origin: the common case)."""

from __future__ import annotations

from api.oakling_api import app
from oakling.api import CORSConfig, CORSMiddleware

app.add_middleware(CORSMiddleware, config=CORSConfig(allow_origins=["https://app.example.org"]))
