"""Operations on people, shared by the web views and the CLI. They flush; callers commit."""

from __future__ import annotations

import secrets
import zoneinfo
from functools import cache

from flask import current_app, url_for
from flask_babel import force_locale
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from werkzeug.security import generate_password_hash

from lms.accounts.models import MIN_PASSWORD_LENGTH, User, count_admins
from lms.db import db_session, get_session, parse_id, utcnow
from lms.i18n import _
from lms.mail import send_mail


class AccountError(ValueError):
    """An operation on an account that cannot be done; the message is shown to the person."""


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the person whose id the session holds, or None."""
    number = parse_id(user_id) if isinstance(user_id, str) else None
    if number is None:
        return None
    return get_session().get(User, number)


def find_user_by_email(email: str) -> User | None:
    return db_session.scalar(User.by_email(email))


def create_user(
    email: str,
    display_name: str,
    password: str | None,
    *,
    is_facilitator: bool = False,
    is_admin: bool = False,
    locale: str = "en",
    time_zone: str = "America/New_York",
    affiliate: str = "",
    audience_role: str = "",
    email_confirmed: bool = True,
) -> User:
    """An account. Its address counts as confirmed unless ``email_confirmed`` is false: the
    person signed up alone (``register_account``) rather than through an admin or a command."""
    from lms.i18n import _

    email = User.normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(_("An account with this email address already exists."))
    user = User(
        email=email,
        display_name=display_name.strip(),
        is_facilitator=is_facilitator,
        is_admin=is_admin,
        locale=locale,
        time_zone=time_zone,
        affiliate=affiliate.strip(),
        audience_role=audience_role,
        active=True,
        email_confirmed_at=utcnow() if email_confirmed else None,
    )
    user.set_password(password or secrets.token_urlsafe(24))
    db_session.add(user)
    db_session.flush()
    return user


# Checked against when the email is unknown, so a wrong email and a wrong password take the
# same time (no user enumeration by timing).
_DUMMY_USER = User(email="", display_name="")
_DUMMY_USER.set_password(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        _DUMMY_USER.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def admins_exist() -> bool:
    from lms.accounts.models import count_admins

    return bool(db_session.scalar(count_admins()))


def users_by_ids(ids: list[int]) -> list[User]:
    return list(db_session.scalars(select(User).where(User.id.in_(ids))))


# --- registration, password reset, profile, deletion ------------------------------------------

RESET_SALT = "lms-password-reset"
CONFIRM_SALT = "lms-email-confirmation"


def register_account(email: str, display_name: str, password: str, *, locale: str, time_zone: str) -> User | None:
    """Create a learner account, or tell the owner of an existing one; the caller answers the same.

    Returns the new user, or ``None`` when the address already had an account: its owner gets a
    message saying someone tried to register with it (how to sign in or reset instead). The
    password is hashed in both cases, so the two take about the same time.
    """
    existing = find_user_by_email(email)
    if existing is not None:
        generate_password_hash(password)  # the same work as creating an account
        _mail_existing_account(existing)
        return None
    user = create_user(email, display_name, password, locale=locale, time_zone=time_zone, email_confirmed=False)
    _mail_welcome(user)
    return user


def _confirmation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=CONFIRM_SALT)


def email_confirmation_url(user: User) -> str:
    # The address is in the token: a link stays valid only for the address it was sent to.
    token = _confirmation_serializer().dumps({"user": user.id, "email": user.email})
    return url_for("lms_accounts.confirm_email", token=token, _external=True)


def confirm_email(token: str) -> User | None:
    """Mark the address of the token's account confirmed; ``None`` for a bad or expired token.

    Following the link twice is harmless: the first confirmation's time stays.
    """
    if not token or len(token) > 500:
        return None
    try:
        payload = _confirmation_serializer().loads(token, max_age=current_app.config["LMS_EMAIL_CONFIRMATION_MAX_AGE"])
        user_id, email = int(payload["user"]), str(payload["email"])
    except (BadData, TypeError, KeyError, ValueError):
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active or user.email != email:
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db_session.flush()
    return user


def send_email_confirmation(user: User) -> None:
    """Mail the confirmation link again (the first one came with the welcome message)."""
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nConfirm that this address is yours by opening this link:\n\n%(url)s\n\n"
            "The link works for %(days)s days. If you did not ask for it, you can ignore this message.\n",
            name=user.display_name, url=email_confirmation_url(user), days=_confirmation_days(),
        )
        subject = _("Confirm your email address")
    send_mail(user.email, subject, body)


def _confirmation_days() -> int:
    return max(current_app.config["LMS_EMAIL_CONFIRMATION_MAX_AGE"] // 86400, 1)


def _reset_serializer(user: User) -> URLSafeTimedSerializer:
    # Salted with the current password hash: once the password changes, every earlier token dies.
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"{RESET_SALT}:{user.password_hash or ''}")


def password_reset_token(user: User) -> str:
    return _reset_serializer(user).dumps({"user": user.id})


def user_for_reset_token(token: str) -> User | None:
    """The active user a reset token belongs to, or ``None`` (bad, expired, used or tampered)."""
    if not token or len(token) > 500:
        return None
    try:
        _valid, payload = URLSafeTimedSerializer(current_app.secret_key).loads_unsafe(token)
        user_id = int(payload["user"])
    except (BadData, TypeError, KeyError, ValueError):
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active:
        return None
    try:
        data = _reset_serializer(user).loads(token, max_age=current_app.config["LMS_PASSWORD_RESET_MAX_AGE"])
    except BadData:
        return None
    return user if data.get("user") == user.id else None


def request_password_reset(email: str) -> bool:
    """Mail a reset link to the account with ``email`` if there is an active one.

    The caller must answer the same whatever this returns (no user enumeration).
    """
    user = find_user_by_email(email)
    if user is None or not user.active:
        return False
    token = password_reset_token(user)
    with force_locale(user.locale):
        url = url_for("lms_accounts.reset_password", token=token, _external=True)
        minutes = current_app.config["LMS_PASSWORD_RESET_MAX_AGE"] // 60
        body = _(
            "Hello %(name)s,\n\nSomeone asked to reset the password of your %(site)s account. To choose a new "
            "password, open this link within %(minutes)s minutes:\n\n%(url)s\n\nThe link works once. If you did not "
            "ask for this, you can ignore this message: your password stays the same.\n",
            name=user.display_name, site=current_app.config["LMS_SITE_NAME"], minutes=minutes, url=url,
        )
        subject = _("Reset your password")
    send_mail(user.email, subject, body)
    return True


def reset_password(user: User, new_password: str) -> None:
    check_password_rules(new_password)
    user.set_password(new_password)
    db_session.flush()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("Use at least %(num)s characters for your password.", num=MIN_PASSWORD_LENGTH))


def update_profile(user: User, *, display_name: str, locale: str, time_zone: str, affiliate: str, audience_role: str) -> None:
    from lms.accounts.models import AUDIENCE_ROLES

    if locale not in current_app.config["LMS_LANGUAGES"]:
        raise AccountError(_("Choose one of the languages offered."))
    if time_zone not in zoneinfo.available_timezones():
        raise AccountError(_("Choose a time zone from the list."))
    if audience_role and audience_role not in AUDIENCE_ROLES:
        raise AccountError(_("Choose a role from the list."))
    user.display_name = display_name.strip()
    user.locale = locale
    user.time_zone = time_zone
    user.affiliate = affiliate.strip()
    user.audience_role = audience_role
    db_session.flush()


@cache
def available_time_zones() -> tuple[str, ...]:
    """The zones offered in the profile: every IANA area/location name, plus UTC."""
    zones = {zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
    return tuple(sorted(zones | {"UTC"}))


def delete_account(user: User, password: str) -> None:
    """Delete a person and everything that is theirs (enrollments, progress, reflections,
    attendance, certificates) through the database's ON DELETE CASCADE.

    Confirmed by the current password. The last active admin cannot delete themselves (the site
    would have no one to run it). An audit event without personal details is kept.
    """
    from lms.audit.services import record_event
    from lms.certificates.models import Certificate
    from lms.learning.models import Enrollment

    if not user.check_password(password):
        raise AccountError(_("That is not your current password."))
    if user.is_admin and db_session.scalar(count_admins()) <= 1:
        raise AccountError(_("You are the only administrator. Make someone else an administrator before you delete your account."))
    enrollments = db_session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.user_id == user.id)) or 0
    certificates = db_session.scalar(
        select(func.count()).select_from(Certificate).join(Enrollment, Certificate.enrollment_id == Enrollment.id).where(Enrollment.user_id == user.id)
    ) or 0
    # The actor becomes NULL with the account (ON DELETE SET NULL): the event keeps no person.
    record_event(user, "account.deleted", user, enrollments=enrollments, certificates=certificates)
    # The cascade below writes without the ORM: the seats and waitlists the person leaves
    # change with it.
    from lms.invalidation import Written, note

    cohorts = set(db_session.scalars(select(Enrollment.cohort_id).where(Enrollment.user_id == user.id, Enrollment.cohort_id.is_not(None))))
    note(db_session, Written(user_ids={user.id}, cohort_ids=cohorts))
    db_session.execute(delete(User).where(User.id == user.id), execution_options={"synchronize_session": False})
    db_session.expunge_all()


def _mail_welcome(user: User) -> None:
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nYour %(site)s account is ready. Sign in with this email address and the password "
            "you chose:\n\n%(url)s\n\nBefore you register for a live session, confirm that this address is yours "
            "by opening this link (it works for %(days)s days):\n\n%(confirm)s\n\n"
            "If you did not create this account, reply to this message or ignore it.\n",
            name=user.display_name, site=current_app.config["LMS_SITE_NAME"], url=url_for("lms_accounts.login", _external=True),
            confirm=email_confirmation_url(user), days=_confirmation_days(),
        )
        subject = _("Your account is ready")
    send_mail(user.email, subject, body)


def _mail_existing_account(user: User) -> None:
    with force_locale(user.locale):
        body = _(
            "Hello %(name)s,\n\nSomeone, perhaps you, tried to create a new %(site)s account with this email "
            "address. You already have an account, so nothing was changed.\n\nSign in: %(login)s\nForgot your "
            "password? Choose a new one: %(reset)s\n\nIf it was not you, you can ignore this message.\n",
            name=user.display_name, site=current_app.config["LMS_SITE_NAME"],
            login=url_for("lms_accounts.login", _external=True), reset=url_for("lms_accounts.reset_request", _external=True),
        )
        subject = _("You already have an account")
    send_mail(user.email, subject, body)
