from __future__ import annotations

import logging

import pytest


@pytest.fixture
def mail_log(caplog):
    """The mails sent so far (the test settings log them instead of sending)."""
    caplog.set_level(logging.INFO, logger="lms")

    def messages() -> list[str]:
        return [record.getMessage() for record in caplog.records if "Mail not sent" in record.getMessage()]

    return messages
