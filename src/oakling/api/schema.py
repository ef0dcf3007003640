"""Python types to JSON Schema: msgspec for Structs and dataclasses, pydantic for its models.

The document builder asks for a schema with ``registry.schema(tp)`` and gets an
empty dict at once; ``registry.finish()`` fills every one of them in one pass, so
msgspec names and references each shared type once (``#/components/schemas/Item``).
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from oakling._internal.convert import is_pydantic

__all__ = ("REF_TEMPLATE", "SchemaRegistry", "encodable")

_Mode = Literal["validation", "serialization"]
REF_TEMPLATE = "#/components/schemas/{name}"
_PYDANTIC_REF = "#/components/schemas/{model}"


class SchemaRegistry:
    """Collects the types a document needs, then renders their schemas together."""

    def __init__(self) -> None:
        self._slots: list[tuple[Any, dict[str, Any], _Mode]] = []
        self.components: dict[str, Any] = {}

    def schema(
        self, tp: Any, *, mode: Literal["validation", "serialization"] = "validation"
    ) -> dict[str, Any]:
        """Return the schema of ``tp``: a dict filled in by ``finish()``."""
        slot: dict[str, Any] = {}
        self._slots.append((tp, slot, mode))
        return slot

    def add_component(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        """Add a hand-written component schema; return a reference to it."""
        self.components.setdefault(name, schema)
        return {"$ref": REF_TEMPLATE.format(name=name)}

    def finish(self) -> None:
        """Render every requested schema (and the components they reference)."""
        plain = [(tp, slot) for tp, slot, _ in self._slots if not _has_pydantic(tp)]
        for tp, slot, mode in self._slots:
            if _has_pydantic(tp):
                slot.update(self._pydantic(tp, mode))
        if plain:
            self._msgspec(plain)
        self._slots.clear()

    def _msgspec(self, items: list[tuple[Any, dict[str, Any]]]) -> None:
        try:
            schemas, components = msgspec.json.schema_components(
                [tp for tp, _ in items], ref_template=REF_TEMPLATE
            )
        except (TypeError, ValueError):
            # NOTE: one type msgspec cannot describe (a custom class) must not cost the
            # others their schemas: retry one by one; the odd one gets `{}` (any value).
            if len(items) == 1:
                return
            for item in items:
                self._msgspec([item])
            return
        for (_, slot), schema in zip(items, schemas, strict=True):
            slot.update(schema)
        for name, schema in components.items():
            self.components.setdefault(name, schema)

    def _pydantic(self, tp: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        from pydantic import TypeAdapter

        try:
            schema: dict[str, Any] = TypeAdapter(tp).json_schema(
                ref_template=_PYDANTIC_REF, mode=mode
            )
        except Exception:  # NOTE: pydantic raises several kinds for types it cannot describe
            return {}
        for name, sub in schema.pop("$defs", {}).items():
            self.components.setdefault(name, sub)
        if is_pydantic(tp) and isinstance(tp, type):
            # NOTE: a model is a named component, as msgspec's Structs are.
            return self.add_component(tp.__name__, schema)
        return schema


def _has_pydantic(tp: Any) -> bool:
    if is_pydantic(tp):
        return True
    origin = get_origin(tp)
    if origin is None:
        return False
    args = get_args(tp)
    if origin is Annotated:
        args = args[:1]
    if origin is Literal:
        return False
    return any(_has_pydantic(arg) for arg in args if not isinstance(arg, str | int))


def encodable(value: Any) -> tuple[bool, Any]:
    """Return ``(True, json_value)`` when ``value`` can appear in a JSON document."""
    try:
        return True, msgspec.to_builtins(value)
    except (TypeError, ValueError):
        return False, None


def is_optional(tp: Any) -> bool:
    """Whether ``tp`` accepts ``None``."""
    origin = get_origin(tp)
    if origin is Annotated:
        return is_optional(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return type(None) in get_args(tp)
    return tp is None or tp is type(None)
