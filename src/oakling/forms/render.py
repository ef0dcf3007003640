"""HTML building blocks for forms: escaped tags and attributes.

Every value that reaches the page goes through ``markupsafe.escape``; only
``Markup`` (already safe HTML) is kept as is. ``Markup`` has ``__html__``, so
Jinja2 prints these fragments without escaping them twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ("Markup", "attrs_html", "tag")

AttrValue = str | int | bool | None
"""``True`` writes a boolean attribute (``required``); ``False`` and ``None`` omit it."""


def attrs_html(attrs: Mapping[str, AttrValue]) -> Markup:
    """Return `` name="value"`` pairs, escaped, in the order given."""
    parts: list[str] = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {escape(name)}")
        else:
            parts.append(f' {escape(name)}="{escape(value)}"')
    return Markup("".join(parts))


def tag(
    name: str,
    attrs: Mapping[str, AttrValue] | None = None,
    content: str | Iterable[str] | None = None,
) -> Markup:
    """Return ``<name attrs>content</name>``; ``content=None`` makes a void element.

    Plain ``str`` content is escaped; ``Markup`` content is kept as is.
    """
    opening = Markup(f"<{name}{attrs_html(attrs or {})}>")
    if content is None:
        return opening
    if isinstance(content, str):
        inner = escape(content)
    else:
        inner = Markup("").join(escape(part) for part in content)
    return Markup(f"{opening}{inner}</{name}>")
