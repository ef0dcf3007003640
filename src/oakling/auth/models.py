"""The auth component's models: users, groups, permissions and API tokens.

Tables are prefixed ``auth_``. ``User`` is built from ``UserMixin`` (columns and
behaviour); a project that needs other columns subclasses ``UserMixin`` in its own
model and gives it to the auth component (``Auth(user_model=Member)``).
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003  # SQLAlchemy reads Mapped[...] at runtime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from oakling.db.models import IntegerPK, Model, utcnow

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = (
    "AnonymousUser",
    "ApiToken",
    "Group",
    "Permission",
    "User",
    "UserMixin",
    "group_permissions",
    "user_groups",
    "user_permissions",
)

user_groups = Table(
    "auth_user_groups",
    Model.metadata,
    Column("user_id", Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
)
user_permissions = Table(
    "auth_user_permissions",
    Model.metadata,
    Column("user_id", Integer, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_id",
        Integer,
        ForeignKey("auth_permission.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
group_permissions = Table(
    "auth_group_permissions",
    Model.metadata,
    Column("group_id", Integer, ForeignKey("auth_group.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "permission_id",
        Integer,
        ForeignKey("auth_permission.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class Permission(IntegerPK, Model):
    """A right to do something: ``"<component>.<codename>"``, e.g. ``"blog.change_post"``."""

    __tablename__ = "auth_permission"
    __table_args__ = (UniqueConstraint("app_label", "codename"),)

    app_label: Mapped[str] = mapped_column(String(100))
    codename: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(255))

    @property
    def key(self) -> str:
        """``"app_label.codename"``, the form ``has_perm`` takes."""
        return f"{self.app_label}.{self.codename}"

    def __repr__(self) -> str:
        return f"<Permission {self.key}>"


class Group(IntegerPK, Model):
    """A named set of permissions given to its users."""

    __tablename__ = "auth_group"

    name: Mapped[str] = mapped_column(String(150), unique=True)
    permissions: Mapped[list[Permission]] = relationship(
        secondary=group_permissions, lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Group {self.name!r}>"


class UserMixin:
    """The columns and behaviour of a user; mix into your own model to swap ``User``."""

    username: Mapped[str | None] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password: Mapped[str] = mapped_column(String(255), default="")
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login: Mapped[dt.datetime | None] = mapped_column(default=None)
    date_joined: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @declared_attr
    def groups(cls) -> Mapped[list[Group]]:  # noqa: N805 - SQLAlchemy passes the class
        """The user's groups (loaded with the user)."""
        return relationship(Group, secondary=user_groups, lazy="selectin")

    @declared_attr
    def user_permissions(cls) -> Mapped[list[Permission]]:  # noqa: N805
        """Permissions given to the user directly (loaded with the user)."""
        return relationship(Permission, secondary=user_permissions, lazy="selectin")

    is_authenticated = True
    is_anonymous = False

    @property
    def display_name(self) -> str:
        """The full name, else the username, else the e-mail address."""
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.username or self.email or ""

    def permission_keys(self) -> frozenset[str]:
        """Every ``"app.codename"`` the user holds, directly or through a group."""
        keys = {p.key for p in self.user_permissions}
        for group in self.groups:
            keys.update(p.key for p in group.permissions)
        return frozenset(keys)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Whether the user may ``perm`` (``"blog.change_post"``).

        Active superusers may do anything. With ``obj``, the object's own
        ``has_object_perm(user, perm)`` hook decides too (object-level permissions).
        """
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        if perm not in self.permission_keys():
            return False
        check = getattr(obj, "has_object_perm", None)
        return bool(check(self, perm)) if check is not None else True

    def has_perms(self, perms: Iterable[str], obj: Any = None) -> bool:
        """Whether the user has every permission of ``perms``."""
        return all(self.has_perm(p, obj) for p in perms)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.username or self.email!r}>"


class User(IntegerPK, UserMixin, Model):
    """The default user: login by username or e-mail address."""

    __tablename__ = "auth_user"


class ApiToken(IntegerPK, Model):
    """A personal access token: stored hashed, shown once, scoped, expiring, revocable."""

    __tablename__ = "auth_api_token"

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    """The public first part of the token, to find the row without scanning."""
    digest: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the secret part, hex."""
    scopes: Mapped[str] = mapped_column(String(500), default="")
    """Space-separated scopes; empty means every scope."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    def allows(self, scope: str) -> bool:
        """Whether the token carries ``scope`` (an empty scope list carries all)."""
        scopes = self.scopes.split()
        return not scopes or scope in scopes


class AnonymousUser:
    """``request.user`` when nobody is logged in: no permissions, never staff."""

    id = None
    username = None
    email = None
    is_active = False
    is_staff = False
    is_superuser = False
    is_authenticated = False
    is_anonymous = True
    display_name = ""

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        """Always ``False``."""
        return False

    def has_perms(self, perms: Iterable[str], obj: Any = None) -> bool:
        """Always ``False``."""
        return False

    def permission_keys(self) -> frozenset[str]:
        """No permissions."""
        return frozenset()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<AnonymousUser>"
