"""Authorization: login, staff and permission guards, and the ``CurrentUser`` dependency.

Each decorator is a ``guard`` (put it below the route decorator). A visitor who
is not logged in gets a redirect to the login page when the request comes from a
browser (``Accept: text/html``), else a 401 with ``WWW-Authenticate: Bearer``.
A logged-in user without the permission gets a 403.

For injection, ``user: Annotated[User, CurrentUser]`` gives the logged-in user (or
refuses like ``@login_required``); ``Annotated[User | None, OptionalUser]`` gives
``None`` to anonymous visitors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from oakling.errors import wants_html
from oakling.exceptions import Forbidden, HTTPError, Unauthorized
from oakling.http.request import Request  # noqa: TC001  # read at runtime by injection
from oakling.params import Depends, guard

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = (
    "CurrentUser",
    "OptionalUser",
    "login_required",
    "permission_required",
    "require_scope",
    "staff_required",
)


class LoginRedirect(HTTPError):
    """303 to the login page, with ``next=`` set to the page asked for."""

    def __init__(self, location: str) -> None:
        super().__init__(303, "Log in to see this page", headers={"Location": location})


def _refuse_anonymous(request: Request) -> HTTPError:
    if wants_html(request.header("accept")):
        auth = request.app.extensions.get("auth")
        login_url = request.app.url_for(f"{auth.name}.login") if auth is not None else "/login"
        target = request.scope.get("raw_path") or request.scope["path"].encode()
        query = request.scope.get("query_string", b"")
        here = (target + (b"?" + query if query else b"")).decode("latin-1")
        return LoginRedirect(f"{login_url}?next={quote(here, safe='')}")
    return Unauthorized(
        "Log in first: send a session cookie or 'Authorization: Bearer <token>'",
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def _logged_in(request: Request) -> Any:
    user = request.user
    if not user.is_authenticated:
        raise _refuse_anonymous(request)
    return user


def current_user(request: Request) -> Any:
    """The logged-in user; refuses anonymous visitors (redirect or 401)."""
    return _logged_in(request)


def optional_user(request: Request) -> Any:
    """The logged-in user, or ``None``."""
    user = request.user
    return user if user.is_authenticated else None


CurrentUser = Depends(current_user)
"""``user: Annotated[User, CurrentUser]``: the logged-in user, or a refusal."""

OptionalUser = Depends(optional_user)
"""``user: Annotated[User | None, OptionalUser]``: the logged-in user or ``None``."""


def login_required(handler: Any) -> Any:
    """Refuse anonymous visitors: redirect browsers to the login page, 401 for APIs."""
    return guard(_logged_in)(handler)


def staff_required(handler: Any) -> Any:
    """Only active staff (``is_staff``) may pass; others get a 403 (or log in first)."""

    def check_staff(request: Request) -> None:
        if not _logged_in(request).is_staff:
            raise Forbidden("This page is for staff only")

    return guard(check_staff)(handler)


def permission_required(
    *perms: str, obj: Callable[[Request], Any] | None = None
) -> Callable[[Any], Any]:
    """Only users with every permission of ``perms`` (``"blog.change_post"``) may pass.

    ``obj(request)`` may return the object at stake, whose ``has_object_perm(user,
    perm)`` is then asked too (object-level permissions).
    """
    if not perms:
        raise ValueError("permission_required needs at least one permission")

    def check_perms(request: Request) -> None:
        user = _logged_in(request)
        target = obj(request) if obj is not None else None
        missing = [p for p in perms if not user.has_perm(p, target)]
        if missing:
            raise Forbidden(f"You need the permission {', '.join(missing)} for this")

    def decorator(handler: Any) -> Any:
        return guard(check_perms)(handler)

    return decorator


def require_scope(scope: str) -> Callable[[Any], Any]:
    """Requests authenticated by an API token must carry ``scope`` (sessions pass)."""

    def check_scope(request: Request) -> None:
        _logged_in(request)
        scopes = request.scope.get("oakling.auth.token")
        if scopes is not None and scopes and scope not in scopes:
            raise Forbidden(f"This token lacks the {scope!r} scope")

    def decorator(handler: Any) -> Any:
        return guard(check_scope)(handler)

    return decorator
