from __future__ import annotations

import logging

import pytest


@pytest.fixture
def mail_log(app, caplog):
    """The mails sent so far (the test settings log them instead of sending), once the jobs
    that send them have run."""
    from lms.jobs import wait_for_jobs

    caplog.set_level(logging.INFO, logger="lms")

    def messages() -> list[str]:
        wait_for_jobs(app)
        return [
            record.getMessage()
            for record in caplog.records
            if "Mail not sent" in record.getMessage()
        ]

    return messages
