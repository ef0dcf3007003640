"""``oakling openapi``: print the app's OpenAPI document."""

from __future__ import annotations

import importlib
import json
from typing import TYPE_CHECKING, Any

import click

from oakling.cli._context import CLIError, ScriptInfo, app_option, pass_info
from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from oakling.api.openapi import OpenAPI
    from oakling.app import App

__all__ = ("openapi",)


@click.command()
@app_option
@click.option("--yaml", "as_yaml", is_flag=True, help="Print YAML instead of JSON (needs PyYAML).")
@click.option(
    "--name",
    metavar="NAME",
    help="Which OpenAPI component, by name, when the app has several (e.g. one per version).",
)
@click.option("--indent", type=click.IntRange(0, 8), default=2, show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
@pass_info
def openapi(
    info: ScriptInfo, as_yaml: bool, name: str | None, indent: int, output: str | None
) -> None:
    """Print the app's OpenAPI 3.1 document (what /openapi.json serves).

    Uses the app's OpenAPI component (see oakling.api); an app without one gets
    a document of all its routes with a default title. Exits with 2 when the
    document cannot be built (e.g. an undeclared security scheme).
    """
    app = info.load_app()
    component = _component(app, name)
    try:
        document = component.document(app)
    except ConfigurationError as exc:
        raise CLIError(str(exc)) from None
    text = _render(document, as_yaml=as_yaml, indent=indent)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8") as file:
        file.write(text)
    click.echo(f"Wrote {output}", err=True)


def _component(app: App, name: str | None) -> OpenAPI:
    from oakling.api.openapi import OpenAPI

    found = [c for c in app.components if isinstance(c, OpenAPI)]
    if name is not None:
        for component in found:
            if component.name == name:
                return component
        known = ", ".join(c.name for c in found) or "none"
        raise CLIError(f"The app has no OpenAPI component named {name!r} (it has: {known})")
    if len(found) > 1:
        names = ", ".join(c.name for c in found)
        raise CLIError(f"The app has several OpenAPI components ({names}): choose one with --name")
    if found:
        return found[0]
    return OpenAPI(docs_path=None)


def _render(document: dict[str, Any], *, as_yaml: bool, indent: int) -> str:
    if not as_yaml:
        return json.dumps(document, indent=indent or None, ensure_ascii=False) + "\n"
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        raise CLIError("--yaml needs PyYAML: pip install pyyaml") from None
    text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, indent=indent or 2)
    return text
