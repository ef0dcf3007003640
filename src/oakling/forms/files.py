"""File inputs: an upload's size and type checked before the handler keeps it.

A file's name and its Content-Type are whatever the client says, so neither
proves the type: :class:`ImageField` opens the bytes with Pillow instead. A
form that fails never stores anything by itself; the handler saves the
:class:`~oakling.http.multipart.UploadFile` only once ``is_valid()`` is true.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Final

from oakling.forms.fields import Field
from oakling.forms.render import tag

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from oakling.forms.form import BoundField
    from oakling.forms.render import AttrValue, Markup

__all__ = ("FileField", "ImageField")

_IMAGE_FORMATS: Final = ("GIF", "JPEG", "PNG", "WEBP")
_MAX_PIXELS: Final = 50_000_000  # a 7,000 x 7,000 photo; decoded, ~200 MB at 4 bytes a pixel


class FileField(Field):
    """A file upload (``<input type="file">``); the cleaned value is the ``UploadFile``.

    The form is rendered with ``enctype="multipart/form-data"``. An empty file
    input (no file chosen) counts as empty.

    Args:
        max_size: Refuse larger files, in bytes.
        extensions: Accepted file name extensions (``".pdf"``...), also given to
            the browser as ``accept``. A convenience for the user, not a check
            of the content: a client may name any file anything.
        **options: The options of :class:`~oakling.forms.fields.Field`.
    """

    input_type: ClassVar[str] = "file"
    is_file: ClassVar[bool] = True
    default_messages: ClassVar[Mapping[str, str]] = {
        **Field.default_messages,
        "not_file": "Choose a file to upload (the form must be sent as multipart/form-data).",
        "max_size": "The file is too large ({size}); the limit is {limit}.",
        "extension": "Upload a file of type {extensions}.",
    }

    def __init__(
        self,
        *,
        max_size: int | None = None,
        extensions: Iterable[str] = (),
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.max_size = max_size
        self.extensions = tuple(
            ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in extensions
        )

    def is_empty(self, raw: Any) -> bool:
        """No file chosen: absent, empty text, or an unnamed empty file part."""
        if raw is None or raw == "":
            return True
        return _is_upload(raw) and not raw.filename and not raw.size

    def to_python(self, raw: Any) -> Any:
        """Return the ``UploadFile`` once its size and name pass."""
        if not _is_upload(raw):
            raise ValueError(self.messages["not_file"])
        if self.max_size is not None and raw.size > self.max_size:
            raise ValueError(
                self.messages["max_size"].format(size=_size(raw.size), limit=_size(self.max_size))
            )
        if self.extensions and not raw.filename.lower().endswith(self.extensions):
            raise ValueError(
                self.messages["extension"].format(extensions=", ".join(self.extensions))
            )
        return raw

    def html_attrs(self) -> dict[str, AttrValue]:
        """``accept`` from ``extensions``."""
        attrs = super().html_attrs()
        if self.extensions:
            attrs["accept"] = ",".join(self.extensions)
        return attrs

    def render_input(self, bound: BoundField) -> Markup:
        """Return the file input (a browser never lets a page pre-fill one)."""
        attrs: dict[str, AttrValue] = {
            "type": "file",
            "name": bound.html_name,
            "id": bound.id,
        }
        attrs.update(bound.common_attrs())
        return tag("input", attrs)


class ImageField(FileField):
    """An image upload, checked by decoding it with Pillow (``pip install 'oakling[forms]'``).

    The file must open as one of ``formats`` whatever its name or Content-Type
    says, have at most ``max_pixels`` pixels (so that a small file that decodes
    into gigabytes, a "decompression bomb", is refused before it is decoded),
    and pass Pillow's ``verify()``. On success the upload's ``content_type`` is
    set to the detected format's MIME type and its read position is rewound.

    Args:
        formats: Pillow format names accepted (default GIF, JPEG, PNG, WEBP).
        max_pixels: The most pixels (width x height) accepted.
        **options: The options of :class:`FileField`.
    """

    default_messages: ClassVar[Mapping[str, str]] = {
        **FileField.default_messages,
        "invalid_image": "Upload a valid image; this file is not an image or is damaged.",
        "format": "Upload an image in one of these formats: {formats}.",
        "max_pixels": "The image is too large ({width} x {height} pixels); "
        "the limit is {limit} pixels in all.",
        "max_pixels_bomb": "The image is too large; the limit is {limit} pixels in all.",
    }

    def __init__(
        self,
        *,
        formats: Iterable[str] = _IMAGE_FORMATS,
        max_pixels: int = _MAX_PIXELS,
        **options: Any,
    ) -> None:
        self.formats = tuple(fmt.upper() for fmt in formats)
        options.setdefault("attrs", {"accept": ",".join(_mime(fmt) for fmt in self.formats)})
        super().__init__(**options)
        self.max_pixels = max_pixels

    def to_python(self, raw: Any) -> Any:
        """Return the ``UploadFile`` once Pillow has checked it is a sane image."""
        upload = super().to_python(raw)
        try:
            from PIL import Image
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from oakling.exceptions import MissingDependency

            raise MissingDependency("pillow", extra="forms") from exc
        upload.file.seek(0)
        found, size = "", (0, 0)
        try:
            # NOTE: Pillow's own bomb check warns (and errors beyond twice its limit);
            # our limit is checked here, before anything is decoded.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(upload.file, formats=self.formats or None) as image:
                    found, size = image.format or "", image.size
                    if size[0] * size[1] <= self.max_pixels:
                        image.verify()
        except Image.DecompressionBombError:
            # NOTE: Pillow refuses, before reading pixels, images over twice its own limit.
            limit = f"{self.max_pixels:,}"
            raise ValueError(self.messages["max_pixels_bomb"].format(limit=limit)) from None
        except Exception:  # Pillow raises many kinds for a bad file
            raise ValueError(self._unreadable_message(upload)) from None
        finally:
            upload.file.seek(0)
        if size[0] * size[1] > self.max_pixels:
            raise ValueError(
                self.messages["max_pixels"].format(
                    width=size[0], height=size[1], limit=f"{self.max_pixels:,}"
                )
            )
        if found not in self.formats:  # pragma: no cover - open() was given the formats
            raise ValueError(self.messages["format"].format(formats=", ".join(self.formats)))
        upload.content_type = _mime(found)
        return upload

    def _unreadable_message(self, upload: Any) -> str:
        from PIL import Image

        upload.file.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(upload.file) as image:
                    found = image.format
        except Exception:  # not an image at all
            return self.messages["invalid_image"]
        finally:
            upload.file.seek(0)
        if found and found not in self.formats:
            return self.messages["format"].format(formats=", ".join(self.formats))
        return self.messages["invalid_image"]


def _mime(fmt: str) -> str:
    return {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}.get(
        fmt, _pillow_mime(fmt)
    )


def _pillow_mime(fmt: str) -> str:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - depends on the environment
        return "application/octet-stream"
    return Image.MIME.get(fmt, "application/octet-stream")


def _is_upload(value: Any) -> bool:
    from oakling.http.multipart import UploadFile

    return isinstance(value, UploadFile)


def _size(count: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= factor:
            return f"{count / factor:.1f} {unit}"
    return f"{count} bytes"
