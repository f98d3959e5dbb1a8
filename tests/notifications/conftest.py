"""A real SMTP server (aiosmtpd) in the test process; the app sends to it over TCP."""

from __future__ import annotations

import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

PORTS = range(18600, 18700)  # this branch's port range


class Recorder:
    """Keeps every message the server accepted; refuses RCPT for addresses starting with "bounce"
    (550) and answers 451 to the first DATA for addresses in ``flaky`` (then accepts)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.flaky: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for address in envelope.rcpt_tos:
                if address in self.flaky:
                    self.flaky.discard(address)
                    return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 18600-18699 for the test SMTP server")


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server):
    return smtp_server[0]


@pytest.fixture
def app_config(app_config, smtp_server):
    _recorder, port = smtp_server
    return {
        **app_config,
        "LMS_MAIL_BACKEND": "smtp",
        "LMS_SMTP_HOST": "127.0.0.1",
        "LMS_SMTP_PORT": port,
        "LMS_MAIL_SENDER": "sessions@courses.example.org",
        "LMS_BASE_URL": "https://courses.example.org",
        "LMS_REMINDER_MINUTES": [1440, 60],
    }
