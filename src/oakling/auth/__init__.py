"""Authentication and authorization: users, groups, permissions, login, tokens.

``app.include(Auth())`` adds login, logout, password change and reset pages and
makes ``request.user`` work; ``@login_required``, ``@permission_required`` and
``@staff_required`` guard routes; ``Annotated[User, CurrentUser]`` injects the
user. Install with ``pip install 'oakling[auth]'``; ``import oakling`` never
loads this package.
"""

from __future__ import annotations

from oakling.auth.core import (
    Auth,
    auth_of,
    authenticate,
    login,
    logout,
    update_session_auth_hash,
)
from oakling.auth.guards import (
    CurrentUser,
    OptionalUser,
    login_required,
    permission_required,
    require_scope,
    staff_required,
)
from oakling.auth.models import AnonymousUser, ApiToken, Group, Permission, User, UserMixin
from oakling.auth.passwords import PasswordHasher
from oakling.auth.validators import PasswordInvalid, validate_password

__all__ = (
    "AnonymousUser",
    "ApiToken",
    "Auth",
    "CurrentUser",
    "Group",
    "OptionalUser",
    "PasswordHasher",
    "PasswordInvalid",
    "Permission",
    "User",
    "UserMixin",
    "auth_of",
    "authenticate",
    "login",
    "login_required",
    "logout",
    "permission_required",
    "require_scope",
    "staff_required",
    "update_session_auth_hash",
    "validate_password",
)
