from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from lms.cohorts.models import AttendanceStatus
from lms.cohorts.scheduling import MAX_CAPACITY, MAX_MINUTES
from lms.i18n import _l

ATTENDANCE_LABELS = {
    AttendanceStatus.present: _l("Present"),
    AttendanceStatus.late: _l("Late / part of the session"),
    AttendanceStatus.excused: _l("Excused"),
    AttendanceStatus.absent: _l("Absent"),
}


def https_only(form: Any, field: Any) -> None:
    if field.data and not field.data.strip().lower().startswith("https://"):
        raise ValidationError(str(_l("The join link must start with https://")))


class CohortForm(FlaskForm):
    course = SelectField(
        _l("Course"),
        validators=[DataRequired(message=_l("Choose a course."))],
        description=_l("Only courses that offer live sessions are listed."),
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the cohort a title.")), Length(max=200)],
        description=_l("For example: Tuesday evening session, Ohio affiliate."),
    )
    start_date = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Enter the date, for example 2026-12-01."))],
    )
    start_time = TimeField(
        _l("Start time"),
        validators=[InputRequired(message=_l("Enter the start time, for example 17:00."))],
        description=_l("In the time zone below, 24-hour clock."),
    )
    time_zone = SelectField(
        _l("Time zone"),
        validators=[DataRequired()],
        description=_l(
            "Where the session is held. Each person sees the time in their own time zone."
        ),
    )
    minutes = IntegerField(
        _l("Length in minutes"),
        validators=[
            InputRequired(message=_l("Enter the length in minutes.")),
            NumberRange(
                min=1,
                max=MAX_MINUTES,
                message=_l("The length must be between 1 and %(max)s minutes.", max=MAX_MINUTES),
            ),
        ],
    )
    join_url = URLField(
        _l("Join link"),
        validators=[Optional(), Length(max=500), https_only],
        description=_l("The meeting link (https:// only). Registered learners see it."),
    )
    location = StringField(
        _l("Location"),
        validators=[Optional(), Length(max=300)],
        description=_l('A room or address, or "Online".'),
    )
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            InputRequired(message=_l("Enter how many people can attend.")),
            NumberRange(
                min=1,
                max=MAX_CAPACITY,
                message=_l("The capacity must be between 1 and %(max)s.", max=MAX_CAPACITY),
            ),
        ],
        description=_l(
            "Registrations past the capacity join a waitlist, which moves up automatically when a seat frees."
        ),
    )
    registration_opens = DateTimeLocalField(
        _l("Registration opens"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
        description=_l("Optional, in the session's time zone. Empty: open now."),
    )
    registration_closes = DateTimeLocalField(
        _l("Registration closes"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
        description=_l("Optional, in the session's time zone. Empty: open until the session ends."),
    )
    facilitators = TextAreaField(
        _l("Facilitators"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "Email addresses of the facilitators, one per line. Each needs a facilitator account."
        ),
    )
    submit = SubmitField(_l("Save cohort"))

    def set_choices(self, courses: Iterable[tuple[str, str]], zones: Iterable[str]) -> None:
        self.course.choices = [SelectChoice("", str(_l("Choose a course")))] + [
            SelectChoice(value, label) for value, label in courses
        ]
        self.time_zone.choices = [SelectChoice(zone, zone.replace("_", " ")) for zone in zones]


class CancelForm(FlaskForm):
    note = TextAreaField(
        _l("Why is it cancelled?"),
        validators=[
            DataRequired(
                message=_l("Say why the cohort is cancelled: registered learners will read it.")
            ),
            Length(max=2000),
        ],
        description=_l("Registered learners see this note on the cohort page."),
    )
    submit = SubmitField(_l("Cancel this cohort"))


class AttendanceImportForm(FlaskForm):
    report = FileField(
        _l("Participant report (CSV)"),
        validators=[FileRequired(message=_l("Choose the CSV file to upload."))],
        description=_l(
            "Zoom: Reports > Usage > Participants > Export. UTF-8 or UTF-16. You will see a preview before anything changes."  # noqa: E501
        ),
    )
    submit = SubmitField(_l("Preview"))


class ApplyImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=200_000)])
    submit = SubmitField(_l("Apply this attendance"))


def attendance_form(
    enrollments: Iterable[Any],
    max_minutes: int,
    formdata: Any = None,
    data: dict[str, Any] | None = None,
) -> FlaskForm:
    """One form for the whole roster: a status and minutes field per learner holding a seat."""

    class RosterAttendanceForm(FlaskForm):
        submit = SubmitField(_l("Save attendance"))

    choices = [SelectChoice("", _l("Not recorded"))] + [
        SelectChoice(status.value, label) for status, label in ATTENDANCE_LABELS.items()
    ]
    for enrollment in enrollments:
        setattr(
            RosterAttendanceForm,
            f"status_{enrollment.id}",
            SelectField(_l("Attendance"), choices=choices, validators=[Optional()], default=""),
        )
        setattr(
            RosterAttendanceForm,
            f"minutes_{enrollment.id}",
            IntegerField(
                _l("Minutes attended"),
                validators=[
                    Optional(),
                    NumberRange(
                        min=0,
                        max=max_minutes,
                        message=_l("Between 0 and %(max)s.", max=max_minutes),
                    ),
                ],
            ),
        )
    return (
        RosterAttendanceForm(formdata=formdata, data=data)
        if formdata is not None
        else RosterAttendanceForm(data=data)
    )
