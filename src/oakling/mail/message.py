"""Building a message: addresses and headers checked, text with an optional HTML part."""

from __future__ import annotations

import mimetypes
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from typing import TYPE_CHECKING

from oakling.exceptions import OaklingError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = ("Attachment", "BadHeaderError", "MailError", "make_message", "recipients")

Attachment = tuple[str, bytes, str | None]
"""``(filename, content, mimetype or None to guess from the name)``."""


class MailError(OaklingError):
    """A message could not be sent; the message says why."""


class BadHeaderError(MailError, ValueError):
    """A header value (subject, address...) contains a line break: header injection."""


def _check_header(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise BadHeaderError(
            f"The {name} header contains a line break ({value[:60]!r}); header values must "
            "be one line (this is how header injection works)"
        )
    return value


def _addresses(name: str, values: str | Iterable[str]) -> list[str]:
    items = [values] if isinstance(values, str) else list(values)
    checked: list[str] = []
    for item in items:
        _check_header(name, item)
        parsed = getaddresses([item])
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            raise MailError(f"{name}: {item!r} is not an e-mail address (like a@example.com)")
        display, address = parsed[0]
        local, _, domain = address.rpartition("@")
        if not local or not domain:
            raise MailError(f"{name}: {item!r} is not an e-mail address (like a@example.com)")
        try:
            checked.append(str(Address(display, local, domain)))
        except (ValueError, IndexError) as exc:
            raise MailError(f"{name}: {item!r} is not a valid e-mail address: {exc}") from None
    return checked


def make_message(
    subject: str,
    body: str,
    *,
    to: str | Iterable[str],
    from_email: str,
    cc: str | Iterable[str] = (),
    bcc: str | Iterable[str] = (),
    reply_to: str | Iterable[str] = (),
    html: str | None = None,
    attachments: Iterable[Attachment | Path] = (),
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """Build an ``EmailMessage``: a text body, an HTML alternative and attachments.

    ``Bcc`` is kept on the message so backends know the recipients; SMTP never
    transmits it.

    Raises:
        BadHeaderError: A header value contains a line break.
        MailError: An address is not valid, or there is no recipient.
    """
    message = EmailMessage()
    message["Subject"] = _check_header("Subject", subject)
    message["From"] = _addresses("From", from_email)[0]
    to_list, cc_list, bcc_list = (
        _addresses("To", to),
        _addresses("Cc", cc),
        _addresses("Bcc", bcc),
    )
    if not (to_list or cc_list or bcc_list):
        raise MailError("The message has no recipient: give to=, cc= or bcc=")
    for name, values in (("To", to_list), ("Cc", cc_list), ("Bcc", bcc_list)):
        if values:
            message[name] = ", ".join(values)
    reply = _addresses("Reply-To", reply_to)
    if reply:
        message["Reply-To"] = ", ".join(reply)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid()
    for name, value in (headers or {}).items():
        _check_header(name, name)
        message[name] = _check_header(name, value)
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        filename, content, mimetype = _attachment(attachment)
        maintype, _, subtype = (mimetype or "application/octet-stream").partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _attachment(attachment: Attachment | Path) -> Attachment:
    if isinstance(attachment, tuple):
        filename, content, mimetype = attachment
    else:
        filename, content, mimetype = attachment.name, attachment.read_bytes(), None
    _check_header("attachment filename", filename)
    return filename, content, mimetype or mimetypes.guess_type(filename)[0]


def recipients(message: EmailMessage) -> list[str]:
    """Every address the message goes to: To, Cc and Bcc."""
    fields = [v for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]
