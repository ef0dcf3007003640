"""Flash messages: a note for the user's next page, kept in the session, read once.

.. code-block:: python

    flash(request, "Saved", "success")
    return redirect("/items")          # the next page shows it:
    get_flashed_messages(request, with_categories=True)   # [("success", "Saved")]

Messages are plain text: templates escape them like any other value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from oakling.http.request import Request

__all__ = ("flash", "get_flashed_messages")

_KEY = "_flashes"
_SCOPE_KEY = "oakling.flashes"


def flash(request: Request, message: str, category: str = "info") -> None:
    """Keep ``message`` in the session until a page reads it.

    Args:
        request: The current request (its session stores the message).
        message: The text to show; escaped when rendered.
        category: A free label such as ``"success"``, ``"error"``, ``"info"``.
    """
    session = request.session
    stored = session.get(_KEY)
    queue = list(stored) if isinstance(stored, list) else []
    queue.append([str(category), str(message)])
    session[_KEY] = queue


def get_flashed_messages(
    request: Request,
    *,
    with_categories: bool = False,
    category_filter: Iterable[str] = (),
) -> list[Any]:
    """Return the flashed messages and remove them from the session.

    Every call in the same request returns the same messages (a layout and a page
    may both ask). ``category_filter`` keeps only those categories in the result;
    all messages are consumed either way.

    Args:
        request: The current request.
        with_categories: Return ``(category, message)`` pairs instead of messages.
        category_filter: Categories to return; empty means all.
    """
    taken: list[tuple[str, str]] | None = request.scope.get(_SCOPE_KEY)
    if taken is None:
        session = request.session
        stored = session.pop(_KEY, None) if _KEY in session else None
        taken = [
            (str(item[0]), str(item[1]))
            for item in (stored if isinstance(stored, list) else [])
            if isinstance(item, list | tuple) and len(item) == 2
        ]
        request.scope[_SCOPE_KEY] = taken
    wanted = frozenset(category_filter)
    chosen = [item for item in taken if not wanted or item[0] in wanted]
    if with_categories:
        return chosen
    return [message for _category, message in chosen]
