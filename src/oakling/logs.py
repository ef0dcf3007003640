"""Logging: the access log line (``oakling.access``); errors go to ``oakling.error``."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oakling._types import Scope

__all__ = ("access_logger", "log_access")

access_logger = logging.getLogger("oakling.access")


def log_access(scope: Scope, status: int, started: float) -> None:
    """Log one access line: client, method, path, status, duration, request id."""
    access_logger.info(
        '%s "%s %s" %d %.1fms rid=%s',
        (scope.get("client") or ("-",))[0],
        scope.get("method"),
        scope.get("path"),
        status,
        (time.perf_counter() - started) * 1000,
        (scope.get("oakling.request_id") or b"-").decode("latin-1"),
    )
