from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from lms.i18n import _l, ngettext
from lms.notifications.services import MAX_BODY, MAX_SUBJECT, REMINDER_CHOICES


class SettingsForm(FlaskForm):
    reminders = BooleanField(_l("Remind me before my live sessions"))
    digest = BooleanField(
        _l(
            "Send me a daily digest of new registrations and withdrawals for the cohorts I facilitate"
        )
    )
    submit = SubmitField(_l("Save mail settings"))


def reminder_label(minutes: int) -> str:
    if minutes % 1440 == 0:
        return ngettext("%(num)s day before", "%(num)s days before", minutes // 1440)
    if minutes % 60 == 0:
        return ngettext("%(num)s hour before", "%(num)s hours before", minutes // 60)
    return ngettext("%(num)s minute before", "%(num)s minutes before", minutes)


class ReminderForm(FlaskForm):
    use_default = BooleanField(_l("Use this site's default reminders"))
    minutes = SelectMultipleField(
        _l("Remind registered learners"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField(_l("Save reminders"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.minutes.choices = [SelectChoice(m, reminder_label(m)) for m in REMINDER_CHOICES]


class RosterMessageForm(FlaskForm):
    audience = RadioField(
        _l("Send to"),
        choices=[
            SelectChoice("seats", _l("Everyone with a seat")),
            SelectChoice("waitlist", _l("The waitlist")),
            SelectChoice("all", _l("Both")),
        ],
        default="seats",
        validators=[DataRequired()],
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=MAX_SUBJECT)])
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=MAX_BODY)],
        description=_l("Plain text. Each person receives it by mail, with the session's details."),
    )
    submit = SubmitField(_l("Send the message"))
