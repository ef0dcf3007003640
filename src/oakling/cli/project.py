"""``oakling new NAME``: create a small, runnable, tested project."""

from __future__ import annotations

import re
import secrets
from importlib import resources
from pathlib import Path
from string import Template

import click

from oakling.cli._context import CLIError

__all__ = ("FILES", "create_project", "new")

FILES: dict[str, str] = {
    "app.py": "app.py.tmpl",
    "tests/test_app.py": "test_app.py.tmpl",
    ".env.example": "env.example.tmpl",
    ".env": "env.tmpl",
    ".gitignore": "gitignore.tmpl",
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
}
"""The project's files and the skeleton template each is made from."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")


def create_project(folder: Path, name: str) -> list[Path]:
    """Write the project files into ``folder`` (created if needed); return them.

    Raises:
        CLIError: ``name`` is not a plain folder name, or ``folder`` exists and
            is not an empty directory.
    """
    if not _NAME.fullmatch(name):
        raise CLIError(
            f"Invalid project name {name!r}: use letters, digits, '_' and '-', starting "
            "with a letter (e.g. 'blog' or 'my-site')."
        )
    if folder.exists() and not folder.is_dir():
        raise CLIError(f"Refusing to create {name}/: a file with that name exists.")
    if folder.is_dir() and any(folder.iterdir()):
        raise CLIError(f"Refusing to overwrite {name}/: the folder exists and is not empty.")
    values = {"name": name, "secret_key": secrets.token_urlsafe(50)}
    skeleton = resources.files("oakling.cli").joinpath("skeleton")
    written: list[Path] = []
    for relative, template in FILES.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = Template(skeleton.joinpath(template).read_text(encoding="utf-8")).substitute(values)
        path.write_text(text, encoding="utf-8")
        if relative == ".env":
            path.chmod(0o600)  # NOTE: it holds the secret key
        written.append(path)
    return written


@click.command()
@click.argument("name")
def new(name: str) -> None:
    """Create a new project in the folder NAME.

    The project has app.py (an HTML and a JSON route), tests/test_app.py,
    a .env with a fresh secret key and debug on (git-ignored), .env.example,
    pyproject.toml and a README. An existing non-empty folder is never touched.
    """
    folder = Path.cwd() / name
    create_project(folder, name)
    click.echo(f"Created {name}/ with app.py, tests/, .env (secret key, debug on) and README.md.")
    click.echo("Next:")
    click.echo(f"  cd {name}")
    click.echo("  oakling run          # http://127.0.0.1:8000/")
    click.echo("  python -m pytest     # run the tests")
