"""Routing: path patterns, converters and the router."""

from __future__ import annotations

from oakling.routing.converters import Converter
from oakling.routing.route import PathPattern
from oakling.routing.router import Match, RouteInfo, Router

__all__ = ("Converter", "Match", "PathPattern", "RouteInfo", "Router")
