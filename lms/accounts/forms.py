from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from lms.accounts.models import AUDIENCE_ROLES, MIN_PASSWORD_LENGTH
from lms.accounts.services import available_time_zones
from lms.courses.presentation import audience_label
from lms.i18n import LANGUAGE_NAMES, _, _l

_PASSWORD_HINT = _l(
    "At least 10 characters. A few unrelated words make a strong password that is easy to remember."
)
_PASSWORD_TOO_SHORT = _l("Use at least 10 characters for your password.")
_PASSWORD_TOO_LONG = _l("Use at most 200 characters for your password.")


def _new_password_fields(label: str, again_label: str) -> tuple[PasswordField, PasswordField]:
    """A new password and the same typed again, as signing up and resetting the password ask."""
    password = PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(min=MIN_PASSWORD_LENGTH, message=_PASSWORD_TOO_SHORT),
            Length(max=200, message=_PASSWORD_TOO_LONG),
        ],
        description=_PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        again_label,
        validators=[
            DataRequired(message=_l("Type the password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
            Length(max=200),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


def _display_name_field() -> StringField:
    """A person's name as others see it (the account's ``display_name``)."""
    return StringField(
        _l("Your name"),
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=120, message=_l("Use at most 120 characters.")),
        ],
        description=_l("As you would like it shown to facilitators and on certificates."),
        render_kw={"autocomplete": "name"},
    )


def _email_field(description: str = "") -> EmailField:
    """The address an account is known by, as signing up and asking for a reset link take it."""
    return EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter your email address.")),
            Email(message=_l("Enter an email address like name@example.org.")),
            Length(max=254),
        ],
        description=description,
        render_kw={"autocomplete": "email"},
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    display_name = _display_name_field()
    email = _email_field()
    password, confirm = _new_password_fields(_l("Password"), _l("Password again"))
    submit = SubmitField(_l("Create account"))


class ResetRequestForm(FlaskForm):
    email = _email_field(
        _l("The address you signed up with. We will send a link to choose a new password.")
    )
    submit = SubmitField(_l("Send the link"))


class ResetPasswordForm(FlaskForm):
    password, confirm = _new_password_fields(_l("New password"), _l("New password again"))
    submit = SubmitField(_l("Save the new password"))


class ProfileForm(FlaskForm):
    display_name = _display_name_field()
    locale = SelectField(
        _l("Language"), description=_l("The language of the pages and of the messages we send you.")
    )
    time_zone = SelectField(
        _l("Time zone"), description=_l("Session times and dates are shown in this zone.")
    )
    affiliate = StringField(
        _l("Affiliate or state"),
        validators=[Optional(), Length(max=120, message=_l("Use at most 120 characters."))],
        description=_l(
            "For example your local association, or your state. Used in completion reports."
        ),
    )
    audience_role = SelectField(
        _l("Your role"),
        validators=[Optional()],
        description=_l("Helps us suggest courses for you. Optional."),
    )
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, current_zone: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = [
            SelectChoice(code, LANGUAGE_NAMES.get(code, code))
            for code in current_app.config["LMS_LANGUAGES"]
        ]
        zones = list(available_time_zones())
        if current_zone and current_zone not in zones:
            zones.insert(0, current_zone)
        self.time_zone.choices = [SelectChoice(zone, zone.replace("_", " ")) for zone in zones]
        self.audience_role.choices = [SelectChoice("", _("Prefer not to say"))] + [
            SelectChoice(role, audience_label(role)) for role in AUDIENCE_ROLES
        ]
