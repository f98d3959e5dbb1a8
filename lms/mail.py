"""Outgoing mail, through one setting: ``LMS_MAIL_BACKEND``.

- ``"log"`` (development): the message is written to the application log, nothing is sent;
- ``"smtp"``: sent with :mod:`smtplib` to ``LMS_SMTP_HOST``:``LMS_SMTP_PORT`` (STARTTLS and
  login when ``LMS_SMTP_STARTTLS`` / ``LMS_SMTP_USERNAME`` are set).

Sending never raises into a request: a failure is logged and reported as ``False``, so a page
answers the same whether or not a message could go out (no account enumeration by errors).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["LMS_MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["LMS_MAIL_SENDER"].rpartition("@")[2] or None)
    message.set_content(body)
    return message


def send_mail(to: str, subject: str, body: str) -> bool:
    """Send (or log) one plain-text message; returns whether it went out."""
    config = current_app.config
    message = build_message(to, subject, body)
    backend = config["LMS_MAIL_BACKEND"]
    logger = current_app.logger
    if backend == "log":
        level = logging.INFO if logger.isEnabledFor(logging.INFO) else logging.WARNING
        logger.log(level, "Mail not sent (LMS_MAIL_BACKEND = \"log\"):\nTo: %s\nSubject: %s\n\n%s", to, subject, body)
        return True
    if backend == "smtp":
        try:
            with smtplib.SMTP(config["LMS_SMTP_HOST"], int(config["LMS_SMTP_PORT"]), timeout=config["LMS_SMTP_TIMEOUT"]) as smtp:
                if config["LMS_SMTP_STARTTLS"]:
                    smtp.starttls()
                if config["LMS_SMTP_USERNAME"]:
                    smtp.login(config["LMS_SMTP_USERNAME"], config["LMS_SMTP_PASSWORD"])
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError):
            logger.exception("Could not send mail to %s (subject %r)", to, subject)
            return False
        return True
    logger.error("Unknown LMS_MAIL_BACKEND %r: mail to %s not sent", backend, to)
    return False
