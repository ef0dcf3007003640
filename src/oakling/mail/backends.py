"""Mail backends: anything with ``send(messages) -> int`` (the number sent)."""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
from typing import TYPE_CHECKING, Protocol, TextIO

from oakling.mail.message import MailError, recipients

if TYPE_CHECKING:
    from collections.abc import Sequence
    from email.message import EmailMessage

__all__ = ("ConsoleBackend", "MailBackend", "MemoryBackend", "SMTPBackend")


class MailBackend(Protocol):
    """What ``Mailer`` needs of a backend."""

    def send(self, messages: Sequence[EmailMessage]) -> int:
        """Deliver ``messages``; return how many were sent."""
        ...


class SMTPBackend:
    """Deliver through an SMTP server; one connection per ``send`` call.

    Args:
        host: The server's host name.
        port: 25, 587 (submission with ``use_tls``) or 465 (``use_ssl``).
        username: Log in with this user (and ``password``) when given.
        use_tls: Upgrade the connection with STARTTLS.
        use_ssl: Connect over TLS from the start (SMTPS).
        timeout: Seconds for connecting and for each command.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if use_tls and use_ssl:
            raise MailError("use_tls (STARTTLS) and use_ssl (SMTPS) exclude each other: pick one")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.use_tls:
            connection.starttls(context=context)
        return connection

    def send(self, messages: Sequence[EmailMessage]) -> int:
        """Send ``messages`` over one connection.

        Raises:
            MailError: The server could not be reached, refused the login or a recipient.
        """
        if not messages:
            return 0
        where = f"{self.host}:{self.port}"
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"Cannot reach the SMTP server at {where}: {exc}") from exc
        sent = 0
        try:
            if self.username:
                connection.login(self.username, self.password or "")
            for message in messages:
                connection.send_message(message, to_addrs=recipients(message))
                sent += 1
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"The SMTP server at {where} refused the login: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"The SMTP server at {where} did not take message {sent + 1} of "
                f"{len(messages)}: {exc}"
            ) from exc
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
        return sent


class ConsoleBackend:
    """Print each message to a stream (standard output by default), for development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def send(self, messages: Sequence[EmailMessage]) -> int:
        """Write ``messages`` out, separated by a line of dashes."""
        stream = self.stream or sys.stdout
        with self._lock:
            for message in messages:
                stream.write(message.as_string())
                stream.write("\n" + "-" * 79 + "\n")
            stream.flush()
        return len(messages)


class MemoryBackend:
    """Keep messages in ``outbox`` (a list), for tests."""

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    def send(self, messages: Sequence[EmailMessage]) -> int:
        """Append ``messages`` to ``outbox``."""
        self.outbox.extend(messages)
        return len(messages)
