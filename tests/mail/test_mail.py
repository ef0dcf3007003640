from __future__ import annotations

import io
import smtplib
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.cli.conftest import free_port

from oakling import App, Settings
from oakling.exceptions import ConfigurationError
from oakling.mail import (
    BadHeaderError,
    ConsoleBackend,
    Mailer,
    MailError,
    MemoryBackend,
    SMTPBackend,
    mailer,
    make_message,
)


class Inbox:
    """An aiosmtpd handler keeping what the server received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def settings(**values: Any) -> Settings:
    return Settings(debug=True, **values)


def test_mail_goes_through_a_real_smtp_server(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    app = App(settings=settings(email_port=port, email_host="127.0.0.1"))
    sent = mailer(app).send(
        "Your booking",
        "Room 4, Tuesday.",
        to=["Ann <ann@example.com>"],
        bcc="audit@example.com",
        html="<p>Room <b>4</b>, Tuesday.</p>",
        attachments=[("booking.ics", b"BEGIN:VCALENDAR", None)],
    )
    assert sent == 1
    [(sender, rcpts, message)] = inbox.received
    assert sender == "webmaster@localhost"
    assert rcpts == ["ann@example.com", "audit@example.com"]
    assert message["Subject"] == "Your booking"
    assert message["To"] == "Ann <ann@example.com>"
    assert message["Bcc"] is None  # the blind copy is not shown to the others
    parts = {part.get_content_type(): part for part in message.walk()}
    assert parts["text/plain"].get_payload(decode=True).strip() == b"Room 4, Tuesday."
    assert b"<b>4</b>" in parts["text/html"].get_payload(decode=True)
    assert parts["text/calendar"].get_filename() == "booking.ics"


def test_several_messages_share_one_connection(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    backend = SMTPBackend("127.0.0.1", port)
    messages = [
        make_message(f"n{i}", "body", to=f"u{i}@example.com", from_email="a@example.com")
        for i in range(3)
    ]
    assert Mailer(backend, default_from="a@example.com").send_messages(messages) == 3
    assert [m["Subject"] for _, _, m in inbox.received] == ["n0", "n1", "n2"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_send_async(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    sender = Mailer(SMTPBackend("127.0.0.1", port), default_from="Shop <shop@example.com>")
    assert await sender.send_async("Hi", "there", to="b@example.com") == 1
    assert inbox.received[0][0] == "shop@example.com"


def test_an_unreachable_server_is_a_clear_error() -> None:
    backend = SMTPBackend("127.0.0.1", free_port(), timeout=2)
    with pytest.raises(MailError, match=r"Cannot reach the SMTP server at 127\.0\.0\.1:\d+"):
        Mailer(backend, default_from="a@example.com").send("s", "b", to="c@example.com")


def test_a_refused_recipient_is_a_clear_error() -> None:
    class Refusing(Inbox):
        async def handle_RCPT(  # noqa: N802
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            return "550 no such user"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        backend = SMTPBackend("127.0.0.1", controller.port)
        with pytest.raises(MailError, match="did not take message 1 of 1"):
            Mailer(backend, default_from="a@example.com").send("s", "b", to="nobody@example.com")
    finally:
        controller.stop()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Hello\r\nBcc: victim@example.com"),
        ("to", "a@example.com\nBcc: victim@example.com"),
        ("from_email", "a@example.com\r\nX-Evil: 1"),
    ],
)
def test_header_injection_is_refused(field: str, value: str) -> None:
    backend = MemoryBackend()
    arguments: dict[str, Any] = {"subject": "s", "to": "b@example.com", "from_email": "a@x.org"}
    arguments[field] = value
    subject = arguments.pop("subject")
    with pytest.raises(BadHeaderError, match="line break"):
        Mailer(backend, default_from="a@x.org").send(subject, "body", **arguments)
    assert backend.outbox == []  # nothing half-sent


@pytest.mark.parametrize("address", ["not an address", "", "a@", "@example.com"])
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(MailError, match="e-mail address"):
        make_message("s", "b", to=address, from_email="a@example.com")


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(MailError, match="no recipient"):
        make_message("s", "b", to=[], from_email="a@example.com")


def test_memory_backend_and_outbox() -> None:
    app = App(settings=settings(email_backend="memory", default_from_email="x@example.com"))
    mailer(app).send("Reset", "Your link", to="u@example.com")
    [message] = mailer(app).outbox
    assert (message["Subject"], message["From"]) == ("Reset", "x@example.com")
    assert mailer(app) is mailer(app)


def test_console_backend_prints_the_message() -> None:
    stream = io.StringIO()
    Mailer(ConsoleBackend(stream), default_from="a@example.com").send("Hi", "Body", to="b@x.org")
    out = stream.getvalue()
    assert "Subject: Hi" in out
    assert "Body" in out
    assert out.endswith("-" * 79 + "\n")


def test_attachment_from_a_path(tmp_path: Path) -> None:
    report = tmp_path / "report.csv"
    report.write_text("a,b\n1,2\n")
    message = make_message(
        "r", "see file", to="b@x.org", from_email="a@x.org", attachments=[report]
    )
    [attachment] = list(message.iter_attachments())
    assert isinstance(attachment, EmailMessage)
    assert (attachment.get_filename(), attachment.get_content_type()) == ("report.csv", "text/csv")


def test_backend_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="neither smtp, console nor memory"):
        mailer(App(settings=settings(email_backend="nowhere")))
    dotted = App(settings=settings(email_backend="oakling.mail.MemoryBackend"))
    assert isinstance(mailer(dotted).backend, MemoryBackend)
    with pytest.raises(MailError, match="exclude each other"):
        SMTPBackend(use_tls=True, use_ssl=True)


def test_smtp_login_against_a_server_without_auth(smtp_server: tuple[Inbox, int]) -> None:
    _, port = smtp_server
    backend = SMTPBackend("127.0.0.1", port, username="u", password="p")
    with pytest.raises(MailError) as info:
        Mailer(backend, default_from="a@example.com").send("s", "b", to="c@example.com")
    assert isinstance(info.value.__cause__, smtplib.SMTPException)
