"""The forms of the auth pages."""

from __future__ import annotations

from oakling.forms import BooleanField, EmailField, Form, PasswordField, TextField

__all__ = (
    "LoginForm",
    "PasswordChangeForm",
    "PasswordResetForm",
    "SetPasswordForm",
    "SignupForm",
)


class LoginForm(Form):
    """Username or e-mail, password, and whether to stay logged in."""

    login = TextField(label="Username or e-mail", max_length=254)
    password = PasswordField(max_length=4096)
    remember = BooleanField(label="Keep me logged in on this device")


def _new_password() -> PasswordField:
    return PasswordField(label="New password", max_length=4096)


def _new_password_again() -> PasswordField:
    return PasswordField(label="New password again", max_length=4096)


class _TwoPasswords(Form):
    def clean(self) -> None:
        """The two new passwords must match."""
        first, second = self.data.get("new_password"), self.data.get("new_password_again")
        if first and second and first != second:
            self.add_error("new_password_again", "The two passwords differ.")


class SetPasswordForm(_TwoPasswords):
    """A new password, typed twice."""

    new_password = _new_password()
    new_password_again = _new_password_again()


class PasswordChangeForm(_TwoPasswords):
    """The current password, then a new one twice."""

    old_password = PasswordField(label="Current password", max_length=4096)
    new_password = _new_password()
    new_password_again = _new_password_again()


class PasswordResetForm(Form):
    """The address to send a reset link to."""

    email = EmailField(label="E-mail address")


class SignupForm(_TwoPasswords):
    """A new account: username, e-mail and a password twice."""

    username = TextField(max_length=150, pattern=r"[\w.@+-]+")
    email = EmailField(label="E-mail address")
    new_password = _new_password()
    new_password_again = _new_password_again()
