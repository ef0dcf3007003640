"""The auth component: who the user is, logging in and out.

``app.include(Auth())`` adds the login, logout, password and (optionally) sign-up
pages under ``/auth`` and makes ``request.user`` work: the user whose id the
session holds, or the owner of an ``Authorization: Bearer oak_...`` API token, or
an ``AnonymousUser``. The user is loaded on first use, once per request.

The session stores the user's id and a keyed hash of their password hash, so
changing the password logs out every other session of that user.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from oakling.auth.models import AnonymousUser, User
from oakling.auth.passwords import PasswordHasher
from oakling.auth.tokens import PasswordResetTokens, authenticate_token
from oakling.auth.validators import DEFAULT_VALIDATORS, PasswordValidator, validate_password
from oakling.component import Component
from oakling.db.engine import databases
from oakling.db.models import utcnow
from oakling.db.session import new_session
from oakling.signing import Signer

if TYPE_CHECKING:
    from oakling.app import App
    from oakling.db.session import Session
    from oakling.http.request import Request

__all__ = ("Auth", "auth_of", "authenticate", "login", "logout", "update_session_auth_hash")

logger = logging.getLogger("oakling.auth")

SESSION_USER = "_auth_user_id"
SESSION_HASH = "_auth_user_hash"
TOKEN_SCOPE = "oakling.auth.token"


class Auth(Component):
    """Users, login and permissions for an app: ``app.include(Auth())``.

    Args:
        user_model: The user class: ``User``, or your model built on ``UserMixin``.
        prefix: Where the pages live (``/auth/login``...).
        signup: Offer a sign-up page (off by default).
        validators: Password validators for new passwords.
        login_rate: Login attempts allowed per client IP and, separately, per account.
        reset_rate: Password-reset e-mails allowed per IP and per address.
        reset_max_age: Seconds a password-reset link stays valid.
        login_redirect: Where to go after login when no safe ``next=`` is given.
        name: The component's name (route namespace).
    """

    def __init__(
        self,
        *,
        user_model: type[Any] = User,
        prefix: str = "/auth",
        signup: bool = False,
        validators: tuple[PasswordValidator, ...] = DEFAULT_VALIDATORS,
        login_rate: str = "5/minute",
        reset_rate: str = "3/hour",
        reset_max_age: int = 3 * 86400,
        login_redirect: str = "/",
        name: str = "auth",
    ) -> None:
        super().__init__(name, prefix=prefix, models="oakling.auth.models", templates="templates")
        self.user_model = user_model
        self.signup_enabled = signup
        self.validators = validators
        self.login_rate = login_rate
        self.reset_rate = reset_rate
        self.reset_max_age = reset_max_age
        self.login_redirect = login_redirect
        self._app: App | None = None
        self._hasher: PasswordHasher | None = None
        self._signer: Signer | None = None
        from oakling.auth.views import add_views

        add_views(self)

    # -- set-up --------------------------------------------------------------------------

    def attached(self, app: App) -> None:
        """Register as the app's auth (``request.user``, ``login()``...)."""
        if app.extensions.get("auth") not in (None, self):
            from oakling.exceptions import ConfigurationError

            raise ConfigurationError(
                f"{app!r} already includes an auth component; include one only"
            )
        app.extensions["auth"] = self
        self._app = app

    @property
    def app(self) -> App:
        """The app this component is included in."""
        if self._app is None:
            from oakling.exceptions import ConfigurationError

            raise ConfigurationError("Include the auth component in an app: app.include(auth)")
        return self._app

    @property
    def hasher(self) -> PasswordHasher:
        """The password hasher, with the app's cost settings."""
        if self._hasher is None:
            self._hasher = PasswordHasher.from_settings(self.app.settings)
        return self._hasher

    def reset_tokens(self) -> PasswordResetTokens:
        """Password-reset tokens signed with the app's secret key."""
        settings = self.app.settings
        return PasswordResetTokens(
            _secret(self.app), fallbacks=settings.secret_key_fallbacks, max_age=self.reset_max_age
        )

    def _session_signer(self) -> Signer:
        # NOTE: made once (key derivation is a hash per key): it signs on every request.
        if self._signer is None:
            settings = self.app.settings
            self._signer = Signer(
                _secret(self.app),
                salt="oakling.auth.session",
                fallbacks=settings.secret_key_fallbacks,
            )
        return self._signer

    # -- passwords -----------------------------------------------------------------------

    def set_password(self, user: Any, password: str, *, validate: bool = True) -> None:
        """Hash and set ``user``'s password (checked by the validators unless told not to).

        Raises:
            PasswordInvalid: A validator refused the password.
        """
        if validate:
            validate_password(password, user, self.validators)
        user.password = self.hasher.hash(password)

    def check_password(self, user: Any, password: str) -> bool:
        """Whether ``password`` is ``user``'s; upgrades an outdated hash in place."""
        matches, new_hash = self.hasher.check(password, user.password)
        if matches and new_hash is not None:
            user.password = new_hash
        return matches

    # -- finding users -------------------------------------------------------------------

    def find_user(self, db: Session, login: str) -> Any:
        """The user whose username or e-mail (any case) is ``login``, or ``None``."""
        model = self.user_model
        login = login.strip()
        if not login or len(login) > 254:
            return None
        statement = select(model).where(
            or_(model.username == login, func.lower(model.email) == login.lower())
        )
        return db.scalars(statement.limit(1)).first()

    def authenticate(self, db: Session, login: str, password: str) -> Any:
        """The active user with this login and password, or ``None``.

        An unknown login costs the same time as a wrong password.
        """
        user = self.find_user(db, login)
        if user is None:
            self.hasher.dummy_verify(password)
            return None
        if not self.check_password(user, password) or not user.is_active:
            return None
        return user

    # -- the session -------------------------------------------------------------------------

    def session_hash(self, user: Any) -> str:
        """A keyed hash of the user's password hash, kept in the session."""
        return self._session_signer().signature(f"{user.id}:{user.password}")

    def login(self, request: Request, user: Any, *, remember: bool = True) -> None:
        """Log ``user`` in: new session id and CSRF secret (no fixation), id and hash stored.

        With ``remember=False`` the session cookie ends with the browser session.
        """
        session = request.session
        session.cycle_key()
        from oakling.web.csrf import rotate_token

        rotate_token(request)
        session[SESSION_USER] = user.id
        session[SESSION_HASH] = self.session_hash(user)
        session.permanent = remember  # NOTE: not remembered: the cookie ends with the browser
        user.last_login = utcnow()
        request.user = user

    def logout(self, request: Request) -> None:
        """Forget the user: the session is emptied and gets a new id."""
        request.session.flush()
        request.user = AnonymousUser()

    def user_for(self, request: Request) -> Any:
        """The user of ``request`` (token, then session), or an ``AnonymousUser``."""
        authorization = request.header("authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            return self._token_user(request, authorization[7:].strip())
        if not request.app.sessions.sent_cookie(request):
            return AnonymousUser()
        session = request.session
        user_id = session.get(SESSION_USER)
        if user_id is None:
            return AnonymousUser()
        with self._db() as db:
            user = db.get(self.user_model, user_id)
            if user is not None:
                db.expunge(user)
        if user is None or not user.is_active:
            session.flush()
            return AnonymousUser()
        if session.get(SESSION_HASH) != self.session_hash(user):
            # NOTE: the password changed since this session logged in: log it out.
            session.flush()
            return AnonymousUser()
        return user

    def _token_user(self, request: Request, token: str) -> Any:
        with self._db() as db:
            found = authenticate_token(db, token)
            user = db.get(self.user_model, found.user_id) if found is not None else None
            if found is not None:
                request.scope[TOKEN_SCOPE] = found.scopes.split()
                db.commit()  # last_used_at
            if user is not None:
                db.expunge(user)
        if user is None or not user.is_active:
            request.scope.pop(TOKEN_SCOPE, None)
            return AnonymousUser()
        return user

    def _db(self) -> Session:
        return new_session(databases(self.app))


def _secret(app: App) -> str:
    key: str | None = app.settings.secret_key
    # NOTE: without a key (only in debug or tests: app.check() refuses to serve without
    # one), a per-process key keeps logins working until the process ends, as sessions do.
    return key or _DEBUG_KEY


_DEBUG_KEY = secrets.token_urlsafe(40)


def auth_of(app: App) -> Auth:
    """The auth component included in ``app``.

    Raises:
        ConfigurationError: None is included.
    """
    auth: Auth | None = app.extensions.get("auth")
    if auth is None:
        from oakling.exceptions import ConfigurationError

        raise ConfigurationError("No auth component: app.include(Auth()) (from oakling.auth)")
    return auth


def login(request: Request, user: Any, *, remember: bool = True) -> None:
    """Log ``user`` in for this and later requests (see ``Auth.login``)."""
    auth_of(request.app).login(request, user, remember=remember)


def logout(request: Request) -> None:
    """Log the user out (see ``Auth.logout``)."""
    auth_of(request.app).logout(request)


def authenticate(request: Request, db: Session, login: str, password: str) -> Any:
    """The active user with this login and password, or ``None`` (see ``Auth.authenticate``)."""
    return auth_of(request.app).authenticate(db, login, password)


def update_session_auth_hash(request: Request, user: Any) -> None:
    """Keep this session logged in after ``user`` changed their password (others end)."""
    request.session[SESSION_HASH] = auth_of(request.app).session_hash(user)
