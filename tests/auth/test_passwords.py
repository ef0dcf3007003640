from __future__ import annotations

import base64
import hashlib

import pytest

from oakling import Settings
from oakling.auth.passwords import PasswordHasher, is_usable, make_unusable
from oakling.auth.validators import (
    CommonPassword,
    MinimumLength,
    NumericPassword,
    PasswordInvalid,
    UserAttributeSimilarity,
    validate_password,
)

# Cheap parameters keep the suite fast; the algorithm is the same.
FAST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def django_pbkdf2(password: str, salt: str, iterations: int, algorithm: str = "sha256") -> str:
    """A hash exactly as Django's PBKDF2PasswordHasher writes it."""
    digest = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt.encode(), iterations)
    return f"pbkdf2_{algorithm}${iterations}${salt}${base64.b64encode(digest).decode()}"


def test_argon2id_hash_and_verify() -> None:
    hasher = PasswordHasher(**FAST)
    encoded = hasher.hash("correct horse")
    assert encoded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert encoded != hasher.hash("correct horse")  # salted
    assert hasher.verify("correct horse", encoded)
    assert not hasher.verify("correct horsE", encoded)
    assert not hasher.needs_rehash(encoded)


def test_django_pbkdf2_hashes_verify_and_are_rehashed() -> None:
    hasher = PasswordHasher(**FAST)
    encoded = django_pbkdf2("oakling-rocks", "Xk3saltsalt", 1000)
    assert hasher.verify("oakling-rocks", encoded)
    assert not hasher.verify("oakling-rock", encoded)
    matches, new_hash = hasher.check("oakling-rocks", encoded)
    assert matches
    assert new_hash is not None
    assert new_hash.startswith("$argon2id$")
    assert hasher.verify("oakling-rocks", new_hash)
    sha1 = django_pbkdf2("pw-123456", "salt", 500, "sha1")
    assert hasher.verify("pw-123456", sha1)


# Made by Django 5.2: make_password("s3cret-pass", hasher="pbkdf2_sha256" / "pbkdf2_sha1")
DJANGO_SHA256 = (
    "pbkdf2_sha256$1000000$RvboFDTJsoEFAiOG48qxCH$spyZsMUqoZePhRLlRr0P7o368zjbWdIUGLSAa7n6hb4="
)
DJANGO_SHA1 = "pbkdf2_sha1$1000000$YT28kWlGG8sQJCvHWraq3U$sj8ttmwsy6kVJQLLdAWxNIaqJJk="


@pytest.mark.parametrize("encoded", [DJANGO_SHA256, DJANGO_SHA1])
def test_hashes_made_by_django_itself(encoded: str) -> None:
    hasher = PasswordHasher(**FAST)
    assert hasher.verify("s3cret-pass", encoded)
    assert not hasher.verify("s3cret-pasS", encoded)


def test_django_argon2_format() -> None:
    hasher = PasswordHasher(**FAST)
    django_style = "argon2" + hasher.hash("pw-django-argon")  # Django stores "argon2$argon2id$..."
    assert hasher.verify("pw-django-argon", django_style)
    assert hasher.needs_rehash(django_style)


def test_changed_costs_ask_for_a_rehash() -> None:
    old = PasswordHasher(**FAST).hash("pw")
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    matches, new_hash = stronger.check("pw", old)
    assert matches
    assert new_hash is not None
    assert "m=2048,t=2" in new_hash
    assert stronger.check("pw", new_hash) == (True, None)


@pytest.mark.parametrize(
    "encoded",
    [
        None,
        "",
        "!unusable",
        "pbkdf2_sha256$x$salt$hash",
        "pbkdf2_sha256$0$s$h",
        "garbage",
        "$argon2id$broken",
        "md5$abc$def",
    ],
)
def test_unusable_or_broken_hashes_never_match(encoded: str | None) -> None:
    hasher = PasswordHasher(**FAST)
    assert not hasher.verify("anything", encoded)
    assert hasher.check("anything", encoded) == (False, None)


def test_unusable_passwords() -> None:
    encoded = make_unusable()
    assert not is_usable(encoded)
    assert is_usable("$argon2id$...")
    assert not is_usable(None)
    assert not PasswordHasher(**FAST).verify(encoded[1:], encoded)


def test_overlong_passwords_are_refused_cheaply() -> None:
    hasher = PasswordHasher(**FAST)
    with pytest.raises(ValueError, match="at most 4096"):
        hasher.hash("x" * 5000)
    assert not hasher.verify("x" * 100_000, hasher.hash("x"))


def test_settings_choose_the_costs() -> None:
    settings = Settings(password_time_cost=1, password_memory_cost=2048, password_parallelism=2)
    assert "m=2048,t=1,p=2" in PasswordHasher.from_settings(settings).hash("pw")


class User:
    username = "annlee"
    email = "ann.lee@example.com"
    first_name = "Ann"
    last_name = None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (
            "short1!",
            "This password is too short: it must contain at least 8 characters (it has 7).",
        ),
        ("password123", "This password is too common."),
        ("PASSWORD123", "This password is too common."),
        ("8329104756", "This password is entirely numeric."),
        ("annlee12", "The password is too similar to the username."),
        ("ann.lee@example", "The password is too similar to the email."),
    ],
)
def test_each_validator_explains_itself(password: str, message: str) -> None:
    with pytest.raises(PasswordInvalid) as info:
        validate_password(password, User())
    assert message in info.value.messages


def test_all_messages_at_once_and_good_passwords_pass() -> None:
    with pytest.raises(PasswordInvalid) as info:
        validate_password("1234")
    assert info.value.messages == [
        "This password is too short: it must contain at least 8 characters (it has 4).",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    validate_password("violet-tram-omelette", User())
    validate_password("violet-tram-omelette", {"username": "bob"})


def test_validators_are_configurable() -> None:
    validators = [MinimumLength(12), NumericPassword()]
    with pytest.raises(PasswordInvalid, match="at least 12"):
        validate_password("abcdefghij", validators=validators)
    validate_password("password1234", validators=validators)  # common, but not checked here
    assert "commonly used" in CommonPassword.help_text
    with pytest.raises(ValueError, match=r"at least 0\.1"):
        UserAttributeSimilarity(max_similarity=0)
