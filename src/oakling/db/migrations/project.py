"""Who owns which table: the project itself and each Component with ``models=``.

A ``Project`` splits the tables of ``Model.metadata`` into *branches*, one per
owner, each with its own folder of migrations (an Alembic version location)
and its own branch label:

* a component's branch is labelled with the component's name; its tables are
  the models and ``Table`` objects of the module given as ``models=`` (and of
  its submodules when it is a package); its migrations live in the
  ``migrations/`` folder next to that module, unless ``migrations=`` says where;
* the project's branch is labelled ``app``; its tables are the models defined
  in modules under the project's folder (the app module's folder), outside
  site-packages and outside the components; its migrations live in
  ``migrations/`` in that folder. A ``models`` module (or package) next to the
  app module is imported first, so models the app does not import are not lost.

Tables of other modules (a test module's models, a library's) belong to no one
and are left alone.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table

from oakling.db.models import Model
from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import ModuleType

    from sqlalchemy import MetaData

    from oakling.app import App
    from oakling.component import Component

__all__ = ("APP_LABEL", "Branch", "Project", "project")

APP_LABEL = "app"
"""The branch label of the project's own migrations."""


@dataclass(frozen=True, eq=False)
class Branch:
    """The tables of one owner and the folder of their migrations.

    Attributes:
        label: ``"app"`` for the project, else the component's name.
        directory: The folder of the branch's migration files.
        tables: The keys (``schema.name`` or ``name``) of its tables in the metadata.
        models: Its mapped classes, in definition order.
        component: The component, ``None`` for the project.
    """

    label: str
    directory: Path
    tables: frozenset[str]
    models: tuple[type[Model], ...]
    component: Component | None = None


@dataclass(frozen=True, eq=False)
class Project:
    """The branches of an app: the project's own first, then the components'.

    Attributes:
        root: The project's folder (the app module's folder).
        branches: ``app`` first, then each component with models, as included.
        metadata: The metadata the tables belong to (``Model.metadata``).
    """

    root: Path
    branches: tuple[Branch, ...]
    metadata: MetaData = field(default=Model.metadata)

    def branch(self, label: str) -> Branch:
        """The branch called ``label``.

        Raises:
            ConfigurationError: No branch has that label.
        """
        for branch in self.branches:
            if branch.label == label:
                return branch
        known = ", ".join(b.label for b in self.branches)
        raise ConfigurationError(
            f"No component with models is called {label!r}; known: {known} "
            f"({APP_LABEL!r} is the project itself)"
        )

    def owner(self, table: str) -> Branch | None:
        """The branch owning the table with key ``table``, if any."""
        for branch in self.branches:
            if table in branch.tables:
                return branch
        return None

    @property
    def tables(self) -> frozenset[str]:
        """Every owned table's key."""
        return frozenset().union(*(b.tables for b in self.branches))

    def dependencies(self, branch: Branch, tables: Iterable[str] | None = None) -> list[Branch]:
        """Branches whose tables ``branch``'s tables (or ``tables``) refer to by foreign key."""
        found: list[Branch] = []
        for key in sorted(branch.tables if tables is None else tables):
            table = self.metadata.tables.get(key)
            if table is None:
                continue
            for fk in table.foreign_keys:
                other = self.owner(fk.column.table.key)
                if other is not None and other is not branch and other not in found:
                    found.append(other)
        return found

    def ordered(self, branches: Iterable[Branch] | None = None) -> list[Branch]:
        """``branches`` (default: all) sorted so that dependencies come first."""
        todo = list(self.branches if branches is None else branches)
        done: list[Branch] = []
        while todo:
            for branch in todo:
                deps = [d for d in self.dependencies(branch) if d in todo]
                if not deps:
                    break
            else:  # NOTE: a cycle; keep the declared order for the rest
                branch = todo[0]
            todo.remove(branch)
            done.append(branch)
        return done


def project(app: App, root: str | Path | None = None, *, app_module: str | None = None) -> Project:
    """Split ``app``'s tables into the project's branch and its components' branches.

    Args:
        app: The app; its components (nested ones too) are looked at.
        root: The project's folder; default: the current directory.
        app_module: The app's module name; its sibling ``models`` module is
            imported when it exists (``models`` for ``app``, ``site.models``
            for ``site.app``).

    Raises:
        ConfigurationError: A component's models module cannot be imported,
            or two branches would share a folder or a label.
    """
    folder = Path(root if root is not None else Path.cwd()).resolve()
    _import_sibling_models(folder, app_module)
    branches: list[Branch] = []
    claimed: set[str] = set()
    for component in app.components:
        if component.models is None:
            continue
        if component.name == APP_LABEL:
            raise ConfigurationError(
                f"A component with models cannot be called {APP_LABEL!r}: "
                "that is the label of the project's own migrations"
            )
        if any(b.label == component.name for b in branches):
            raise ConfigurationError(f"Two components with models are called {component.name!r}")
        branch = _component_branch(component)
        branches.append(branch)
        claimed.update(branch.tables)
    own = _project_branch(folder, claimed)
    for branch in branches:
        if branch.directory == own.directory:
            raise ConfigurationError(
                f"Component {branch.label!r} would keep its migrations in the project's "
                f"folder {own.directory}; pass Component(..., migrations='path')"
            )
    return Project(folder, (own, *branches))


def _import_sibling_models(folder: Path, app_module: str | None) -> None:
    package = app_module.rpartition(".")[0] if app_module else ""
    name = f"{package}.models" if package else "models"
    if app_module is None or name in sys.modules:
        return
    if (folder / "models.py").is_file() or (folder / "models" / "__init__.py").is_file():
        try:
            importlib.import_module(name)
        except Exception as exc:  # NOTE: the user's module may raise anything at import
            raise ConfigurationError(
                f"Importing the models module {name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc


def _resolve_module(component: Component) -> ModuleType:
    models = component.models
    if models is None:
        raise ConfigurationError(f"Component {component.name!r} declares no models")
    if not isinstance(models, str):
        return models
    try:
        return importlib.import_module(models)
    except Exception as exc:  # NOTE: the user's module may raise anything at import
        raise ConfigurationError(
            f"Component {component.name!r}: importing its models module {models!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _mapped_classes() -> Iterator[type[Model]]:
    for mapper in Model.registry.mappers:
        yield mapper.class_


def _tables_of(cls: type[Model]) -> Iterator[Table]:
    for table in cls.__mapper__.tables:
        if isinstance(table, Table):
            yield table


def _module_tables(module: ModuleType) -> Iterator[Table]:
    for value in list(vars(module).values()):
        if isinstance(value, Table) and value.metadata is Model.metadata:
            yield value


def _component_branch(component: Component) -> Branch:
    module = _resolve_module(component)
    name = module.__name__
    modules = [
        m for key, m in list(sys.modules.items()) if key == name or key.startswith(name + ".")
    ]
    models = tuple(
        cls
        for cls in _mapped_classes()
        if cls.__module__ == name or cls.__module__.startswith(name + ".")
    )
    tables = {t.key for cls in models for t in _tables_of(cls)}
    tables.update(t.key for m in modules if m is not None for t in _module_tables(m))
    file = getattr(module, "__file__", None)
    if file is None:
        raise ConfigurationError(
            f"Component {component.name!r}: its models module {name!r} has no file; "
            "pass Component(..., migrations='path')"
        )
    here = Path(file).resolve().parent
    if hasattr(module, "__path__") and name.rpartition(".")[2] == "models":
        here = here.parent  # NOTE: blog/models/__init__.py keeps its migrations in blog/
    if component.migrations is None:
        directory = here / "migrations"
    else:
        directory = (here / component.migrations).resolve()
    return Branch(component.name, directory, frozenset(tables), models, component)


def _under(file: str | None, folder: Path) -> bool:
    if not file:
        return False
    path = Path(file).resolve()
    if not path.is_relative_to(folder):
        return False
    return not any(part in ("site-packages", "dist-packages") for part in path.parts)


def _project_branch(folder: Path, claimed: set[str]) -> Branch:
    files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    models = tuple(
        cls
        for cls in _mapped_classes()
        if _under(files.get(cls.__module__), folder)
        and not any(t.key in claimed for t in _tables_of(cls))
    )
    tables = {t.key for cls in models for t in _tables_of(cls)}
    for name, file in files.items():
        if _under(file, folder):
            module = sys.modules.get(name)
            if module is not None:
                tables.update(t.key for t in _module_tables(module) if t.key not in claimed)
    return Branch(APP_LABEL, folder / "migrations", frozenset(tables), models)
