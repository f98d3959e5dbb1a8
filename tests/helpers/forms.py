"""What a form example acts on, built fresh (``Stage``), and the whole database as text
(``snapshot``): tests/test_form_properties.py and tests/test_partial_failures.py compare it
before and after a request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tests.helpers.cohorts import completed_enrollment, enrollment_of, register, schedule

COURSE = "esp-racial-justice-dialogue"
ZOOM_HEADER = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n"


class Stage:
    """Builds and commits the records an example needs; each helper returns plain ids and strings."""

    def __init__(self, app: Any, make_user: Callable[..., Any]) -> None:
        self.app = app
        self.make_user = make_user

    def person(self, role: str = "learner") -> Any:
        return self.make_user(role)

    def cohort(self, facilitator: Any, **options: Any) -> int:
        return schedule(self.app, facilitator, **options)

    def registered(self, cohort_id: int, learner: Any | None = None) -> int:
        learner = learner or self.person()
        register(self.app, learner, cohort_id)
        return enrollment_of(self.app, learner, cohort_id).id

    def completed(self, facilitator: Any, cohort_id: int | None = None) -> tuple[int, int]:
        return completed_enrollment(self.app, facilitator, self.person(), cohort_id)

    def certificate(self) -> str:
        from lms.accounts.models import User
        from lms.certificates import services
        from lms.db import db_session
        from lms.learning.models import Enrollment

        facilitator = self.person("facilitator")
        _cohort_id, enrollment_id = self.completed(facilitator)
        with self.app.test_request_context():
            result = services.issue_certificate(
                db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
            )
            db_session.commit()
            return result.certificate.code

    def recording_enrollment(self, learner: Any) -> int:
        from lms.courses.catalog import course_row
        from lms.db import db_session, utcnow
        from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
        from lms.state import lms_state

        with self.app.app_context():
            course = course_row(db_session, lms_state().catalog.get(COURSE))
            enrollment = Enrollment(
                user_id=learner.id,
                course_id=course.id,
                path=LearningPath.recording,
                status=EnrollmentStatus.in_progress,
                started_at=utcnow(),
            )
            db_session.add(enrollment)
            db_session.commit()
            return enrollment.id

    def failed_job(self) -> int:
        from lms.db import db_session
        from lms.jobs import Job, JobStatus

        with self.app.app_context():
            row = Job(
                name="lms.accounts.jobs:mail_password_reset",
                args=[None],
                kwargs={},
                status=JobStatus.failed,
                attempts=5,
                max_attempts=5,
                last_error="RuntimeError: the relay was away",
                progress_done=0,
            )
            db_session.add(row)
            db_session.commit()
            return row.id

    def reset_token(self, user: Any) -> str:
        from lms.accounts.models import User
        from lms.accounts.tokens import password_reset_token
        from lms.db import db_session

        with self.app.test_request_context():
            return password_reset_token(db_session.get(User, user.id))

    def import_token(self, facilitator: Any, cohort_id: int, report: bytes) -> str:
        from lms.accounts.models import User
        from lms.cohorts import attendance, services
        from lms.db import db_session

        with self.app.test_request_context():
            preview = attendance.preview_import(
                db_session.get(User, facilitator.id),
                services.get_cohort(cohort_id),
                report,
                "report.csv",
            )
            assert preview.token, preview
            return preview.token

    def email_of(self, enrollment_id: int) -> str:
        from lms.db import db_session
        from lms.learning.models import Enrollment

        with self.app.app_context():
            return db_session.get(Enrollment, enrollment_id).user.email


def snapshot(app: Any) -> dict[str, list[str]]:
    """Every row of every table, as text, to compare before and after a request, once the jobs
    earlier requests asked for have run (they change their own rows in the background)."""
    import lms.models  # noqa: F401
    from lms.db import Base
    from lms.jobs import wait_for_jobs

    wait_for_jobs(app)

    engine = app.extensions["lms"].database.engine
    with engine.connect() as connection:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in connection.execute(select(*table.columns))
            )
            for table in Base.metadata.sorted_tables
        }
