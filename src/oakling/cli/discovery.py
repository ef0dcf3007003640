"""Find the project's app: ``--app module:attr``, ``OAKLING_APP``, or ``app.py``/``main.py``.

This module does not import click: server workers load the app through it too
(see ``oakling.cli._target``), and they must not pay for the CLI.

A target is ``module``, ``module:attr`` or ``path/to/file.py[:attr]``. ``attr`` is
an ``App`` or a function returning one (``create_app``); ``attr()`` is accepted
for the latter. Without an ``attr``, ``app`` is tried, then ``create_app``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oakling.exceptions import OaklingError

if TYPE_CHECKING:
    from oakling.app import App

__all__ = ("DEFAULT_ATTRS", "DEFAULT_MODULES", "DiscoveryError", "LoadedApp", "load_app")

DEFAULT_MODULES = ("app", "main")
"""Modules looked for in the current directory, in order, when no target is given."""

DEFAULT_ATTRS = ("app", "create_app")
"""Attributes looked for in the module, in order, when the target names none."""


class DiscoveryError(OaklingError):
    """The app could not be found or loaded; the message says which and why.

    Attributes:
        cause: The exception raised by the user's code, if any (for ``--debug``).
    """

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        self.cause = cause
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class LoadedApp:
    """An app found by ``load_app`` and the exact target that finds it again."""

    app: App
    target: str
    """``module:attr``; a worker process given it loads the same app."""


def load_app(target: str | None = None, *, cwd: str | os.PathLike[str] | None = None) -> LoadedApp:
    """Import the app named by ``target``, or look for it in ``cwd``.

    ``cwd`` (default: the current directory) is put first on ``sys.path``.

    Raises:
        DiscoveryError: No app was found, its module failed to import, the
            attribute is missing, or it is not an oakling ``App``.
    """
    folder = Path(cwd if cwd is not None else os.getcwd()).resolve()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    if target is None or not target.strip():
        spec, attr = _default_module(folder), None
    else:
        spec, _, attr_text = target.strip().partition(":")
        attr = attr_text.strip() or None
        if not spec:
            raise DiscoveryError(f"Invalid app target {target!r}: expected module:attr")
    module_name = _module_name(spec, folder)
    module = _import(module_name, folder)
    if attr is not None:
        app = _from_attr(module, module_name, attr)
        return LoadedApp(app, f"{spec}:{attr}")
    for name in DEFAULT_ATTRS:
        if hasattr(module, name):
            return LoadedApp(_from_attr(module, module_name, name), f"{spec}:{name}")
    found = _apps_in(module)
    hint = (
        f" It defines {', '.join(found)}: pass --app {spec}:{found[0]}"
        if found
        else " Define `app = App()` there, or pass --app module:attr."
    )
    raise DiscoveryError(
        f"Module {module_name!r} has no attribute 'app' and no 'create_app' factory.{hint}"
    )


def _default_module(folder: Path) -> str:
    for name in DEFAULT_MODULES:
        if (folder / f"{name}.py").is_file():
            return name
    raise DiscoveryError(
        f"No app found: there is no app.py or main.py in {folder}. "
        "Run this in your project folder, or pass --app module:attr "
        "(or set OAKLING_APP)."
    )


def _module_name(spec: str, folder: Path) -> str:
    """Turn a module name or a ``.py`` path into an importable module name."""
    if not (spec.endswith(".py") or "/" in spec or os.sep in spec):
        return spec
    path = (folder / spec).resolve()
    if path.is_dir():
        path = path / "__init__.py"
    if not path.is_file():
        raise DiscoveryError(f"No app found: the file {spec!r} does not exist (in {folder}).")
    parts = [path.stem] if path.name != "__init__.py" else []
    parent = path.parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    if str(parent) not in sys.path:
        sys.path.insert(0, str(parent))
    return ".".join(parts)


def _import(name: str, folder: Path) -> Any:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # NOTE: the module itself (or a package on its path) is missing, as opposed
        # to the module importing something that is missing.
        if exc.name is not None and (name == exc.name or name.startswith(exc.name + ".")):
            raise DiscoveryError(
                f"No app found: could not import module {name!r} (looked in {folder} "
                "and on sys.path)."
            ) from None
        raise DiscoveryError(_failed(name, exc), cause=exc) from exc
    except SyntaxError as exc:
        where = f" ({exc.filename}, line {exc.lineno})" if exc.filename else ""
        raise DiscoveryError(
            f"Importing {name!r} failed: SyntaxError: {exc.msg}{where}", cause=exc
        ) from exc
    except Exception as exc:  # NOTE: the user's module may raise anything at import
        raise DiscoveryError(_failed(name, exc), cause=exc) from exc
    _check_not_shadowed(module, name, folder)
    return module


def _check_not_shadowed(module: Any, name: str, folder: Path) -> None:
    """Refuse a module of the same name imported from elsewhere (``site``, ``test``...)."""
    expected = folder / f"{name}.py"
    found = getattr(module, "__file__", None)
    if "." in name or not expected.is_file() or found is None:
        return
    if Path(found).resolve() != expected.resolve():
        raise DiscoveryError(
            f"The module name {name!r} is taken: it was imported from {found}, not from "
            f"{expected}. Rename your file (e.g. to app.py)."
        )


def _failed(name: str, exc: BaseException) -> str:
    return f"Importing {name!r} failed: {type(exc).__name__}: {exc}"


def _from_attr(module: Any, module_name: str, attr: str) -> App:
    from oakling.app import App

    call = attr.endswith("()")
    name = attr.removesuffix("()").strip()
    if not name.isidentifier():
        raise DiscoveryError(f"Invalid attribute {attr!r}: expected a name such as 'app'.")
    try:
        value = getattr(module, name)
    except AttributeError:
        found = _apps_in(module)
        hint = f" It defines {', '.join(found)}." if found else ""
        raise DiscoveryError(f"Module {module_name!r} has no attribute {name!r}.{hint}") from None
    if isinstance(value, App) and not call:
        return value
    if not (inspect.isfunction(value) or inspect.ismethod(value)):
        raise DiscoveryError(
            f"{module_name}:{name} is not an oakling App (it is {_describe(value)}). "
            "Point --app at an App instance or at a function that returns one."
        )
    try:
        built = value()
    except TypeError as exc:
        if _takes_no_arguments(value):
            raise DiscoveryError(_called(module_name, name, exc), cause=exc) from exc
        raise DiscoveryError(
            f"{module_name}:{name}() must be callable without arguments to build the app: {exc}"
        ) from None
    except Exception as exc:  # NOTE: the user's factory may raise anything
        raise DiscoveryError(_called(module_name, name, exc), cause=exc) from exc
    if not isinstance(built, App):
        raise DiscoveryError(
            f"{module_name}:{name}() returned {_describe(built)}, not an oakling App."
        )
    return built


def _called(module_name: str, name: str, exc: BaseException) -> str:
    return f"Calling {module_name}:{name}() failed: {type(exc).__name__}: {exc}"


def _takes_no_arguments(fn: Any) -> bool:
    try:
        inspect.signature(fn).bind()
    except TypeError:
        return False
    except ValueError:  # NOTE: no signature available; assume it does
        return True
    return True


def _apps_in(module: Any) -> list[str]:
    from oakling.app import App

    return [key for key, value in vars(module).items() if isinstance(value, App)]


def _describe(value: object) -> str:
    if value is None:
        return "None"
    kind = type(value)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return f"a value of type {name}"
