"""The auth pages: login, logout, password change, password reset, sign-up.

Templates live in ``auth/*.html`` (the component's ``templates`` folder); a project
overrides any of them, or just ``auth/base.html`` to put the pages in its layout.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from oakling.auth.forms import (
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    SignupForm,
)
from oakling.auth.guards import login_required
from oakling.auth.validators import PasswordInvalid
from oakling.db.session import Session
from oakling.http.request import Request
from oakling.http.response import RedirectResponse, Response
from oakling.ratelimit import limiter
from oakling.web.csrf import protect

if TYPE_CHECKING:
    from oakling.auth.core import Auth

__all__ = ("add_views", "safe_next")

logger = logging.getLogger("oakling.auth")


def safe_next(request: Request, target: str | None, default: str) -> str:
    """``target`` when it stays on this site (a path, or a URL of this host), else ``default``.

    Refuses other hosts, scheme-relative ``//evil.example``, backslashes and control
    characters: a ``next=`` parameter is never an open redirect.
    """
    if not target or len(target) > 2048 or "\\" in target:
        return default
    if any(ord(c) < 33 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        same_site = parts.scheme in ("http", "https") and parts.netloc == request.host
        return target if same_site else default
    if not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from oakling.web.templating import render

    response = render(request, template, **context)
    response.status_code = status
    return response


def _flash(request: Request, message: str) -> None:
    from oakling.web.messages import flash

    flash(request, message, "success")


def add_views(auth: Auth) -> None:  # noqa: C901 - one closure per page
    """Register the auth pages on ``auth``."""

    @auth.route("/login", methods=["GET", "POST"])
    @protect  # NOTE: checked without a session cookie too: no forged logins
    def login(request: Request, form: LoginForm, db: Session) -> Response:
        next_url = request.query_params.get("next") or ""
        if request.method == "POST" and form.is_valid():
            rates = limiter(request.app)
            client = request.client[0] if request.client else "unknown"
            account = str(form.data["login"]).strip().lower()
            rates.check(f"auth.login.ip:{client}", auth.login_rate, what="login attempts")
            rates.check(f"auth.login.account:{account}", auth.login_rate, what="login attempts")
            user = auth.authenticate(db, form.data["login"], form.data["password"])
            if user is not None:
                auth.login(request, user, remember=bool(form.data.get("remember")))
                return RedirectResponse(safe_next(request, next_url, auth.login_redirect), 303)
            form.add_error(None, "Enter a correct username or e-mail and password.")
            logger.info("Failed login for %r from %s", account[:60], client)
        status = 422 if form.is_bound else 200
        return _page(
            request, "auth/login.html", status, form=form, next=next_url, signup=auth.signup_enabled
        )

    @auth.route("/logout", methods=["GET", "POST"])
    def logout(request: Request) -> Response:
        if request.method == "POST":
            auth.logout(request)
            return RedirectResponse(auth.login_redirect, 303)
        return _page(request, "auth/logout.html")

    @auth.route("/password/change", methods=["GET", "POST"])
    @login_required
    def password_change(request: Request, form: PasswordChangeForm, db: Session) -> Response:
        if request.method == "POST" and form.is_valid():
            user = db.merge(request.user)
            if not auth.check_password(user, form.data["old_password"]):
                form.add_error("old_password", "Your current password is not correct.")
            elif _set_password(auth, form, user):
                from oakling.auth.core import update_session_auth_hash

                update_session_auth_hash(request, user)
                _flash(request, "Your password was changed.")
                return RedirectResponse(auth.login_redirect, 303)
        status = 422 if form.is_bound else 200
        return _page(request, "auth/password_change.html", status, form=form)

    @auth.route("/password/reset", methods=["GET", "POST"])
    @protect
    def password_reset(request: Request, form: PasswordResetForm, db: Session) -> Response:
        if request.method == "POST" and form.is_valid():
            address = str(form.data["email"]).lower()
            client = request.client[0] if request.client else "unknown"
            rates = limiter(request.app)
            rates.check(f"auth.reset.ip:{client}", auth.reset_rate, what="reset requests")
            rates.check(f"auth.reset.address:{address}", auth.reset_rate, what="reset requests")
            user = auth.find_user(db, address)
            if user is not None and user.is_active and user.email:
                _send_reset(auth, request, user)
            # NOTE: the same answer whether or not the address has an account.
            return _page(request, "auth/password_reset_sent.html")
        status = 422 if form.is_bound else 200
        return _page(request, "auth/password_reset.html", status, form=form)

    @auth.route("/password/reset/{token}", methods=["GET", "POST"], name="reset_confirm")
    def reset_confirm(request: Request, token: str, form: SetPasswordForm, db: Session) -> Response:
        tokens = auth.reset_tokens()
        user_id = tokens.user_id(token)
        user = db.get(auth.user_model, user_id) if user_id is not None else None
        if user is None or not user.is_active or not tokens.check(user, token):
            return _page(request, "auth/password_reset_invalid.html", 400)
        if request.method == "POST" and form.is_valid() and _set_password(auth, form, user):
            _flash(request, "Your password was set. You can log in now.")
            return RedirectResponse(request.app.url_for(f"{auth.name}.login"), 303)
        status = 422 if form.is_bound else 200
        return _page(request, "auth/password_reset_confirm.html", status, form=form)

    @auth.route("/signup", methods=["GET", "POST"])
    @protect
    def signup(request: Request, form: SignupForm, db: Session) -> Response:
        if not auth.signup_enabled:
            from oakling.exceptions import NotFound

            raise NotFound("Sign-up is not open on this site")
        if request.method == "POST" and form.is_valid():
            data = form.data
            model = auth.user_model
            if auth.find_user(db, data["username"]) is not None:
                form.add_error("username", "This username is taken.")
            if auth.find_user(db, data["email"]) is not None:
                form.add_error("email", "An account with this address exists; log in instead.")
            if not form.errors:
                user = model(username=data["username"], email=data["email"])
                if _set_password(auth, form, user):
                    db.add(user)
                    db.flush()
                    auth.login(request, user)
                    return RedirectResponse(auth.login_redirect, 303)
        status = 422 if form.is_bound else 200
        return _page(request, "auth/signup.html", status, form=form)


def _set_password(auth: Auth, form: Any, user: Any) -> bool:
    try:
        auth.set_password(user, form.data["new_password"])
    except PasswordInvalid as exc:
        for message in exc.messages:
            form.add_error("new_password", message)
        return False
    return True


def _send_reset(auth: Auth, request: Request, user: Any) -> None:
    from oakling.mail import MailError, mailer

    token = auth.reset_tokens().make(user)
    link = request.url_for(f"{auth.name}.reset_confirm", token=token)
    hours = auth.reset_max_age // 3600
    body = (
        f"Hello {user.display_name},\n\n"
        f"Someone (we hope you) asked to reset the password of your account at "
        f"{request.host}. Choose a new password here:\n\n{link}\n\n"
        f"The link works once, for {hours} hours. If you did not ask, ignore this message: "
        "your password stays as it is.\n"
    )
    try:
        mailer(request.app).send("Reset your password", body, to=user.email)
    except MailError:
        logger.exception("Could not send the password-reset e-mail to user %s", user.id)
