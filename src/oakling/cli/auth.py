"""``oakling createsuperuser`` and ``oakling changepassword``: accounts from the shell."""

from __future__ import annotations

import asyncio
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from oakling.cli._context import CLIError, ScriptInfo, app_option, pass_info
from oakling.exceptions import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from oakling.auth.core import Auth

__all__ = ("changepassword", "createsuperuser")

PASSWORD_VARIABLE = "OAKLING_SUPERUSER_PASSWORD"


def _auth(info: ScriptInfo) -> Auth:
    app = info.load_app()
    try:
        from oakling.auth.core import auth_of

        return auth_of(app)
    except (ConfigurationError, ImportError) as exc:
        raise CLIError(f"{exc}. Include it: app.include(Auth()) (from oakling.auth)") from None


def _ask_password(auth: Auth, user: Any, *, validate: bool) -> None:
    from oakling.auth.validators import PasswordInvalid

    for _ in range(3):
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Password (again)")
        try:
            auth.set_password(user, password, validate=validate)
            return
        except PasswordInvalid as exc:
            for message in exc.messages:
                click.echo(f"  {message}", err=True)
    raise CLIError("Three refused passwords; nothing was saved")


@contextmanager
def _closing(auth: Auth) -> Iterator[None]:
    """Close the app's database connections when the command ends."""
    try:
        yield
    finally:
        from oakling.db.engine import databases

        asyncio.run(databases(auth.app).dispose())


def _database_errors() -> tuple[type[BaseException], ...]:
    from sqlalchemy.exc import SQLAlchemyError

    return (SQLAlchemyError,)


@click.command()
@app_option
@click.option("--username", help="The login name.")
@click.option("--email", help="The e-mail address.")
@click.option(
    "--no-input",
    is_flag=True,
    help=f"Ask nothing: take the password from ${PASSWORD_VARIABLE}.",
)
@click.option("--skip-validation", is_flag=True, help="Accept a password the validators refuse.")
@pass_info
def createsuperuser(
    info: ScriptInfo,
    username: str | None,
    email: str | None,
    no_input: bool,
    skip_validation: bool,
) -> None:
    """Create a user with every permission (staff and superuser).

    Also creates the default permissions (add/change/delete/view) of every model.
    """
    auth = _auth(info)
    from oakling.auth.permissions import sync_permissions
    from oakling.db.session import session

    if not no_input:
        username = username or click.prompt("Username")
        email = email if email is not None else click.prompt("E-mail", default="")
    if not username and not email:
        raise CLIError("Give --username or --email (a user needs a login)")
    user = auth.user_model(
        username=username or None, email=email or None, is_staff=True, is_superuser=True
    )
    if no_input:
        password = os.environ.get(PASSWORD_VARIABLE)
        if not password:
            raise CLIError(f"--no-input needs the password in ${PASSWORD_VARIABLE}")
        _set(auth, user, password, validate=not skip_validation)
    else:
        _ask_password(auth, user, validate=not skip_validation)
    try:
        with _closing(auth), session(auth.app) as db:
            for login in filter(None, (username, email)):
                if auth.find_user(db, login) is not None:
                    raise CLIError(f"A user {login!r} already exists; nothing was saved")
            db.add(user)
            created = sync_permissions(db, auth.app)
    except _database_errors() as exc:
        raise CLIError(f"Could not save the user: {str(exc).splitlines()[0]}") from None
    click.echo(f"Superuser {username or email!r} created.")
    if created:
        click.echo(f"{len(created)} permission(s) created.")


def _set(auth: Auth, user: Any, password: str, *, validate: bool) -> None:
    from oakling.auth.validators import PasswordInvalid

    try:
        auth.set_password(user, password, validate=validate)
    except PasswordInvalid as exc:
        raise CLIError("The password was refused: " + " ".join(exc.messages)) from None


@click.command()
@app_option
@click.argument("login")
@click.option("--skip-validation", is_flag=True, help="Accept a password the validators refuse.")
@pass_info
def changepassword(info: ScriptInfo, login: str, skip_validation: bool) -> None:
    """Set a new password for the user with this username or e-mail."""
    auth = _auth(info)
    from oakling.db.session import session

    try:
        with _closing(auth), session(auth.app) as db:
            user = auth.find_user(db, login)
            if user is None:
                raise CLIError(f"No user {login!r}")
            _ask_password(auth, user, validate=not skip_validation)
    except _database_errors() as exc:
        raise CLIError(f"Could not save the password: {str(exc).splitlines()[0]}") from None
    click.echo(f"Password of {login!r} changed; their other sessions are logged out.")
