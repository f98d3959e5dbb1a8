"""Session evaluations: answered once after the session, required before the certificate when the
course says so, and results without names that show nothing for small groups."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import threading

import pytest
from sqlalchemy import func, insert, select

from lms.cohorts.models import Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.learning.models import Enrollment
from lms.records.models import EvaluationAnswer, EvaluationSubmission
from tests.helpers import COURSES_DIR, login

FLAGSHIP = "esp-racial-justice-dialogue"
UTC = dt.UTC


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def session_held(app, make_user):
    """A flagship cohort whose session was yesterday, its facilitator, and a way to seat learners."""
    from lms.db import db_session

    facilitator = make_user("facilitator")
    with app.app_context():
        course_id = db_session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        cohort_id = db_session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "Held",
                "starts_at": dt.datetime.now(UTC) - dt.timedelta(days=1),
                "time_zone": "America/New_York",
                "minutes": 60,
                "capacity": 50,
            },
        )
        db_session.execute(
            insert(CohortFacilitator), {"cohort_id": cohort_id, "user_id": facilitator.id}
        )
        db_session.commit()

    def seat(user, status="completed") -> int:
        with app.app_context():
            enrollment_id = db_session.scalar(
                insert(Enrollment).returning(Enrollment.id),
                {
                    "user_id": user.id,
                    "course_id": course_id,
                    "path": "live",
                    "cohort_id": cohort_id,
                    "status": status,
                    "completed_at": dt.datetime.now(UTC) if status == "completed" else None,
                },
            )
            db_session.commit()
        return enrollment_id

    return {"facilitator": facilitator, "cohort": cohort_id, "course": course_id, "seat": seat}


ANSWERS = {"q-useful": "4", "q-next-format": "1", "q-comments": "More time for questions."}


def test_a_learner_answers_once_and_a_second_post_keeps_one_answer(
    app, client, make_user, session_held, in_db
):
    learner = make_user()
    enrollment_id = session_held["seat"](learner)
    login(client, learner)
    assert "Evaluate the session" in client.get("/me").get_data(as_text=True)
    page = client.get(f"/learn/{enrollment_id}/evaluation").get_data(as_text=True)
    assert "The session was useful for my work." in page and "Strongly agree" in page
    assert client.post(f"/learn/{enrollment_id}/evaluation", data=ANSWERS).status_code == 303
    assert (
        client.post(
            f"/learn/{enrollment_id}/evaluation", data={**ANSWERS, "q-useful": "1"}
        ).status_code
        == 303
    )
    with in_db() as session:
        assert session.scalar(select(func.count(EvaluationSubmission.id))) == 1
        assert sorted(
            session.execute(select(EvaluationAnswer.question_id, EvaluationAnswer.choice)).all()
        ) == [("comments", None), ("next-format", 1), ("useful", 4)]
        # The answers name the cohort, never the person or the enrollment.
        assert not {"user_id", "enrollment_id"} & set(EvaluationAnswer.__table__.columns.keys())
    assert "Evaluate the session" not in client.get("/me").get_data(as_text=True)


def test_simultaneous_posts_keep_one_answer(app, make_user, session_held, in_db):
    learner = make_user()
    enrollment_id = session_held["seat"](learner)
    clients = [app.test_client() for _ in range(3)]
    for c in clients:
        login(c, learner)
    barrier = threading.Barrier(len(clients))
    statuses = []

    def post(c):
        barrier.wait()
        statuses.append(c.post(f"/learn/{enrollment_id}/evaluation", data=ANSWERS).status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303, 303, 303]
    with in_db() as session:
        assert session.scalar(select(func.count(EvaluationSubmission.id))) == 1
        assert session.scalar(select(func.count(EvaluationAnswer.id))) == 3


def test_bad_answers_are_explained_and_nothing_is_saved(
    app, client, make_user, session_held, in_db
):
    learner = make_user()
    enrollment_id = session_held["seat"](learner)
    login(client, learner)
    response = client.post(
        f"/learn/{enrollment_id}/evaluation", data={"q-useful": "9", "q-comments": "kept"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose one of the answers." in page and "Answer this question." in page
    assert "kept" in page  # what was typed stays
    with in_db() as session:
        assert session.scalar(select(func.count(EvaluationSubmission.id))) == 0


def test_the_evaluation_opens_after_the_session(app, client, make_user, in_db):
    from lms.db import db_session

    learner = make_user()
    with app.app_context():
        course_id = db_session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        cohort_id = db_session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "Later",
                "starts_at": dt.datetime.now(UTC) + dt.timedelta(days=3),
                "time_zone": "UTC",
                "minutes": 60,
                "capacity": 5,
            },
        )
        enrollment_id = db_session.scalar(
            insert(Enrollment).returning(Enrollment.id),
            {
                "user_id": learner.id,
                "course_id": course_id,
                "path": "live",
                "cohort_id": cohort_id,
                "status": "registered",
            },
        )
        db_session.commit()
    login(client, learner)
    assert "opens after the session" in client.get(f"/learn/{enrollment_id}/evaluation").get_data(
        as_text=True
    )
    assert client.post(f"/learn/{enrollment_id}/evaluation", data=ANSWERS).status_code == 409


def _answer(app, session_held, make_user, count: int, comment: str = "Great") -> None:
    for index in range(count):
        learner = make_user()
        enrollment_id = session_held["seat"](learner)
        c = app.test_client()
        login(c, learner)
        assert (
            c.post(
                f"/learn/{enrollment_id}/evaluation",
                data={
                    "q-useful": str(1 + index % 5),
                    "q-next-format": "0",
                    "q-comments": f"{comment} {index}",
                },
            ).status_code
            == 303
        )


def test_results_hide_small_groups_and_show_totals_without_names(app, make_user, session_held):
    _answer(app, session_held, make_user, 4)
    facilitator = app.test_client()
    login(facilitator, session_held["facilitator"])
    url = f"/facilitate/cohorts/{session_held['cohort']}/evaluation"
    page = text_of(facilitator.get(url).get_data(as_text=True))
    assert (
        "4 people answered" in page
        and "Results are shown once at least 5 people have answered" in page
    )
    assert "Great 0" not in page and "Strongly agree" not in page

    _answer(app, session_held, make_user, 1, comment="Late")
    page = text_of(facilitator.get(url).get_data(as_text=True))
    assert "5 people answered" in page
    assert "Great 0" in page and "Great 3" in page and "Late 0" in page
    assert "Learner" not in page  # no names: people are "Learner N" in these tests
    # The table alternative to the chart: answers 1, 2, 3, 4 and then 1 again.
    assert re.search(r"Strongly disagree 2 40%", page) and re.search(r"Strongly agree 0 0%", page)
    assert re.search(r"Live online 5 100%", page)

    admin = app.test_client()
    login(admin, make_user("admin"))
    page = text_of(admin.get(f"/admin/evaluations?course={FLAGSHIP}").get_data(as_text=True))
    assert "5 people answered" in page and "Great 2" in page


def test_the_threshold_is_settable(app, make_user, session_held):
    app.config["LMS_EVALUATION_MIN_ANSWERS"] = 2
    _answer(app, session_held, make_user, 2)
    facilitator = app.test_client()
    login(facilitator, session_held["facilitator"])
    page = text_of(
        facilitator.get(f"/facilitate/cohorts/{session_held['cohort']}/evaluation").get_data(
            as_text=True
        )
    )
    assert "Great 1" in page


@pytest.fixture
def required_courses(tmp_path):
    root = tmp_path / "courses"
    shutil.copytree(COURSES_DIR, root)
    course_file = root / FLAGSHIP / "course.toml"
    course_file.write_text(
        course_file.read_text(encoding="utf-8").replace(
            "required = false                # true", "required = true                 # true"
        ),
        encoding="utf-8",
    )
    return root


@pytest.mark.parametrize("required", [True, False])
def test_the_evaluation_is_required_before_the_certificate_only_when_the_course_says_so(
    app_config, tmp_path, required, required_courses, make_user
):
    from lms import create_app
    from lms.certificates import eligibility as certificates
    from lms.certificates.eligibility import NotEligibleError
    from lms.cohorts.models import Attendance, AttendanceStatus
    from lms.db import db_session
    from lms.records import evaluations
    from lms.state import lms_state

    config = {**app_config, "LMS_COURSES_DIR": str(required_courses if required else COURSES_DIR)}
    application = create_app(config)
    with application.app_context():
        lms_state().catalog.sync(db_session)
        db_session.commit()
    with application.test_request_context():
        from lms.accounts.models import User

        learner = User(
            email="eva@example.org",
            display_name="Eva",
            password_hash="x",
            locale="en",
            time_zone="UTC",
        )
        facilitator = User(
            email="fa@example.org",
            display_name="Fa",
            password_hash="x",
            is_facilitator=True,
            locale="en",
            time_zone="UTC",
        )
        db_session.add_all([learner, facilitator])
        course_id = db_session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        cohort = Cohort(
            course_id=course_id,
            title="C",
            starts_at=dt.datetime.now(UTC) - dt.timedelta(hours=3),
            time_zone="UTC",
            minutes=60,
            capacity=5,
        )
        db_session.add(cohort)
        db_session.flush()
        from lms.learning.models import EnrollmentStatus, LearningPath

        enrollment = Enrollment(
            user_id=learner.id,
            course_id=course_id,
            path=LearningPath.live,
            cohort_id=cohort.id,
            status=EnrollmentStatus.completed,
            completed_at=dt.datetime.now(UTC),
        )
        db_session.add(enrollment)
        db_session.flush()
        db_session.add(
            Attendance(enrollment_id=enrollment.id, status=AttendanceStatus.present, minutes=60)
        )
        from lms.learning.models import Reflection, ReflectionStatus

        words = " ".join(["word"] * 60)
        for prompt in ("outcome-1", "outcome-2", "outcome-3"):
            db_session.add(
                Reflection(
                    enrollment_id=enrollment.id,
                    prompt_id=prompt,
                    body=words,
                    status=ReflectionStatus.submitted,
                    word_count=60,
                    submitted_at=dt.datetime.now(UTC),
                )
            )
        db_session.flush()
        if required:
            with pytest.raises(NotEligibleError, match="session evaluation"):
                certificates.check_eligible(enrollment)
            definition = evaluations.evaluation_for(enrollment)
            evaluations.submit(
                enrollment, definition, evaluations.parse_answers(definition, ANSWERS)
            )
        certificates.check_eligible(enrollment)  # no error: eligible
        db_session.rollback()
    application.extensions["lms"].database.engine.dispose()


def test_a_question_without_options_is_explained(tmp_path):
    from lms.courses.loader import load_course

    folder = tmp_path / "no-options"
    shutil.copytree(COURSES_DIR / FLAGSHIP, folder)
    course_file = folder / "course.toml"
    text = course_file.read_text(encoding="utf-8").replace(
        f'slug = "{FLAGSHIP}"', 'slug = "no-options"'
    )
    text = text.replace('options = ["Live online", "In person", "As a recording"]\n', "")
    course_file.write_text(text, encoding="utf-8")
    course, problems = load_course(folder, display_root=tmp_path)
    messages = [str(p) for p in problems]
    assert course is None
    assert any(
        re.match(
            r"^no-options/course\.toml:\d+:1: evaluation\.questions\[1\]: a choice question needs options",
            m,
        )
        for m in messages
    ), messages


def test_the_dashboard_offers_the_evaluation_once_the_session_starts_without_a_write(
    app, client, make_user, time_machine
):
    """The dashboard keeps its list of pending evaluations between requests; the start of a
    session the learner holds a seat in ends what was kept, with nothing written meanwhile."""
    from lms.db import db_session

    learner = make_user()
    starts_at = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    with app.app_context():
        course_id = db_session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        cohort_id = db_session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "Soon",
                "starts_at": starts_at,
                "time_zone": "UTC",
                "minutes": 60,
                "capacity": 50,
            },
        )
        db_session.execute(
            insert(Enrollment),
            {
                "user_id": learner.id,
                "course_id": course_id,
                "path": "live",
                "cohort_id": cohort_id,
                "status": "registered",
            },
        )
        db_session.commit()
    login(client, learner)
    assert "Evaluate the session" not in client.get("/me").get_data(as_text=True)
    assert "Evaluate the session" not in client.get("/me").get_data(as_text=True)  # kept
    time_machine.move_to(starts_at + dt.timedelta(minutes=5))
    assert "Evaluate the session" in client.get("/me").get_data(as_text=True)


def test_only_those_who_held_a_seat_evaluate_a_live_session(app, client, make_user, session_held):
    """The session has been held: a learner with a seat is asked for the evaluation; one still
    on the waitlist, or who withdrew, is not, and cannot open it."""
    seated, waiting, gone = make_user(), make_user(), make_user()
    seats = {
        seated: session_held["seat"](seated, "in_progress"),
        waiting: session_held["seat"](waiting, "waitlisted"),
        gone: session_held["seat"](gone, "withdrawn"),
    }
    for person, offered in ((seated, True), (waiting, False), (gone, False)):
        visitor = app.test_client()
        login(visitor, person)
        assert ("Evaluate the session" in visitor.get("/me").get_data(as_text=True)) is offered
        page = visitor.get(f"/learn/{seats[person]}/evaluation")
        assert ("The session was useful for my work." in page.get_data(as_text=True)) is offered
