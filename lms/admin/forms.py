from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from lms.i18n import _l


class GetForm(FlaskForm):
    """A filter form sent with GET: no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False


class PeopleSearchForm(GetForm):
    q = SearchField(
        _l("Name or email"),
        validators=[Optional(), Length(max=100)],
        description=_l("Part of a name or an email address."),
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("", _l("Any role")),
            SelectChoice("learner", _l("Learners only")),
            SelectChoice("facilitator", _l("Facilitators")),
            SelectChoice("admin", _l("Admins")),
        ],
        default="",
        validators=[Optional()],
    )
    status = SelectField(
        _l("Account"),
        choices=[
            SelectChoice("", _l("Active or not")),
            SelectChoice("active", _l("Active")),
            SelectChoice("inactive", _l("Deactivated")),
        ],
        default="",
        validators=[Optional()],
    )


class RoleForm(FlaskForm):
    role = HiddenField(validators=[AnyOf(["facilitator", "admin"])])
    grant = HiddenField(validators=[AnyOf(["1", "0"])])
    next = HiddenField(validators=[Optional(), Length(max=500)])


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["1", "0"])])
    next = HiddenField(validators=[Optional(), Length(max=500)])


class ConfirmEmailForm(FlaskForm):
    next = HiddenField(validators=[Optional(), Length(max=500)])


class SyncForm(FlaskForm):
    """Only the CSRF token: the button runs the course sync."""


class AuditFilterForm(GetForm):
    actor = StringField(
        _l("Actor's email"),
        validators=[Optional(), Length(max=254)],
        description=_l("Part of the email address of the person who made the change."),
    )
    action = SelectField(
        _l("Action"),
        choices=[SelectChoice("", _l("Any action"))],
        validators=[Optional()],
        validate_choice=False,
    )
    target_type = SelectField(
        _l("Target type"),
        choices=[SelectChoice("", _l("Any target"))],
        validators=[Optional()],
        validate_choice=False,
    )
    start = DateField(
        _l("From"),
        validators=[Optional()],
        description=_l("First day (in your time zone), YYYY-MM-DD."),
    )
    end = DateField(_l("To"), validators=[Optional()], description=_l("Last day, included."))

    def validate_action(self, field: SelectField) -> None:
        if len(field.data or "") > 64:
            raise ValidationError(_l("Use at most 64 characters."))

    def validate_target_type(self, field: SelectField) -> None:
        if len(field.data or "") > 32:
            raise ValidationError(_l("Use at most 32 characters."))

    def validate_end(self, field: DateField) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))


class JobFilterForm(GetForm):
    status = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("Any state")),
            SelectChoice("failed", _l("Failed")),
            SelectChoice("queued", _l("Waiting")),
            SelectChoice("running", _l("Running")),
            SelectChoice("done", _l("Done")),
        ],
        # No Optional(): it would take a whitespace-only value (U+0085 among them) for empty and
        # clear the "not a valid choice" error; "" is a choice of its own.
        default="",
    )


class RetryJobForm(FlaskForm):
    """Only the CSRF token: the button queues a failed job again."""
