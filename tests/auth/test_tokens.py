from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from oakling.auth.models import ApiToken, User
from oakling.auth.tokens import PasswordResetTokens, authenticate_token, new_token
from oakling.db import Model
from oakling.db.models import utcnow


@pytest.fixture
def db() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Model.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@pytest.fixture
def user(db: Session) -> User:
    found = User(username="ann", email="ann@example.com", password="$argon2id$hash-1")
    db.add(found)
    db.commit()
    return found


def test_a_token_is_shown_once_and_stored_hashed(db: Session, user: User) -> None:
    token, plain = new_token(user.id, "laptop", scopes=["read", "write"])
    db.add(token)
    db.commit()
    assert plain.startswith("oak_")
    assert plain.split("_", 2)[2] not in (token.digest, token.lookup)  # secret not stored
    found = authenticate_token(db, plain)
    assert found is not None
    assert found.id == token.id
    assert found.allows("read")
    assert not found.allows("admin")
    assert found.last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # wrong secret
        lambda p: "oak_" + "0" * 12 + "_" + p.split("_", 2)[2],  # unknown lookup
        lambda p: p.replace("oak_", "tok_"),
        lambda p: "oak_short_x",
        lambda p: "",
        lambda p: p + "x" * 200,
    ],
)
def test_wrong_tokens_are_refused(db: Session, user: User, mangle: object) -> None:
    token, plain = new_token(user.id, "ci")
    db.add(token)
    db.commit()
    assert authenticate_token(db, mangle(plain)) is None  # type: ignore[operator]


def test_expired_and_revoked_tokens_are_refused(db: Session, user: User) -> None:
    expired, expired_plain = new_token(user.id, "old", expires_in=dt.timedelta(seconds=-1))
    revoked, revoked_plain = new_token(user.id, "stolen")
    revoked.revoked_at = utcnow()
    live, live_plain = new_token(user.id, "live", expires_in=dt.timedelta(days=30))
    db.add_all([expired, revoked, live])
    db.commit()
    db.expunge_all()  # read back from the database (naive datetimes on SQLite)
    assert authenticate_token(db, expired_plain) is None
    assert authenticate_token(db, revoked_plain) is None
    assert isinstance(authenticate_token(db, live_plain), ApiToken)


def test_password_reset_tokens_are_single_use_and_expire(user: User) -> None:
    tokens = PasswordResetTokens("k" * 50, max_age=3600)
    now = 1_800_000_000.0
    token = tokens.make(user, now=now)
    assert PasswordResetTokens.user_id(token) == user.id
    assert tokens.check(user, token, now=now + 10)
    assert not tokens.check(user, token, now=now + 3601)  # expired
    assert not tokens.check(user, token[:-2] + "xx", now=now + 10)  # tampered
    other = User(id=user.id + 1, username="bob", password="x")
    assert not tokens.check(other, token, now=now + 10)  # another user
    assert not PasswordResetTokens("other" * 10).check(user, token, now=now + 10)
    user.password = "$argon2id$hash-2"  # the password was reset with it
    assert not tokens.check(user, token, now=now + 20)  # so it is used up


def test_login_invalidates_reset_tokens(user: User) -> None:
    tokens = PasswordResetTokens("k" * 50)
    token = tokens.make(user)
    user.last_login = utcnow()
    assert not tokens.check(user, token)


@pytest.mark.parametrize(
    "token", ["", "abc", "1-zz-sig", "1-10", "x-1-y", "99999999999999999999-1-a"]
)
def test_garbage_reset_tokens(user: User, token: str) -> None:
    assert not PasswordResetTokens("k" * 50).check(user, token)
