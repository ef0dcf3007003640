"""Size limits on what a client may send; every one a setting with a safe default."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("Limits",)


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits applied while reading a request.

    Attributes:
        max_body_size: Bytes of a non-multipart body (JSON, urlencoded, raw).
        max_upload_size: Bytes of a whole multipart body, files included.
        max_form_fields: Fields in an urlencoded or multipart form.
        max_multipart_parts: Parts (fields and files) in a multipart body.
        max_field_size: Bytes of one non-file form field.
        max_part_header_size: Bytes of the headers of one multipart part.
        spool_max_size: Bytes of an upload kept in memory before spooling to disk.
        max_json_depth: Nesting depth of arrays and objects in a JSON body.
    """

    max_body_size: int = 1024 * 1024
    max_upload_size: int = 100 * 1024 * 1024
    max_form_fields: int = 1000
    max_multipart_parts: int = 1000
    max_field_size: int = 1024 * 1024
    max_part_header_size: int = 8 * 1024
    spool_max_size: int = 1024 * 1024
    max_json_depth: int = 64
