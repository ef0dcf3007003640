"""The session mapping behind ``request.session``: data plus change tracking.

Only the data structure lives here; loading, signing and storing it is the job of
``oakling.web.sessions`` (reached through ``request.app.sessions``).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

__all__ = ("CSRF_SECRET_KEY", "PERMANENT_KEY", "Session")

CSRF_SECRET_KEY = "_csrf"
"""The key under which ``oakling.web.csrf`` keeps the session's CSRF secret."""
PERMANENT_KEY = "_permanent"
"""The key that records ``Session.permanent = False``."""


class Session(MutableMapping[str, Any]):
    """A dict-like session whose changes are tracked.

    Values must be JSON-serialisable. A change inside a stored value
    (``session["cart"].append(x)``) is not seen: assign the key again, or set
    ``session.modified = True``.

    Attributes:
        key: The server-side session id (``None`` for cookie sessions and new ones).
        modified: Whether the data changed and must be saved.
        fresh: Whether this session did not come from the request (new or reset).
    """

    __slots__ = ("_data", "_stale_keys", "cycled", "fresh", "key", "modified", "resign")

    def __init__(
        self, data: dict[str, Any] | None = None, *, key: str | None = None, fresh: bool = True
    ) -> None:
        self._data: dict[str, Any] = data if data is not None else {}
        self.key = key
        self.fresh = fresh
        self.modified = False
        self.cycled = False
        """Whether ``cycle_key()`` or ``flush()`` asked for a new id."""
        self.resign = False
        """Whether the data must be written again though unchanged (an old signing key)."""
        self._stale_keys: list[str] = []

    # -- the mapping ---------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key``, or ``default``."""
        return self._data.get(key, default)

    def clear(self) -> None:
        """Remove every key (the session id stays: see ``flush()``)."""
        if self._data:
            self._data.clear()
            self.modified = True

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (``Max-Age``); default ``True``.

        Set it to ``False`` for a "remember me" box left unticked: the cookie then ends
        when the browser closes (the server-side expiry still applies).
        """
        return self._data.get(PERMANENT_KEY, True) is not False

    @permanent.setter
    def permanent(self, value: bool) -> None:
        if value:
            if PERMANENT_KEY in self._data:
                del self[PERMANENT_KEY]
        else:
            self[PERMANENT_KEY] = False

    def to_dict(self) -> dict[str, Any]:
        """The data as a plain dict (the session's own: do not change it)."""
        return self._data

    # -- lifecycle -----------------------------------------------------------------------

    def cycle_key(self) -> None:
        """Keep the data under a new session id, and rotate the CSRF secret.

        Call it when the user logs in: an id planted before login (session
        fixation) then no longer works, and neither do tokens issued before it.
        """
        if self.key is not None:
            self._stale_keys.append(self.key)
            self.key = None
        self._data.pop(CSRF_SECRET_KEY, None)
        self.cycled = True
        self.modified = True

    def flush(self) -> None:
        """Empty the session and give it a new id (log out)."""
        self._data.clear()
        self.cycle_key()

    def take_stale_keys(self) -> list[str]:
        """Return (and forget) the ids that ``cycle_key()`` retired."""
        stale, self._stale_keys = self._stale_keys, []
        return stale

    def __repr__(self) -> str:
        # NOTE: never the values, never the id: repr() ends up in logs.
        return f"<Session keys={sorted(self._data)!r} modified={self.modified}>"
