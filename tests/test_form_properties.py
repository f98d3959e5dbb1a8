"""Whatever anyone types into any form: never a 500, always a clear message, nothing half-written.

Every input has a limit and a clear message (docs/architecture.md, "Input"). Hypothesis posts
generated values to every form of the app as someone the route allows:

- every POST route of the URL map has an entry in ``POST_FORMS`` (a route added without one
  fails the suite, as in tests/test_authorization.py); an entry says who may use the route,
  how to build what it acts on (a fresh cohort, certificate, ... per example), which form class
  its fields come from, and one valid submission that the generator mutates;
- every GET form (search and filter forms) found on the app's pages has an entry in ``GET_FORMS``.

Values: valid ones, values of the field's own type (choices, numbers, dates, times), and junk
(any Unicode with control characters, empty, huge, numbers and dates out of range, markup),
with fields left out, repeated, and extra fields added. Before the random examples, a sweep
replaces each field of the valid submission by each of a few values (``SWEEP``) that broke
forms before, so those are tried on every run. CSRF is off in the test config (as in every
test that posts); tests/test_authorization.py checks that each POST route refuses a missing token.

What must hold for each example:

- the answer is never a 5xx (in tests an exception in a view propagates and fails the example);
- an answer that refuses the input (4xx, or a redirect to a page whose message is an error)
  says so: an error summary, a field's error message, an error flash, the error page's text,
  or for JSON a body with ``error``;
- when the input is refused, no table changed: every row of every table is compared before
  and after (the request commits once, in an after_request hook, and rolls back on >= 400).
  ``Form.may_keep`` names the few documented exceptions.

GET forms must never change a table at all.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from lms.jobs import wait_for_jobs
from tests.helpers import TEST_PASSWORD, login
from tests.helpers.authorization import PERSONAS, ROUTES
from tests.helpers.cohorts import cohort_form, schedule
from tests.helpers.forms import COURSE, ZOOM_HEADER, Stage, snapshot

EXAMPLES = int(os.environ.get("LMS_TEST_FUZZ_EXAMPLES", "25"))  # more for a deeper run
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FORTY_WORDS = " ".join(["reflection"] * 45)


# -- what the generator sends --------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file field's value (turned into a fresh stream for each post)."""

    data: bytes
    filename: str


# Values that have broken form handling somewhere: numbers that are not numbers, dates out of
# range, NUL and other control characters, markup, format strings, right-to-left marks, huge text.
NASTY = [
    "",
    " ",
    "0",
    "-1",
    "00",
    "1.5",
    "1e9",
    "-0",
    "+1",
    "NaN",
    "inf",
    "9" * 40,
    "²",
    "١٢",
    "½",
    "Ⅻ",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "1900-01-01",
    "24:00",
    "23:59:60",
    "00:00",
    "2026-12-01T25:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "\x00",
    "a\x00b",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\u2028",
    "😀",
    "ǅ",
    "İ",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%(x)s",
    "%s",
    "{0}",
    '=HYPERLINK("x")',
    "https://",
    "javascript:alert(1)",
    "//evil.example",
    "https://evil.example/\x00",
    "a@b",
    "@",
    "name@example.org",
    "NAME@EXAMPLE.ORG ",
    "a" * 255 + "@example.org",
    "x" * 300,
    "x" * 5000,
    "é" * 100_000,
    "x" * (5 * 1024 * 1024),  # past MAX_CONTENT_LENGTH: a 413 and its page
]

junk = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),  # any Unicode but surrogates: control characters included
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.times().map(lambda t: t.strftime("%H:%M")),
)
extra_names = st.one_of(
    st.sampled_from(
        [
            "csrf_token",
            "submit",
            "next",
            "id",
            "user_id",
            "is_admin",
            "status",
            "cohort_id",
            "enrollment_id",
            "page",
            "locale",
        ]
    ),
    st.text(max_size=12),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(NASTY[:40]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
filenames = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'), max_size=40
)
file_bytes = st.one_of(
    st.binary(max_size=2000),
    st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=8).map(
        lambda rows: (ZOOM_HEADER + "\n".join(",".join(cells) for cells in rows)).encode("utf-8")
    ),
    st.sampled_from(
        [
            b"",
            b"\xef\xbb\xbf",
            "\ufeffName,Email\n".encode("utf-16"),
            ZOOM_HEADER.encode("utf-8") * 3,
        ]
    ),
)
uploads = st.builds(Upload, file_bytes, filenames)


def typed_values(form_field: Any) -> st.SearchStrategy[Any] | None:
    """Values of a WTForms field's own type (choices, numbers, dates...); None for plain text."""
    kind = type(form_field).__name__
    if kind in ("SelectField", "RadioField"):
        values = [str(option[0]) for option in form_field.iter_choices()]
        return st.sampled_from(values) if values else None
    if kind == "BooleanField":
        return st.sampled_from(["y", "", "on", "false", "0"])
    if kind == "IntegerField":
        return st.integers(min_value=-5, max_value=20_000).map(str)
    if kind == "DateField":
        return st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
    if kind == "TimeField":
        return st.times().map(lambda t: t.strftime("%H:%M"))
    if kind == "DateTimeLocalField":
        return st.datetimes(
            min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)
        ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))
    if kind == "EmailField":
        return st.emails().map(str)
    if kind == "URLField":
        return st.text(max_size=30).map(lambda path: "https://" + path)
    if kind == "PasswordField":
        return st.text(min_size=8, max_size=30)
    if kind == "FileField":
        return uploads
    if kind == "SubmitField":
        return st.sampled_from([str(form_field.label.text), "1", ""])
    return None


@st.composite
def submissions(
    draw: Any, choices: dict[str, st.SearchStrategy[Any]], valid: dict[str, Any]
) -> list[tuple[str, Any]]:
    """Pairs of (field, value): the valid submission, it with one field changed, or anything."""
    names = sorted(set(choices) | set(valid))

    def value(name: str) -> st.SearchStrategy[Any]:
        options = [st.just(valid[name])] if name in valid else []
        return st.one_of(*options, choices.get(name, junk), junk)

    mode = draw(st.sampled_from(["valid", "one", "any"]))
    pairs: list[tuple[str, Any]] = []
    if mode in ("valid", "one"):
        pairs = list(valid.items())
        if mode == "one" and names:
            name = draw(st.sampled_from(names))
            pairs = [(n, v) for n, v in pairs if n != name]
            how = draw(st.sampled_from(["replace", "leave out", "repeat"]))
            if how == "replace":
                pairs.append((name, draw(value(name))))
            elif how == "repeat":
                pairs.extend(
                    (name, item) for item in draw(st.lists(value(name), min_size=2, max_size=3))
                )
    else:
        for name in names:
            count = draw(st.sampled_from([0, 1, 1, 1, 2]))  # left out, once (mostly), repeated
            pairs.extend((name, draw(value(name))) for _ in range(count))
    pairs.extend(draw(st.lists(st.tuples(extra_names, junk), max_size=3)))
    return pairs


@st.composite
def json_bodies(draw: Any, names: list[str], valid: dict[str, Any]) -> Any:
    """A JSON body: the valid one, it with one key changed, any object, or not an object at all."""
    mode = draw(st.sampled_from(["valid", "one", "any", "not an object"]))
    if mode == "not an object":
        return draw(st.one_of(json_values, st.binary(max_size=200)))
    body = dict(valid) if mode in ("valid", "one") else {}
    if mode == "one" and names:
        body[draw(st.sampled_from(names))] = draw(json_values)
    elif mode == "any":
        for name in names:
            if draw(st.booleans()):
                body[name] = draw(json_values)
    body.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return body


# -- what a route acts on, built fresh for each example ---------------------------------------------


Arranged = dict[
    str, Any
]  # "url" (required), "valid" (a valid submission), "ids" (for a form factory)


@dataclass(frozen=True)
class Form:
    persona: str  # "anonymous", or the role of a person made for each example who may use the route
    arrange: Callable[
        [Stage, Any], Arranged
    ]  # (stage, the persona's user or None) -> url, valid, ids
    form: Any = None  # a WTForms class, or a callable(arranged) returning a bound form: the fields
    names: tuple[
        str, ...
    ] = ()  # field names read without a WTForms form (request.form.get, JSON keys)
    body: str = "form"  # "form" (urlencoded or multipart), "json", or "query" (GET)
    may_keep: frozenset[str] = (
        frozenset()
    )  # tables a refused request may still write (documented below)
    typed: dict[str, st.SearchStrategy[Any]] = field(
        default_factory=dict
    )  # values of a field's own type
    sweep: bool = True  # False where another entry already sweeps the same parsing (the exports)


def _cohort_form(email: str) -> dict[str, str]:
    return cohort_form(email)


def _arrange_edit(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(me)
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/edit",
        "valid": {**_cohort_form(me.email), "capacity": "12", "title": "Edited"},
    }


def _arrange_attendance(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(me, minutes=60)
    ids = [stage.registered(cohort_id) for _ in range(2)]
    valid = {
        f"status_{ids[0]}": "present",
        f"minutes_{ids[0]}": "60",
        f"status_{ids[1]}": "late",
        f"minutes_{ids[1]}": "20",
        "submit": "Save attendance",
    }
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/attendance",
        "valid": valid,
        "ids": ids,
        "minutes": 60,
    }


def _attendance_form(arranged: Arranged) -> Any:
    from lms.cohorts.forms import attendance_form
    from lms.db import db_session
    from lms.learning.models import Enrollment

    return attendance_form(
        [db_session.get(Enrollment, i) for i in arranged["ids"]], arranged["minutes"], formdata=None
    )


def _report_for(emails: list[str], minutes: int = 50) -> bytes:
    return (
        ZOOM_HEADER
        + "".join(f"Person {n},{email},,,{minutes},No\n" for n, email in enumerate(emails))
    ).encode("utf-8")


def _arrange_import(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(me)
    enrollment_id = stage.registered(cohort_id)
    report = _report_for([stage.email_of(enrollment_id)])
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/attendance/import",
        "valid": {"report": Upload(report, "participants.csv"), "submit": "Preview"},
    }


def _arrange_apply(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(me)
    enrollment_id = stage.registered(cohort_id)
    token = stage.import_token(me, cohort_id, _report_for([stage.email_of(enrollment_id)]))
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/attendance/import/apply",
        "valid": {"token": token, "submit": "Apply"},
    }


def _arrange_reissue_after_revocation(stage: Stage, me: Any) -> Arranged:
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.db import db_session

    code = stage.certificate()
    with stage.app.test_request_context():
        services.revoke_certificate(
            services.find_certificate(code),
            db_session.get(User, me.id),
            "Issued to the wrong person.",
        )
        db_session.commit()
    return {
        "url": f"/certificates/{code}/reissue-after-revocation",
        "valid": {"reason": "The appeal was upheld."},
    }


def _arrange_issue_one(stage: Stage, me: Any) -> Arranged:
    cohort_id, enrollment_id = stage.completed(me)
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/certificates/issue",
        "valid": {"enrollment_id": str(enrollment_id)},
    }


def _arrange_issue_cohort(stage: Stage, me: Any) -> Arranged:
    cohort_id, _enrollment_id = stage.completed(me)
    stage.registered(cohort_id)  # and one who has not completed
    return {"url": f"/facilitate/cohorts/{cohort_id}/certificates", "valid": {}}


def _arrange_withdraw(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(stage.person("facilitator"), capacity=1)
    stage.registered(cohort_id, me)
    stage.registered(cohort_id)  # waitlisted: moves up when the learner withdraws
    return {"url": f"/cohorts/{cohort_id}/withdraw", "valid": {}}


def _reflection(stage: Stage, me: Any, suffix: str, valid: dict[str, Any]) -> Arranged:
    enrollment_id = stage.recording_enrollment(me)
    return {"url": f"/learn/{enrollment_id}/outcome-1/reflection{suffix}", "valid": valid}


def _forms() -> dict[str, Form]:
    from lms.accounts.forms import (
        LoginForm,
        ProfileForm,
        RegisterForm,
        ResetPasswordForm,
        ResetRequestForm,
    )
    from lms.admin.forms import ActiveForm, ConfirmEmailForm, RetryJobForm, RoleForm, SyncForm
    from lms.certificates.views import ReissueAfterRevocationForm, RevokeForm
    from lms.cohorts.forms import ApplyImportForm, AttendanceImportForm, CancelForm, CohortForm
    from lms.credentials.views import CheckForm
    from lms.forms import ActionForm
    from lms.forms import ActionForm as CertificateActionForm
    from lms.forms import ActionForm as MailActionForm
    from lms.learning.forms import DeleteAccountForm, ReflectionForm, StartForm
    from lms.notifications.forms import ReminderForm, RosterMessageForm, SettingsForm

    counter = iter(range(10**9))

    def new_email() -> str:
        return f"new{next(counter)}@example.org"

    return {
        "lms_courses.switch_language": Form(
            "learner",
            lambda s, me: {"url": "/language", "valid": {"locale": "es", "next": "/me"}},
            names=("locale", "next"),
            typed={"locale": st.sampled_from(["en", "es", "fr", "EN", "es-MX"])},
        ),
        "lms_accounts.login": Form(
            "anonymous",
            lambda s, me: {
                "url": "/auth/login",
                "valid": {"email": s.person().email, "password": TEST_PASSWORD, "next": "/me"},
            },
            LoginForm,
        ),
        "lms_accounts.register": Form(
            "anonymous",
            lambda s, me: {
                "url": "/auth/register",
                "valid": {
                    "display_name": "Ana Nueva",
                    "email": new_email(),
                    "password": TEST_PASSWORD,
                    "confirm": TEST_PASSWORD,
                },
            },
            RegisterForm,
        ),
        "lms_accounts.reset_request": Form(
            "anonymous",
            lambda s, me: {"url": "/auth/reset", "valid": {"email": s.person().email}},
            ResetRequestForm,
        ),
        "lms_accounts.reset_password": Form(
            "anonymous",
            lambda s, me: {
                "url": f"/auth/reset/{s.reset_token(s.person())}",
                "valid": {
                    "password": "a brand new passphrase",
                    "confirm": "a brand new passphrase",
                },
            },
            ResetPasswordForm,
        ),
        "lms_accounts.profile": Form(
            "learner",
            lambda s, me: {
                "url": "/auth/profile",
                "valid": {
                    "display_name": "Renamed",
                    "locale": "es",
                    "time_zone": "Europe/Madrid",
                    "affiliate": "Ohio EA",
                    "audience_role": "teacher",
                },
            },
            ProfileForm,
        ),
        "lms_accounts.logout": Form("learner", lambda s, me: {"url": "/auth/logout", "valid": {}}),
        "lms_accounts.sign_out_everywhere": Form(
            "learner", lambda s, me: {"url": "/auth/sign-out-everywhere", "valid": {}}
        ),
        "lms_accounts.resend_confirmation": Form(
            "learner",
            lambda s, me: {"url": "/auth/confirm", "valid": {"next": "/me"}},
            names=("next",),
        ),
        "lms_learning.start": Form(
            "learner",
            lambda s, me: {"url": f"/courses/{COURSE}/start", "valid": {"path": "recording"}},
            StartForm,
        ),
        "lms_learning.progress": Form(
            "learner",
            lambda s, me: {
                "url": f"/learn/{s.recording_enrollment(me)}/recording/progress",
                "valid": {"segments": [[0, 10]], "duration": 30},
            },
            names=("segments", "duration"),
            body="json",
        ),
        # A submit with too few words is refused (422) but keeps what was typed as a draft, on
        # purpose: lms.learning.views.reflection commits the draft before answering.
        "lms_learning.reflection": Form(
            "learner",
            lambda s, me: _reflection(
                s, me, "", {"body": FORTY_WORDS, "shared": "y", "submit": "Submit"}
            ),
            ReflectionForm,
            may_keep=frozenset({"lms_reflection"}),
        ),
        "lms_learning.reflection_draft": Form(
            "learner",
            lambda s, me: _reflection(s, me, "/draft", {"body": "first thoughts"}),
            names=("body",),
            body="json",
        ),
        "lms_learning.delete_account": Form(
            "learner",
            lambda s, me: {"url": "/me/delete", "valid": {"password": TEST_PASSWORD}},
            DeleteAccountForm,
        ),
        "lms_cohorts.new_cohort": Form(
            "facilitator",
            lambda s, me: {"url": "/facilitate/cohorts/new", "valid": _cohort_form(me.email)},
            CohortForm,
        ),
        "lms_cohorts.edit_cohort": Form("facilitator", _arrange_edit, CohortForm),
        "lms_cohorts.cancel_cohort": Form(
            "facilitator",
            lambda s, me: {
                "url": f"/facilitate/cohorts/{s.cohort(me)}/cancel",
                "valid": {"note": "Snow day."},
            },
            CancelForm,
        ),
        "lms_cohorts.close_cohort": Form(
            "facilitator",
            lambda s, me: {"url": f"/facilitate/cohorts/{s.cohort(me)}/close", "valid": {}},
            ActionForm,
        ),
        "lms_cohorts.save_attendance": Form("facilitator", _arrange_attendance, _attendance_form),
        "lms_cohorts.import_attendance": Form("facilitator", _arrange_import, AttendanceImportForm),
        "lms_cohorts.apply_import": Form("facilitator", _arrange_apply, ApplyImportForm),
        "lms_cohorts.register": Form(
            "learner",
            lambda s, me: {
                "url": f"/cohorts/{s.cohort(s.person('facilitator'), capacity=1)}/register",
                "valid": {},
            },
            ActionForm,
        ),
        "lms_cohorts.withdraw": Form("learner", _arrange_withdraw, ActionForm),
        "lms_certificates.issue_one": Form(
            "facilitator", _arrange_issue_one, CertificateActionForm, names=("enrollment_id",)
        ),
        "lms_certificates.issue_cohort": Form(
            "facilitator", _arrange_issue_cohort, CertificateActionForm
        ),
        "lms_certificates.build_zip": Form(
            "facilitator",
            lambda s, me: {
                "url": f"/facilitate/cohorts/{s.completed(me)[0]}/certificates/zip",
                "valid": {},
            },
            CertificateActionForm,
        ),
        "lms_admin.retry_job": Form(
            "admin",
            lambda s, me: {"url": f"/admin/jobs/{s.failed_job()}/retry", "valid": {}},
            RetryJobForm,
        ),
        "lms_certificates.revoke": Form(
            "admin",
            lambda s, me: {
                "url": f"/certificates/{s.certificate()}/revoke",
                "valid": {"reason": "Issued by mistake."},
            },
            RevokeForm,
        ),
        "lms_credentials.check": Form(
            "anonymous",
            lambda s, me: {
                "url": "/credentials/verify",
                "valid": {
                    "credential": '{"type": ["OpenBadgeCredential"]}',
                    "email": "a@example.org",
                },
            },
            CheckForm,
        ),
        "lms_certificates.reissue": Form(
            "admin",
            lambda s, me: {"url": f"/certificates/{s.certificate()}/reissue", "valid": {}},
            CertificateActionForm,
        ),
        "lms_certificates.reissue_after_revocation": Form(
            "admin", _arrange_reissue_after_revocation, ReissueAfterRevocationForm
        ),
        "lms_admin.change_role": Form(
            "admin",
            lambda s, me: {
                "url": f"/admin/people/{s.person().id}/roles",
                "valid": {"role": "facilitator", "grant": "1", "next": "/admin/people"},
            },
            RoleForm,
        ),
        "lms_admin.change_active": Form(
            "admin",
            lambda s, me: {
                "url": f"/admin/people/{s.person().id}/active",
                "valid": {"active": "0", "next": "/admin/people?q=x"},
            },
            ActiveForm,
        ),
        "lms_admin.confirm_email": Form(
            "admin",
            lambda s, me: {
                "url": f"/admin/people/{s.person().id}/confirm-email",
                "valid": {"next": "/admin/people?q=x"},
            },
            ConfirmEmailForm,
        ),
        "lms_admin.sync_courses": Form(
            "admin", lambda s, me: {"url": "/admin/courses/sync", "valid": {}}, SyncForm
        ),
        "lms_notifications.settings": Form(
            "facilitator",
            lambda s, me: {"url": "/me/mail", "valid": {"reminders": "y", "digest": "y"}},
            SettingsForm,
        ),
        "lms_notifications.unsubscribe_one_click": Form(
            "anonymous", _arrange_unsubscribe, names=("List-Unsubscribe",)
        ),
        "lms_notifications.cohort_reminders": Form(
            "facilitator",
            lambda s, me: {
                "url": f"/facilitate/cohorts/{s.cohort(me)}/mail/reminders",
                "valid": {"minutes": ["1440", "15"]},
            },
            ReminderForm,
        ),
        "lms_notifications.cohort_message": Form(
            "facilitator", _arrange_roster_message, RosterMessageForm
        ),
        "lms_notifications.retry_delivery": Form("admin", _arrange_failed_delivery, MailActionForm),
        "lms_records.evaluation": Form(
            "learner", _arrange_evaluation, names=("q-useful", "q-next-format", "q-comments")
        ),
    }


def _arrange_unsubscribe(stage: Stage, me: Any) -> Arranged:
    from lms.notifications.links import unsubscribe_token

    with stage.app.app_context():
        token = unsubscribe_token(stage.person().id, "reminders")
    return {"url": f"/mail/unsubscribe/{token}", "valid": {"List-Unsubscribe": "One-Click"}}


def _arrange_roster_message(stage: Stage, me: Any) -> Arranged:
    cohort_id = stage.cohort(me)
    stage.registered(cohort_id)
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/mail/message",
        "valid": {
            "audience": "seats",
            "subject": "Bring a notebook",
            "body": "See you on Tuesday.",
        },
    }


def _arrange_failed_delivery(stage: Stage, me: Any) -> Arranged:
    from lms.db import db_session
    from lms.notifications.models import DeliveryStatus, MailDelivery

    person = stage.person()
    with stage.app.app_context():
        row = MailDelivery(
            kind="reminder",
            user_id=person.id,
            to_address=person.email,
            data={},
            status=DeliveryStatus.failed,
            attempts=5,
            last_error="550",
            subject="",
        )
        db_session.add(row)
        db_session.commit()
        delivery_id = row.id
    return {"url": f"/admin/mail/{delivery_id}/retry", "valid": {}}


def _arrange_evaluation(stage: Stage, me: Any) -> Arranged:
    """A completed recording of the flagship course: its session evaluation is open."""
    from sqlalchemy import update

    from lms.db import db_session, utcnow
    from lms.learning.models import Enrollment, EnrollmentStatus

    enrollment_id = stage.recording_enrollment(me)
    with stage.app.app_context():
        db_session.execute(
            update(Enrollment)
            .where(Enrollment.id == enrollment_id)
            .values(status=EnrollmentStatus.completed, completed_at=utcnow())
        )
        db_session.commit()
    return {
        "url": f"/learn/{enrollment_id}/evaluation",
        "valid": {"q-useful": "4", "q-next-format": "1", "q-comments": "More time."},
    }


def _report_filters() -> dict[str, st.SearchStrategy[Any]]:
    from lms.accounts.models import AUDIENCE_ROLES
    from lms.learning.models import EnrollmentStatus, LearningPath
    from lms.reports.filters import CERTIFICATE_STATUSES, DATE_FIELDS

    days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
    return {
        "course": st.sampled_from([COURSE, "community-partnerships", "no-such-course"]),
        "path": st.sampled_from([p.value for p in LearningPath]),
        "cohort": st.integers(min_value=0, max_value=2**40).map(str),
        "facilitator": st.sampled_from(
            ["facilitator1@example.org", "1", "FACILITATOR1@EXAMPLE.ORG"]
        ),
        "status": st.sampled_from([s.value for s in EnrollmentStatus]),
        "dates": st.sampled_from(DATE_FIELDS),
        "from": days,
        "to": days,
        "affiliate": st.text(max_size=20),
        "audience_role": st.sampled_from(AUDIENCE_ROLES),
        "certificate_status": st.sampled_from(CERTIFICATE_STATUSES),
        "page": st.integers(min_value=-3, max_value=2**70).map(str),
    }


def _get_forms() -> dict[str, Form]:
    from lms.admin.forms import AuditFilterForm, JobFilterForm, PeopleSearchForm
    from lms.certificates.views import VerifyForm
    from lms.courses.presentation import CatalogFilters
    from lms.reports.filters import ARG_NAMES

    reports = {"names": (*ARG_NAMES, "page"), "body": "query", "typed": _report_filters()}
    page = {"page": st.integers(min_value=-3, max_value=2**70).map(str)}
    entries = {
        "lms_courses.catalog": Form(
            "anonymous",
            lambda s, me: {"url": "/", "valid": {"path": "live", "q": "racial"}},
            names=tuple(f.name for f in fields(CatalogFilters)),
            body="query",
            typed={
                "path": st.sampled_from(["live", "recording", "self_paced"]),
                "audience": st.sampled_from(["teacher", "education-support-professional"]),
            },
        ),
        "lms_certificates.verify_form": Form(
            "anonymous",
            lambda s, me: {"url": "/verify", "valid": {"code": "ABCD-EFGH-JKMN-PQRS"}},
            VerifyForm,
            body="query",
        ),
        "lms_admin.people": Form(
            "admin",
            lambda s, me: {"url": "/admin/people", "valid": {"q": "learner", "role": "admin"}},
            PeopleSearchForm,
            names=("page",),
            body="query",
            typed=page,
        ),
        "lms_admin.audit": Form(
            "admin",
            lambda s, me: {
                "url": "/admin/audit",
                "valid": {"action": "cohort.created", "start": "2020-01-01"},
            },
            AuditFilterForm,
            names=("page",),
            body="query",
            typed=page,
        ),
        "lms_admin.jobs": Form(
            "admin",
            lambda s, me: {"url": "/admin/jobs", "valid": {"status": "failed"}},
            JobFilterForm,
            names=("page",),
            body="query",
            typed=page,
        ),
    }
    entries["lms_records.transcript"] = Form(
        "learner",
        lambda s, me: {"url": "/me/transcript", "valid": {"year": "2026"}},
        names=("year", "from", "to"),
        body="query",
        typed={
            "year": st.integers(min_value=-5, max_value=10_000).map(str),
            "from": st.dates().map(date.isoformat),
            "to": st.dates().map(date.isoformat),
        },
    )
    entries["lms_records.admin_evaluations"] = Form(
        "admin",
        lambda s, me: {"url": "/admin/evaluations", "valid": {"course": COURSE}},
        names=("course",),
        body="query",
    )
    for kind, persona in (("admin", "admin"), ("facilitator", "facilitator")):
        prefix = "/admin" if kind == "admin" else "/facilitate"
        for suffix in ("_csv", "_xlsx"):
            url = f"{prefix}/reports/credits{suffix.replace('_', '.')}"
            entries[f"lms_records.{kind}_credits{suffix}"] = Form(
                persona,
                lambda s, me, url=url: {
                    "url": url,
                    "valid": {"path": "live", "from": "2020-01-01"},
                },
                **reports,
                sweep=False,
            )
    for kind, persona in (("admin", "admin"), ("facilitator", "facilitator")):
        prefix = "/admin" if kind == "admin" else "/facilitate"
        for suffix in ("", "_csv", "_xlsx"):
            url = f"{prefix}/reports/completions{suffix.replace('_', '.')}"
            # The exports parse the same filters as the page, whose entry sweeps them.
            entries[f"lms_reports.{kind}_completions{suffix}"] = Form(
                persona,
                lambda s, me, url=url: {
                    "url": url,
                    "valid": {"path": "live", "from": "2020-01-01"},
                },
                **reports,
                sweep=not suffix,
            )
    return entries


POST_FORMS = _forms()
GET_FORMS = _get_forms()


# -- reading the answer and the database ------------------------------------------------------------

ERROR_MARKERS = ('role="alert"', 'class="error-message"', 'class="flash flash-error"')


def error_page_texts(app: Any) -> set[str]:
    """The error page's titles and messages (lms.web.ERROR_MESSAGES), as headings, in every language."""
    from flask_babel import force_locale

    from lms.i18n import domain
    from lms.web.errors import ERROR_MESSAGES

    texts = set()
    with app.test_request_context():
        for locale in app.config["LMS_LANGUAGES"]:
            with force_locale(locale):
                for title, message in ERROR_MESSAGES.values():
                    texts.update((f"<h1>{domain.gettext(title)}</h1>", domain.gettext(message)))
    return texts


def says_refused(page: str, error_texts: set[str]) -> bool:
    text = html.unescape(page)
    return any(marker in page for marker in ERROR_MARKERS) or any(
        message in text for message in error_texts
    )


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def field_choices(app: Any, entry: Form, arranged: Arranged) -> dict[str, st.SearchStrategy[Any]]:
    """Each field's own-type values, read from the entry's WTForms form (csrf_token left out)."""
    choices: dict[str, st.SearchStrategy[Any]] = dict.fromkeys(entry.names, junk)
    if entry.form is not None:
        with app.test_request_context():
            form = (
                entry.form(formdata=None, meta={"csrf": False})
                if isinstance(entry.form, type)
                else entry.form(arranged)
            )
            for name, form_field in form._fields.items():
                if name != "csrf_token":
                    typed = typed_values(form_field)
                    choices[name] = junk if typed is None else typed
    choices.update(entry.typed)
    return choices


def encode(pairs: list[tuple[str, Any]]) -> MultiDict:
    return MultiDict(
        [
            (name, (io.BytesIO(value.data), value.filename) if isinstance(value, Upload) else value)
            for name, value in pairs
        ]
    )


def send(client: Any, entry: Form, url: str, payload: Any) -> Any:
    if entry.body == "query":
        return client.get(
            url, query_string=MultiDict([(n, v) for n, v in payload if not isinstance(v, Upload)])
        )
    if entry.body == "json":
        if isinstance(payload, bytes):
            return client.post(url, data=payload, content_type="application/json")
        return client.post(url, data=json.dumps(payload), content_type="application/json")
    return client.post(url, data=encode(payload))


@dataclass
class Outcome:
    status: int
    refused: bool
    says_so: bool
    page: str


def read_outcome(client: Any, response: Any, entry: Form, error_texts: set[str]) -> Outcome:
    status = response.status_code
    if entry.body == "json" and status >= 400:
        body = response.get_json(silent=True)
        return Outcome(
            status,
            True,
            isinstance(body, dict) and "error" in body,
            response.get_data(as_text=True)[:2000],
        )
    if status >= 400:
        page = response.get_data(as_text=True)
        if response.mimetype == "text/plain":  # the exports answer bad filters in plain text
            return Outcome(status, True, bool(page.strip()), page[:2000])
        return Outcome(status, True, says_refused(page, error_texts), page[:4000])
    if 300 <= status < 400:
        # The message is on the page the redirect leads to (a flash).
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        refused = 'class="flash flash-error"' in page and 'class="flash flash-success"' not in page
        return Outcome(
            status, refused, True, page[:4000]
        )  # refused here means an error flash: it says so
    return Outcome(status, False, True, "")


# -- the tests ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):
    """Registration and resets hash with scrypt on purpose; here it would only make examples slow."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    import lms.accounts.models
    import lms.accounts.services

    cheap = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    monkeypatch.setattr(lms.accounts.models, "generate_password_hash", cheap)
    monkeypatch.setattr(lms.accounts.services, "generate_password_hash", cheap)


def test_every_post_route_has_an_entry(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    missing = sorted(posts - set(POST_FORMS))
    assert not missing, (
        f"POST routes without an entry in tests/test_form_properties.py POST_FORMS: {missing}"
    )
    stale = sorted(set(POST_FORMS) - posts)
    assert not stale, f"entries for POST routes that no longer exist: {stale}"


def test_every_get_form_on_every_page_has_an_entry(app, world):
    """Renders every GET page of the authorization table as someone allowed, and reads its forms."""
    adapter = app.url_map.bind("lms.test")
    found: dict[str, set[str]] = {}
    for route in ROUTES.values():
        if route.method != "GET":
            continue
        persona = next((p for p in reversed(PERSONAS) if route.expected(p) == "ok"), None)
        if persona is None:
            continue
        client = app.test_client()
        if persona != "anonymous":
            login(client, world.users[persona])
        url = route.url.format(**world.ids)
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        for form in re.finditer(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
            attributes = form.group(1)
            if not re.search(r'method="get"', attributes, re.I):
                continue
            action = re.search(r'action="([^"]*)"', attributes)
            path = (
                html.unescape(action.group(1)).split("?")[0]
                if action and action.group(1)
                else url.split("?")[0]
            )
            endpoint, _args = adapter.match(path, method="GET")
            names = set(
                re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', form.group(2))
            )
            found.setdefault(endpoint, set()).update(names)
    assert found, "no GET form found: the page scan is broken"
    missing = sorted(set(found) - set(GET_FORMS))
    assert not missing, f"GET forms without an entry in GET_FORMS: {missing}"
    for endpoint, names in found.items():
        entry = GET_FORMS[endpoint]
        known = set(field_choices(app, entry, {}))
        assert names <= known, (
            f"{endpoint}: fields on the page that the entry does not fuzz: {sorted(names - known)}"
        )


# Every field of a valid submission is replaced by each of these in turn, on every run: the values
# the random examples might take many runs to reach (hypothesis explores the rest).
SWEEP = [
    "",
    "\x00",
    "²",
    "-1",
    "9" * 40,
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "x" * 5000,
    "😀\u202e\r\n",
    "' OR '1'='1",
]
JSON_SWEEP = [
    None,
    True,
    "",
    "\x00",
    "²",
    -1,
    0,
    1e308,
    10**30,
    -(10**30),
    [],
    {},
    [[0, 1e308]],
    [[None, 1]],
    "x" * 5000,
]
# Whole JSON bodies: empty, not UTF-8, not JSON, nested past Python's recursion limit, cut short.
RAW_JSON_SWEEP = [
    b"",
    b"\xff\xfe\x00",
    b"NaN",
    b"[" * 50_000 + b"]" * 50_000,
    b'{"a": ' * 5_000 + b"1" + b"}" * 5_000,
    b'{"body": "cut',
]


class Runner:
    """Posts submissions to one route as someone allowed, and checks each answer."""

    def __init__(self, app: Any, make_user: Any, endpoint: str, entry: Form) -> None:
        self.app, self.endpoint, self.entry = app, endpoint, entry
        self.stage = Stage(app, make_user)
        self.error_texts = error_page_texts(app)
        self._choices: dict[str, st.SearchStrategy[Any]] | None = None

    def choices(self, arranged: Arranged) -> dict[str, st.SearchStrategy[Any]]:
        """The fields and their values; a form class's are read once, a factory's per world."""
        if not isinstance(self.entry.form, type) and self.entry.form is not None:
            return field_choices(self.app, self.entry, arranged)
        if self._choices is None:
            self._choices = field_choices(self.app, self.entry, arranged)
        return self._choices

    def prepare(self) -> tuple[Any, Arranged]:
        """A fresh world for the route: the persona (signed in) and what the route acts on."""
        me = None if self.entry.persona == "anonymous" else self.stage.person(self.entry.persona)
        arranged = self.entry.arrange(self.stage, me)
        client = self.app.test_client()
        if me is not None:
            login(client, me)
        return client, arranged

    def names(self, arranged: Arranged) -> list[str]:
        return sorted(set(self.choices(arranged)) | set(arranged.get("valid", {})))

    def check(self, client: Any, arranged: Arranged, payload: Any) -> bool:
        """Send ``payload`` and check the answer; returns whether the request was accepted."""
        # Jobs run in this process after a commit (credential signing after a certificate is
        # issued): let them finish, so a snapshot shows only what this request changed.
        wait_for_jobs(self.app)
        before = snapshot(self.app)
        response = send(client, self.entry, arranged["url"], payload)
        wait_for_jobs(self.app)
        after = snapshot(self.app)
        outcome = read_outcome(client, response, self.entry, self.error_texts)
        where = f"{self.endpoint} as {self.entry.persona}: {response.status_code}"
        assert outcome.status < 500, where
        assert outcome.says_so, f"{where}: refused without a message:\n{outcome.page}"
        changed = changed_tables(before, after)
        if self.entry.body == "query":
            assert not changed, f"{where}: a GET changed {sorted(changed)}"
        elif outcome.refused:
            assert not changed - self.entry.may_keep, (
                f"{where}: refused, yet changed {sorted(changed)}:\n{outcome.page}"
            )
        return not outcome.refused or bool(changed)

    def sweep(self) -> None:
        """Each field of the valid submission replaced by each SWEEP value (a fresh world after any change)."""
        if not self.entry.sweep:
            return
        client, arranged = self.prepare()
        for name in self.names(arranged):
            for value in JSON_SWEEP if self.entry.body == "json" else SWEEP:
                valid = arranged.get("valid", {})
                if self.entry.body == "json":
                    payload: Any = {**valid, name: value}
                else:
                    payload = [(n, v) for n, v in valid.items() if n != name] + [(name, value)]
                try:
                    accepted = self.check(client, arranged, payload)
                except AssertionError as error:
                    raise AssertionError(
                        f"{name}={value[:40]!r}: {error}"
                        if isinstance(value, str)
                        else f"{name}={value!r}: {error}"
                    ) from None
                if accepted:
                    client, arranged = self.prepare()
        if self.entry.body == "json":
            for raw in RAW_JSON_SWEEP:
                try:
                    accepted = self.check(client, arranged, raw)
                except AssertionError as error:
                    raise AssertionError(f"body {raw[:20]!r}...: {error}") from None
                if accepted:
                    client, arranged = self.prepare()

    def explore(self) -> None:
        @SETTINGS
        @given(data=st.data())
        def example(data: Any) -> None:
            client, arranged = self.prepare()
            valid = arranged.get("valid", {})
            if self.entry.body == "json":
                payload = data.draw(json_bodies(self.names(arranged), valid), label="json")
            else:
                payload = data.draw(submissions(self.choices(arranged), valid), label="fields")
            self.check(client, arranged, payload)

        example()


@pytest.mark.parametrize("endpoint", sorted(POST_FORMS))
def test_any_input_to_a_form_is_answered_clearly_and_never_half_written(app, make_user, endpoint):
    runner = Runner(app, make_user, endpoint, POST_FORMS[endpoint])
    runner.sweep()
    runner.explore()


@pytest.mark.parametrize("endpoint", sorted(GET_FORMS))
def test_any_search_or_filter_is_answered_clearly_and_changes_nothing(app, make_user, endpoint):
    stage = Stage(app, make_user)
    facilitator = stage.person("facilitator")
    stage.completed(facilitator)  # a report row, a cohort, audit events to search through
    stage.certificate()
    runner = Runner(app, make_user, endpoint, GET_FORMS[endpoint])
    runner.sweep()
    runner.explore()


# -- the values that once broke a form, each with the message it now gets -------------------------------


def test_a_cohort_date_out_of_range_is_explained_on_its_field(app, make_user):
    facilitator = make_user("facilitator")
    client = app.test_client()
    login(client, facilitator)
    for field_name, value in (
        ("start_date", "9999-12-31"),
        ("start_date", "0001-01-01"),
        ("registration_closes", "9999-12-31T23:59"),
    ):
        response = client.post(
            "/facilitate/cohorts/new", data={**cohort_form(facilitator.email), field_name: value}
        )
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422, (field_name, value)
        assert re.search(
            rf'id="{field_name}-error">\s*Choose a date in the years 2000 to 2100\.', page
        ), (field_name, value)


def test_numbers_that_are_not_ascii_digits_are_refused_with_a_message(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin)
    response = client.get("/admin/reports/completions", query_string={"cohort": "²"})
    assert response.status_code == 400 and "A cohort is chosen by its number." in response.get_data(
        as_text=True
    )
    assert (
        client.get("/admin/reports/completions.csv", query_string={"cohort": "9" * 40}).status_code
        == 400
    )
    assert client.get("/admin/people", query_string={"page": "²"}).status_code == 200  # page 1
    from lms.reports.paging import page_number

    assert [page_number({"page": raw}) for raw in ("²", "٣", "3", "-3", "9" * 40)] == [
        1,
        1,
        3,
        1,
        1_000_000,
    ]


def test_dates_at_the_ends_of_the_calendar_filter_without_overflowing(app, make_user):
    admin = make_user("admin")
    client = app.test_client()
    login(client, admin)
    for start, end in (("0001-01-01", "9999-12-31"), ("9999-12-31", "9999-12-31")):
        assert (
            client.get("/admin/audit", query_string={"start": start, "end": end}).status_code == 200
        )
        assert (
            client.get(
                "/admin/reports/completions", query_string={"from": start, "to": end}
            ).status_code
            == 200
        )


def test_a_nul_character_anywhere_is_refused_before_it_reaches_the_database(app, make_user):
    learner = make_user()
    client = app.test_client()
    login(client, learner)
    message = "contains a NUL character"
    response = client.post(
        "/auth/profile", data={"display_name": "Ana\x00", "locale": "en", "time_zone": "UTC"}
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    response = client.get("/", query_string={"q": "\x00"})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    enrollment_id = Stage(app, make_user).recording_enrollment(learner)
    response = client.post(
        f"/learn/{enrollment_id}/outcome-1/reflection/draft", json={"body": "a\u0000b"}
    )
    assert response.status_code == 400 and message in response.get_json()["message"]
    with app.app_context():
        from lms.db import db_session
        from lms.learning.models import Reflection

        assert db_session.scalar(select(Reflection.id)) is None


def test_a_multipart_part_without_a_usable_name_is_not_a_crash(app, make_user):
    """Found by the generator: a part named "\\n" reaches the view with no name at all."""
    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator)
    client = app.test_client()
    login(client, facilitator)
    data = MultiDict([("report", (io.BytesIO(ZOOM_HEADER.encode()), "report.csv")), ("\n", "")])
    assert (
        client.post(f"/facilitate/cohorts/{cohort_id}/attendance/import", data=data).status_code
        < 500
    )
