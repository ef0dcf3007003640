"""Check an app's answers to the six tests before it is timed (TechEmpower's rules)."""

from __future__ import annotations

import html
import http.client
import json
import re
from typing import Any

import psycopg
from database import fortune_rows
from tfb import ADDITIONAL_FORTUNE, DSN, ROWS

QUERY_CASES = [("", 1), ("?queries=", 1), ("?queries=0", 1), ("?queries=1", 1),
               ("?queries=7", 7), ("?queries=501", 500), ("?queries=foo", 1),
               ("?queries=-3", 1)]  # fmt: skip
_ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>")
_HEAD = (
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
)


class Mismatch(AssertionError):
    """An answer that breaks the rules."""


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path``: status, headers (lower-case names), body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, body
    finally:
        conn.close()


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def _fetch(port: int, path: str, content_type: str) -> tuple[dict[str, str], bytes]:
    status, headers, body = get(port, path)
    _expect(status == 200, f"{path}: status {status}, body {body[:200]!r}")
    got = headers.get("content-type", "")
    _expect(
        got.replace(" ", "").lower().startswith(content_type.replace(" ", "")),
        f"{path}: content-type {got!r}, expected {content_type!r}",
    )
    _expect("server" in headers, f"{path}: no Server header")
    _expect("date" in headers, f"{path}: no Date header")
    return headers, body


def _world(path: str, item: Any, current: dict[int, int]) -> None:
    _expect(
        isinstance(item, dict) and set(item) == {"id", "randomNumber"},
        f"{path}: a world must be {{id, randomNumber}}, got {item!r}",
    )
    ident, number = item["id"], item["randomNumber"]
    _expect(
        type(ident) is int and type(number) is int and 1 <= ident <= ROWS,
        f"{path}: bad world {item!r}",
    )
    held = current.get(ident)
    _expect(held == number, f"{path}: {item!r} but the row holds {held}")


_dsn = DSN


def _table() -> dict[int, int]:
    with psycopg.connect(_dsn, autocommit=True) as conn:
        return dict(conn.execute("SELECT id, randomnumber FROM world").fetchall())


def check_json(port: int) -> None:
    _, body = _fetch(port, "/json", "application/json")
    _expect(json.loads(body) == {"message": "Hello, World!"}, f"/json: {body[:200]!r}")


def check_plaintext(port: int) -> None:
    _, body = _fetch(port, "/plaintext", "text/plain")
    _expect(body == b"Hello, World!", f"/plaintext: {body[:200]!r}")


def check_db(port: int) -> None:
    _, body = _fetch(port, "/db", "application/json")
    _world("/db", json.loads(body), _table())


def check_queries(port: int, test: str = "/queries") -> None:
    for query, count in QUERY_CASES:
        path = test + query
        _, body = _fetch(port, path, "application/json")
        data = json.loads(body)
        _expect(isinstance(data, list) and len(data) == count,
                f"{path}: expected a list of {count}, got {body[:200]!r}")  # fmt: skip
        table = _table()  # after the request: /updates has written its rows
        for item in data:
            _world(path, item, table)


def check_updates(port: int) -> None:
    before = _table()
    check_queries(port, "/updates")
    _, body = _fetch(port, "/updates?queries=20", "application/json")
    after = _table()
    data = json.loads(body)
    changed = sum(before[w["id"]] != after[w["id"]] for w in data)
    # NOTE: a new random number equals the old one once in 10,000: allow a couple.
    _expect(changed >= len(data) - 2, f"/updates: only {changed} of {len(data)} rows changed")


def check_fortunes(port: int) -> None:
    _, body = _fetch(port, "/fortunes", "text/html; charset=utf-8")
    text = body.decode("utf-8")
    _expect("<script>" not in text, "/fortunes: the <script> fortune is not escaped")
    compact = re.sub(r">\s+<", "><", text.strip())
    _expect(compact.startswith(_HEAD), f"/fortunes: unexpected head {compact[:160]!r}")
    _expect(compact.endswith("</table></body></html>"), f"/fortunes: tail {compact[-80:]!r}")
    rows = [(int(i), html.unescape(m)) for i, m in _ROW.findall(compact)]
    expected = sorted([*fortune_rows(), (0, ADDITIONAL_FORTUNE)], key=lambda r: r[1])
    _expect(rows == expected, f"/fortunes: rows differ: {rows!r}")


CHECKS = {
    "json": check_json,
    "plaintext": check_plaintext,
    "db": check_db,
    "queries": check_queries,
    "updates": check_updates,
    "fortunes": check_fortunes,
}


def verify(port: int, tests: list[str], dsn: str = DSN) -> dict[str, str]:
    """Run the checks of ``tests``; return the failures by test (empty: all passed).

    ``dsn`` is the database the app serves (its rows are compared with the answers).
    """
    global _dsn
    _dsn = dsn
    failures: dict[str, str] = {}
    for test in tests:
        try:
            CHECKS[test](port)
        except (Mismatch, OSError, ValueError, KeyError) as exc:
            failures[test] = str(exc)[:600]
    return failures
