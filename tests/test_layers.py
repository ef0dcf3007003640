"""Imports only point down the layers: http <- routing <- app <- batteries."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "oakling"

# A module may import from its own layer and the ones listed for it.
LAYERS = {
    "http": {"http", "exceptions", "_types"},
    "routing": {"routing", "http", "exceptions", "_types"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oakling."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("oakling."))
    return found


def test_lower_layers_do_not_import_upper_ones() -> None:
    problems = []
    for layer, allowed in LAYERS.items():
        for path in (SRC / layer).rglob("*.py"):
            extra = _imports(path) - allowed
            if path.name == "websocket.py":
                # NOTE: serve_websocket, imported lazily, is the app layer's entry point.
                extra -= {"app", "_internal"}
            if path.name == "streaming.py" or path.name == "files.py":
                extra -= {"wsgi"}
            if extra:
                problems.append(f"{path.relative_to(SRC)} imports {sorted(extra)}")
    assert problems == []
