"""Default permissions: ``add``, ``change``, ``delete`` and ``view`` for every model.

``sync_permissions(db, app)`` creates the missing ``<component>.<action>_<model>``
rows (``blog.change_post``) for the models of the project and of each component,
plus the custom ones a model declares in ``__permissions__ = {"publish_post":
"Can publish posts"}``. Rows are never deleted: a permission a group holds stays
until you remove it. ``oakling db migrate`` does not run it; ``oakling
createsuperuser`` and ``oakling auth permissions`` do, and so can your code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from oakling.auth.models import Permission

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ("ACTIONS", "default_permissions", "sync_permissions")

ACTIONS = ("add", "change", "delete", "view")


def _model_name(model: type[Any]) -> str:
    return model.__name__.lower()


def default_permissions(label: str, model: type[Any]) -> dict[tuple[str, str], str]:
    """``{(app_label, codename): name}`` of a model's default and custom permissions."""
    name = _model_name(model)
    verbose = getattr(model, "__verbose_name__", name.replace("_", " "))
    found = {(label, f"{action}_{name}"): f"Can {action} {verbose}" for action in ACTIONS}
    for codename, title in getattr(model, "__permissions__", {}).items():
        found[(label, codename)] = title
    return found


def sync_permissions(db: Session, app: Any) -> list[str]:
    """Create the missing permissions of every model of ``app``; return their keys."""
    from oakling.db.migrations.project import project

    wanted: dict[tuple[str, str], str] = {}
    for branch in project(app).branches:
        for model in branch.models:
            wanted.update(default_permissions(branch.label, model))
    existing = {(p.app_label, p.codename) for p in db.scalars(select(Permission))}
    created = []
    for (label, codename), name in sorted(wanted.items()):
        if (label, codename) not in existing:
            db.add(Permission(app_label=label, codename=codename, name=name[:255]))
            created.append(f"{label}.{codename}")
    db.flush()
    return created
