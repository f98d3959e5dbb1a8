"""Outgoing mail, sent from jobs (``lms.jobs``), through one setting: ``LMS_MAIL_BACKEND``.

- ``"log"`` (development): the message is written to the application log, nothing is sent;
- ``"memory"`` (tests): kept in the app's :func:`outbox`, nothing is sent;
- ``"smtp"``: sent with :mod:`smtplib` to ``LMS_SMTP_HOST``:``LMS_SMTP_PORT`` (STARTTLS and
  login when ``LMS_SMTP_STARTTLS`` / ``LMS_SMTP_USERNAME`` are set).

A message goes out from a job, never from a request: the request only commits a job
(``lms.jobs.enqueue``), so no page waits for the relay and no transaction stays open across an
SMTP conversation. A message the relay does not take raises :class:`MailError`, and the job is
retried with back-off; the person who asked sees the same page either way.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app, has_request_context


class MailError(RuntimeError):
    """The message could not be handed to the relay (the job that sends it is retried)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"  # e.g. "text/calendar; method=REQUEST" for an .ics


def send_message(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send one message: a plain-text body, an optional HTML alternative, attachments, and
    extra ``headers`` (``List-Unsubscribe``...).

    Call it from a job. Raises :class:`MailError` when the relay does not take it.
    """
    if has_request_context():
        raise RuntimeError(
            "Mail is sent from a job after the request commits: use lms.jobs.enqueue."
        )
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["LMS_MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["LMS_MAIL_SENDER"].rpartition("@")[2] or None)
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        _attach(message, attachment)
    # Last: making the message multipart moves Content-* headers into its first part.
    for name, value in (headers or {}).items():  # e.g. List-Unsubscribe, Content-Language
        if name in message:
            message.replace_header(name, value)
        else:
            message[name] = value
    _deliver(message, config["LMS_MAIL_BACKEND"], text)


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    maintype, _slash, rest = attachment.mimetype.partition("/")
    subtype, _semicolon, parameters = rest.partition(";")
    params = dict(part.strip().split("=", 1) for part in parameters.split(";") if "=" in part)
    message.add_attachment(
        attachment.content,
        maintype=maintype,
        subtype=subtype.strip() or "octet-stream",
        filename=attachment.filename,
        params=params,
    )


def _deliver(message: EmailMessage, backend: str, text: str) -> None:
    """Hand ``message`` (whose plain-text body is ``text``) to ``LMS_MAIL_BACKEND``."""
    config = current_app.config
    to, subject = str(message["To"]), str(message["Subject"])
    if backend == "log":
        logger = current_app.logger
        level = logging.INFO if logger.isEnabledFor(logging.INFO) else logging.WARNING
        names = ", ".join(part.get_filename() or "" for part in message.iter_attachments())
        logger.log(
            level,
            'Mail not sent (LMS_MAIL_BACKEND = "log"):\nTo: %s\nSubject: %s%s\n\n%s',
            to,
            subject,
            f"\nAttachments: {names}" if names else "",
            text,
        )
        return
    if backend == "memory":
        outbox(current_app._get_current_object()).append(message)  # type: ignore[attr-defined]
        return
    if backend == "smtp":
        try:
            with smtplib.SMTP(
                config["LMS_SMTP_HOST"],
                int(config["LMS_SMTP_PORT"]),
                timeout=config["LMS_SMTP_TIMEOUT"],
            ) as smtp:
                if config["LMS_SMTP_STARTTLS"]:
                    smtp.starttls()
                if config["LMS_SMTP_USERNAME"]:
                    smtp.login(config["LMS_SMTP_USERNAME"], config["LMS_SMTP_PASSWORD"])
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(
                f"could not send mail to {to} (subject {subject!r}): {error}"
            ) from error
        return
    raise MailError(f"unknown LMS_MAIL_BACKEND {backend!r}: mail to {to} not sent")


def outbox(app: Flask) -> list[EmailMessage]:
    """The messages the ``"memory"`` backend kept for ``app`` (tests read them)."""
    return app.extensions.setdefault("lms_mail_outbox", [])
