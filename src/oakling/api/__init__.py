"""REST APIs: OpenAPI 3.1 from the code, an offline docs UI, CORS and API conventions.

::

    from oakling.api import CORSConfig, CORSMiddleware, OpenAPI, api_conventions, doc

    app.include(OpenAPI(title="Shop", version="1.0"))        # /openapi.json and /docs
    api_conventions(v1)                                      # 406, problem+json errors
    app.add_middleware(CORSMiddleware, config=CORSConfig(allow_origins=["https://x.org"]))

Not imported by ``import oakling``; the docs page needs ``pip install 'oakling[api]'``,
``Resource`` (model CRUD) needs ``oakling[db]`` and is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oakling.api.cors import CORSConfig, CORSMiddleware
from oakling.api.doc import ResponseDoc, api_key_header, bearer_auth, cookie_auth, doc
from oakling.api.negotiation import Created, acceptable, api_conventions, created
from oakling.api.openapi import OpenAPI

if TYPE_CHECKING:
    from oakling.api.resource import Resource

__all__ = (
    "CORSConfig",
    "CORSMiddleware",
    "Created",
    "OpenAPI",
    "Resource",
    "ResponseDoc",
    "acceptable",
    "api_conventions",
    "api_key_header",
    "bearer_auth",
    "cookie_auth",
    "created",
    "doc",
)


def __getattr__(name: str) -> Any:
    # NOTE: Resource needs the data layer (SQLAlchemy): loaded on first use only.
    if name == "Resource":
        from oakling.api.resource import Resource

        return Resource
    raise AttributeError(f"module 'oakling.api' has no attribute {name!r}")
