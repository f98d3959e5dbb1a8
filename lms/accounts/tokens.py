"""The signed tokens of the account mail: the link that confirms an address and the link that
resets a password. Apart from the services so that the mail jobs, which put them in their
links, and the services, which enqueue those jobs and check the tokens, both import them."""

from __future__ import annotations

from flask import current_app
from itsdangerous import URLSafeTimedSerializer

from lms.accounts.models import User

RESET_SALT = "lms-password-reset"
CONFIRM_SALT = "lms-email-confirmation"


def confirmation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=CONFIRM_SALT)


def email_confirmation_token(user: User) -> str:
    # The address is in the token: a link stays valid only for the address it was sent to.
    return confirmation_serializer().dumps({"user": user.id, "email": user.email})


def confirmation_days() -> int:
    return max(current_app.config["LMS_EMAIL_CONFIRMATION_MAX_AGE"] // 86400, 1)


def reset_serializer(user: User) -> URLSafeTimedSerializer:
    # Salted with the current password hash: once the password changes, every earlier token dies.
    return URLSafeTimedSerializer(
        current_app.secret_key, salt=f"{RESET_SALT}:{user.password_hash or ''}"
    )


def password_reset_token(user: User) -> str:
    return reset_serializer(user).dumps({"user": user.id})
