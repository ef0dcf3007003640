"""Sending e-mail: a message builder, one small backend interface, three backends.

``mailer(app).send(subject, body, to=[...])`` builds a standard
``email.message.EmailMessage`` and hands it to the backend the settings name:

* ``smtp``: an SMTP server (``email_host``/``email_port``, STARTTLS or TLS,
  login, a timeout on every connection);
* ``console``: prints each message, for development;
* ``memory``: keeps messages in ``outbox``, for tests.

A backend is any object with ``send(messages) -> int``; name it by dotted path
in ``email_backend`` to use your own. Header injection (a newline in a subject or
an address) is refused before anything is sent.
"""

from __future__ import annotations

from oakling.mail.backends import (
    ConsoleBackend,
    MailBackend,
    MemoryBackend,
    SMTPBackend,
)
from oakling.mail.message import BadHeaderError, MailError, make_message
from oakling.mail.sender import Mailer, mailer

__all__ = (
    "BadHeaderError",
    "ConsoleBackend",
    "MailBackend",
    "MailError",
    "Mailer",
    "MemoryBackend",
    "SMTPBackend",
    "mailer",
    "make_message",
)
