"""Records in the browser: a learner answers the session evaluation and reads and downloads
their transcript; the facilitator and an admin read the evaluation's results; the public checks
the transcript's verification page. axe-core on every page."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.flows import sign_in
from tests.helpers.e2e.pages import check_page
from tests.helpers.e2e.settings import FLAGSHIP

pytestmark = pytest.mark.e2e

# Numbers each held session's learner and certificate apart.
_held_sessions = itertools.count(1)


@pytest.fixture
def held_session(live_server):
    """A flagship cohort held yesterday, facilitated by Fran, with a learner of its own whose live
    enrollment is completed and certified, and four other people's answers already in (so one
    more reaches the threshold of five). Each test gets its own, so none depends on whether
    another has answered first."""
    from sqlalchemy import insert, select

    from lms.accounts.models import User
    from lms.certificates.models import Certificate
    from lms.cohorts.models import Cohort, CohortFacilitator
    from lms.courses.models import Course
    from lms.invalidation import Written, note
    from lms.learning.models import Enrollment
    from lms.records.models import EvaluationAnswer, EvaluationSubmission

    serial = next(_held_sessions)
    learner = live_server.create_person(
        f"records-learner-{serial}", name=f"Records Learner {serial}"
    )
    certificate_code = f"RCRD-2026-0000-{serial:04d}"
    others = [
        live_server.people.get(f"records-{n}")
        or live_server.create_person(f"records-{n}", name=f"Respondent {n}")
        for n in range(4)
    ]

    def arrange(session):
        now = dt.datetime.now(dt.UTC)
        course_id = session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        cohort_id = session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "Records cohort",
                "starts_at": now - dt.timedelta(days=1),
                "time_zone": "America/Chicago",
                "minutes": 60,
                "capacity": 20,
            },
        )
        fran = session.scalar(
            select(User.id).where(User.email == live_server.people["facilitator-fran"].email)
        )
        session.execute(insert(CohortFacilitator), {"cohort_id": cohort_id, "user_id": fran})
        learner_id = session.scalar(select(User.id).where(User.email == learner.email))
        enrollment_id = session.scalar(
            insert(Enrollment).returning(Enrollment.id),
            {
                "user_id": learner_id,
                "course_id": course_id,
                "path": "live",
                "cohort_id": cohort_id,
                "status": "completed",
                "completed_at": now - dt.timedelta(hours=20),
            },
        )
        session.execute(
            insert(Certificate),
            {
                "code": certificate_code,
                "enrollment_id": enrollment_id,
                "learner_name": learner.name,
                "course_title": "ESP",
                "hours": 1.0,
                "session_date": (now - dt.timedelta(days=1)).date(),
                "facilitator_name": "Fran Facilitator",
                "organisation": "NEA",
                "locale": "en",
                "revoked_reason": "",
            },
        )
        for index, person in enumerate(others):
            user_id = session.scalar(select(User.id).where(User.email == person.email))
            other_enrollment = session.scalar(
                insert(Enrollment).returning(Enrollment.id),
                {
                    "user_id": user_id,
                    "course_id": course_id,
                    "path": "live",
                    "cohort_id": cohort_id,
                    "status": "completed",
                    "completed_at": now,
                },
            )
            session.execute(
                insert(EvaluationSubmission),
                {"enrollment_id": other_enrollment, "submitted_on": now.date()},
            )
            session.execute(
                insert(EvaluationAnswer),
                [
                    {
                        "course_id": course_id,
                        "cohort_id": cohort_id,
                        "path": "live",
                        "question_id": "useful",
                        "choice": 4 + index % 2,
                        "text": None,
                    },
                    {
                        "course_id": course_id,
                        "cohort_id": cohort_id,
                        "path": "live",
                        "question_id": "next-format",
                        "choice": index % 3,
                        "text": None,
                    },
                    {
                        "course_id": course_id,
                        "cohort_id": cohort_id,
                        "path": "live",
                        "question_id": "comments",
                        "choice": None,
                        "text": f"Comment number {index}",
                    },
                ],
            )
        # These inserts go around the ORM, so they say what they wrote, as such statements in the
        # engine do: the members' dashboards (their pending evaluations) and the course's sessions
        # are then rebuilt, whichever test showed them before.
        note(session, Written(cohort_ids={cohort_id}))
        return {
            "cohort": cohort_id,
            "enrollment": enrollment_id,
            "learner": learner,
            "certificate": certificate_code,
        }

    return live_server.db(arrange)


def test_learner_answers_the_evaluation_and_gets_a_transcript(
    page, live_server, held_session, context_factory
):
    learner = held_session["learner"]
    sign_in(page, learner.email, learner.password)
    page.goto("/me")
    check_page(page, "records-dashboard-evaluation-pending")
    page.get_by_role("link", name="Evaluate the session").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Session evaluation")
    check_page(page, "records-evaluation-form")
    page.locator(
        "button[type=submit]", has_text="Send my answers"
    ).click()  # nothing chosen: explained
    expect(page.get_by_role("alert")).to_contain_text("Some answers need your attention.")
    check_page(page, "records-evaluation-errors")
    page.get_by_label("Agree", exact=True).check()
    page.get_by_label("In person").check()
    page.get_by_label("What would you change about the session? (optional)").fill(
        "A longer discussion."
    )
    page.locator("button[type=submit]", has_text="Send my answers").click()
    expect(page.get_by_text("your answers are saved, apart from your name")).to_be_visible()

    page.get_by_role("link", name="My transcript").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My transcript")
    expect(page.get_by_role("cell", name=f"{held_session['certificate']} (Valid)")).to_be_visible()
    check_page(page, "records-transcript")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    from sqlalchemy import select

    from lms.records.models import Transcript

    code = live_server.db(
        lambda session: session.scalar(select(Transcript.code).order_by(Transcript.id.desc()))
    )
    public = context_factory()
    public.goto(f"/verify/transcripts/{code}")
    expect(
        public.get_by_text("This transcript matches the learner's records today.")
    ).to_be_visible()
    check_page(public, "records-transcript-verification")


def test_facilitator_and_admin_read_the_results(context_factory, live_server, held_session):
    person = held_session["learner"]
    learner = context_factory()
    sign_in(learner, person.email, person.password)
    learner.goto(f"/learn/{held_session['enrollment']}/evaluation")
    learner.get_by_label("Strongly agree").check()
    learner.get_by_label("Live online").check()
    learner.get_by_role("button", name="Send my answers").click()
    expect(learner.get_by_text("your answers are saved, apart from your name")).to_be_visible()

    fran = live_server.people["facilitator-fran"]
    page = context_factory()
    sign_in(page, fran.email, fran.password)
    page.goto(f"/facilitate/cohorts/{held_session['cohort']}")
    page.get_by_role("link", name="Session evaluation results").click()
    expect(page.get_by_text("5 people answered")).to_be_visible()
    expect(page.get_by_text("Comment number 2")).to_be_visible()
    check_page(page, "records-evaluation-results-cohort")

    ann = live_server.people["admin-ann"]
    admin = context_factory()
    sign_in(admin, ann.email, ann.password)
    admin.goto("/admin/")
    admin.get_by_role("link", name="Session evaluations").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Session evaluations")
    check_page(admin, "records-evaluation-results-admin")
