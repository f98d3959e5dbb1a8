"""The mail the account flows send, as jobs run after the request commits (``lms.jobs``).

Each takes the account's id and reads it again: an account deactivated or deleted in the
meantime gets nothing. Links come from the configured base URL (``lms.links``), never from the
Host of the request that asked.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from lms.accounts.models import User
from lms.accounts.tokens import confirmation_days, email_confirmation_token, password_reset_token
from lms.db import db_session
from lms.i18n import _
from lms.jobs import job
from lms.links import external_url
from lms.mail import send_message


def _person(user_id: int | None) -> User | None:
    user = db_session.get(User, user_id) if user_id is not None else None
    return user if user is not None and user.active else None


@job
def mail_welcome(user_id: int) -> None:
    user = _person(user_id)
    if user is None:
        return
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nYour %(site)s account is ready. Sign in with this email address and the password "
            "you chose:\n\n%(url)s\n\nBefore you register for a live session, confirm that this address is yours "
            "by opening this link (it works for %(days)s days):\n\n%(confirm)s\n\n"
            "If you did not create this account, reply to this message or ignore it.\n",
            name=user.display_name,
            site=current_app.config["LMS_SITE_NAME"],
            url=external_url("lms_accounts.login"),
            confirm=external_url(
                "lms_accounts.confirm_email", token=email_confirmation_token(user)
            ),
            days=confirmation_days(),
        )
        subject = _("Your account is ready")
    send_message(user.email, subject, body)


@job
def mail_existing_account(user_id: int) -> None:
    user = _person(user_id)
    if user is None:
        return
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nSomeone, perhaps you, tried to create a new %(site)s account with this email "
            "address. You already have an account, so nothing was changed.\n\nSign in: %(login)s\nForgot your "
            "password? Choose a new one: %(reset)s\n\nIf it was not you, you can ignore this message.\n",
            name=user.display_name,
            site=current_app.config["LMS_SITE_NAME"],
            login=external_url("lms_accounts.login"),
            reset=external_url("lms_accounts.reset_request"),
        )
        subject = _("You already have an account")
    send_message(user.email, subject, body)


@job
def mail_email_confirmation(user_id: int) -> None:
    user = _person(user_id)
    if user is None or user.email_confirmed_at is not None:
        return
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nConfirm that this address is yours by opening this link:\n\n%(url)s\n\n"
            "The link works for %(days)s days. If you did not ask for it, you can ignore this message.\n",
            name=user.display_name,
            url=external_url("lms_accounts.confirm_email", token=email_confirmation_token(user)),
            days=confirmation_days(),
        )
        subject = _("Confirm your email address")
    send_message(user.email, subject, body)


@job
def mail_password_reset(user_id: int | None) -> None:
    """``None`` when no active account had the address: the request did the same work (this
    job) either way, so it answers in the same time; nothing is sent."""
    user = _person(user_id)
    if user is None:
        return
    # The token is made now, salted with the password hash as it is when the mail goes out.
    url = external_url("lms_accounts.reset_password", token=password_reset_token(user))
    with force_locale(user.locale):
        minutes = current_app.config["LMS_PASSWORD_RESET_MAX_AGE"] // 60
        body = _(
            "Hello %(name)s,\n\nSomeone asked to reset the password of your %(site)s account. To choose a new "
            "password, open this link within %(minutes)s minutes:\n\n%(url)s\n\nThe link works once. If you did not "
            "ask for this, you can ignore this message: your password stays the same.\n",
            name=user.display_name,
            site=current_app.config["LMS_SITE_NAME"],
            minutes=minutes,
            url=url,
        )
        subject = _("Reset your password")
    send_message(user.email, subject, body)
