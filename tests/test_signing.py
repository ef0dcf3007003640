from __future__ import annotations

import pytest

from oakling.signing import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    b64encode,
    dumps,
    loads,
)

KEY = "k" * 50


def test_sign_and_unsign() -> None:
    signer = Signer(KEY, salt="test")
    signed = signer.sign("user:42")
    assert signed.startswith("user:42.")
    assert signer.unsign(signed) == "user:42"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.replace("42", "43"),
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s.rpartition(".")[0],
        lambda s: "no signature here",
        lambda s: s + "x",
    ],
)
def test_tampered_values_are_refused(tamper: object) -> None:
    signer = Signer(KEY, salt="test")
    with pytest.raises(BadSignature):
        signer.unsign(tamper(signer.sign("user:42")))  # type: ignore[operator]


def test_salts_and_keys_separate_uses() -> None:
    signed = Signer(KEY, salt="password-reset").sign("42")
    with pytest.raises(BadSignature):
        Signer(KEY, salt="session").unsign(signed)
    with pytest.raises(BadSignature):
        Signer("another key" * 5, salt="password-reset").unsign(signed)


def test_rotation_accepts_fallback_keys() -> None:
    old = Signer("old key" * 8, salt="s").sign("data")
    rotated = Signer("new key" * 8, salt="s", fallbacks=["old key" * 8])
    assert rotated.unsign(old) == "data"
    assert rotated.sign("data") != old  # new signatures use the new key
    with pytest.raises(BadSignature):
        Signer("new key" * 8, salt="s").unsign(old)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a secret key"):
        Signer("")


def test_timestamps_expire() -> None:
    signer = TimestampSigner(KEY)
    signed = signer.sign("token", now=1_000_000)
    assert signer.unsign(signed, max_age=60, now=1_000_059) == "token"
    assert signer.timestamp(signed) == 1_000_000
    with pytest.raises(SignatureExpired, match="61 seconds old"):
        signer.unsign(signed, max_age=60, now=1_000_061)
    forged = Signer(KEY).sign("token.zz")  # a good signature over a bad timestamp
    with pytest.raises(BadSignature, match="timestamp"):
        signer.unsign(forged)


def test_dumps_and_loads_round_trip() -> None:
    data = {"user": 42, "roles": ["admin"], "text": "é" * 200}
    signed = dumps(data, KEY, salt="s")
    assert "=" not in signed
    assert "/" not in signed
    assert loads(signed, KEY, salt="s", max_age=10) == data
    small = dumps({"a": 1}, KEY)
    assert loads(small, KEY) == {"a": 1}
    with pytest.raises(BadSignature):
        loads(signed, KEY, salt="other")


def test_loads_refuses_bombs_and_garbage() -> None:
    from oakling.signing import TimestampSigner as Stamp

    bomb = b64encode(__import__("zlib").compress(b"[" + b"0," * 2_000_000 + b"0]"))
    signed_bomb = Stamp(KEY).sign("." + bomb)
    with pytest.raises(BadSignature, match="too large"):
        loads(signed_bomb, KEY)
    not_json = Stamp(KEY).sign(b64encode(b"{nope"))
    with pytest.raises(BadSignature, match="not valid JSON"):
        loads(not_json, KEY)
    with pytest.raises(BadSignature):
        loads("", KEY)
