"""``Mailer``: builds messages with the app's defaults and hands them to a backend."""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from oakling.exceptions import ConfigurationError
from oakling.mail.backends import ConsoleBackend, MailBackend, MemoryBackend, SMTPBackend
from oakling.mail.message import make_message

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from email.message import EmailMessage

    from oakling.config import Settings

__all__ = ("Mailer", "backend_from_settings", "mailer")


class Mailer:
    """Send mail through ``backend``, from ``default_from`` unless told otherwise."""

    def __init__(self, backend: MailBackend, *, default_from: str) -> None:
        self.backend = backend
        self.default_from = default_from

    def send(
        self,
        subject: str,
        body: str,
        *,
        to: str | Iterable[str],
        from_email: str | None = None,
        **options: Any,
    ) -> int:
        """Build a message (see ``make_message`` for ``options``) and send it.

        Raises:
            MailError: The message is invalid or could not be delivered.
        """
        message = make_message(
            subject, body, to=to, from_email=from_email or self.default_from, **options
        )
        return self.backend.send([message])

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        """Send messages built with ``make_message`` (one connection for SMTP)."""
        return self.backend.send(messages)

    async def send_async(
        self,
        subject: str,
        body: str,
        *,
        to: str | Iterable[str],
        from_email: str | None = None,
        **options: Any,
    ) -> int:
        """``send`` from async code: the blocking delivery runs in a worker thread."""
        return await asyncio.to_thread(
            self.send, subject, body, to=to, from_email=from_email, **options
        )

    @property
    def outbox(self) -> list[EmailMessage]:
        """The messages kept by a ``memory`` backend (for tests).

        Raises:
            ConfigurationError: The backend keeps no messages.
        """
        if not isinstance(self.backend, MemoryBackend):
            raise ConfigurationError(
                "Only the memory mail backend keeps an outbox; set EMAIL_BACKEND=memory in tests"
            )
        return self.backend.outbox


def backend_from_settings(settings: Settings) -> MailBackend:
    """The backend ``settings.email_backend`` names: smtp, console, memory or a dotted path.

    Raises:
        ConfigurationError: The name is unknown or the class cannot be imported.
    """
    name = settings.email_backend
    if name == "smtp":
        return SMTPBackend(
            settings.email_host,
            settings.email_port,
            username=settings.email_user,
            password=settings.email_password,
            use_tls=settings.email_use_tls,
            use_ssl=settings.email_use_ssl,
            timeout=settings.email_timeout,
        )
    if name == "console":
        return ConsoleBackend()
    if name == "memory":
        return MemoryBackend()
    module_name, _, attr = name.rpartition(".")
    try:
        backend_class = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError):
        raise ConfigurationError(
            f"EMAIL_BACKEND={name!r} is neither smtp, console nor memory, and no class of "
            "that dotted path could be imported"
        ) from None
    backend: MailBackend = backend_class()
    return backend


def mailer(app: Any) -> Mailer:
    """The ``Mailer`` of ``app`` (an ``App``), made from its settings on first use."""
    found: Mailer | None = app.extensions.get("mail")
    if found is None:
        settings = app.settings
        found = app.extensions.setdefault(
            "mail",
            Mailer(backend_from_settings(settings), default_from=settings.default_from_email),
        )
    return found
