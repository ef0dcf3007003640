"""Password validators: length, common passwords, similarity to the user, all digits.

``validate_password(password, user)`` runs the validators and raises
``PasswordInvalid`` with every message at once. Each validator is an object with
``validate(password, user)`` (raising ``PasswordInvalid``) and ``help_text``; pass
your own list to ``validate_password`` or to the auth component.

The common-password list holds the 20,000 passwords Django ships (by Royce
Williams, from leaked password sets), lower-cased, loaded once on first use.
"""

from __future__ import annotations

import functools
import gzip
import re
from difflib import SequenceMatcher
from importlib import resources
from typing import Any, Protocol

from oakling.exceptions import OaklingError

__all__ = (
    "DEFAULT_VALIDATORS",
    "CommonPassword",
    "MinimumLength",
    "NumericPassword",
    "PasswordInvalid",
    "PasswordValidator",
    "UserAttributeSimilarity",
    "validate_password",
)


class PasswordInvalid(OaklingError, ValueError):
    """The password was refused; ``messages`` says why, one line per reason."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


class PasswordValidator(Protocol):
    """What a validator provides."""

    help_text: str

    def validate(self, password: str, user: Any = None) -> None:
        """Raise ``PasswordInvalid`` when ``password`` is not acceptable."""
        ...


class MinimumLength:
    """At least ``min_length`` characters (8 by default)."""

    def __init__(self, min_length: int = 8) -> None:
        self.min_length = min_length
        self.help_text = f"Your password must contain at least {min_length} characters."

    def validate(self, password: str, user: Any = None) -> None:
        """Refuse short passwords."""
        if len(password) < self.min_length:
            raise PasswordInvalid(
                [
                    f"This password is too short: it must contain at least {self.min_length} "
                    f"characters (it has {len(password)})."
                ]
            )


@functools.cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("oakling.auth").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


class CommonPassword:
    """Not one of the 20,000 most common passwords (case-insensitive)."""

    help_text = "Your password can't be a commonly used password."

    def validate(self, password: str, user: Any = None) -> None:
        """Refuse passwords from the list."""
        if password.lower().strip() in _common_passwords():
            raise PasswordInvalid(["This password is too common."])


class NumericPassword:
    """Not only digits."""

    help_text = "Your password can't be entirely numeric."

    def validate(self, password: str, user: Any = None) -> None:
        """Refuse all-digit passwords."""
        if password.isdigit():
            raise PasswordInvalid(["This password is entirely numeric."])


class UserAttributeSimilarity:
    """Not too similar to the user's username, e-mail, names (ratio ≥ ``max_similarity``)."""

    DEFAULT_ATTRIBUTES = ("username", "email", "first_name", "last_name")

    def __init__(
        self, attributes: tuple[str, ...] = DEFAULT_ATTRIBUTES, max_similarity: float = 0.7
    ) -> None:
        if max_similarity < 0.1:
            raise ValueError("max_similarity must be at least 0.1")
        self.attributes = attributes
        self.max_similarity = max_similarity
        self.help_text = "Your password can't be too similar to your other personal information."

    def validate(self, password: str, user: Any = None) -> None:
        """Refuse passwords close to an attribute of ``user`` (or a part of it)."""
        if user is None:
            return
        lowered = password.lower()
        for name in self.attributes:
            value = getattr(user, name, None) if not isinstance(user, dict) else user.get(name)
            if not value or not isinstance(value, str):
                continue
            # NOTE: compare with the whole value and with each part ("ann.lee@x.org").
            for part in {value.lower(), *re.split(r"\W+", value.lower())}:
                if len(part) < 3:
                    continue
                if SequenceMatcher(a=lowered, b=part).quick_ratio() >= self.max_similarity:
                    label = name.replace("_", " ")
                    raise PasswordInvalid([f"The password is too similar to the {label}."])


DEFAULT_VALIDATORS: tuple[PasswordValidator, ...] = (
    UserAttributeSimilarity(),
    MinimumLength(),
    CommonPassword(),
    NumericPassword(),
)


def validate_password(
    password: str,
    user: Any = None,
    validators: tuple[PasswordValidator, ...] | list[PasswordValidator] = DEFAULT_VALIDATORS,
) -> None:
    """Run every validator; raise one ``PasswordInvalid`` with all their messages.

    Raises:
        PasswordInvalid: At least one validator refused the password.
    """
    messages: list[str] = []
    for validator in validators:
        try:
            validator.validate(password, user)
        except PasswordInvalid as exc:
            messages.extend(exc.messages)
    if messages:
        raise PasswordInvalid(messages)
