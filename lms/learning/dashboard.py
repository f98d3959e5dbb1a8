"""A learner's "My learning" page: their enrollments in progress and completed, their
reflections and their certificates, read in one pass over the evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.db import db_session
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath, Reflection
from lms.learning.progress import Evidence
from lms.learning.services import EnrollmentSummary, step_title, summarize


def enrollments_of(user: User) -> list[Enrollment]:
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.user_id == user.id)
            .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())
        )
    )


def certificates_of_user(user: User) -> list[Certificate]:
    return list(
        db_session.scalars(
            select(Certificate)
            .join(Certificate.enrollment)
            .where(Enrollment.user_id == user.id)
            .order_by(Certificate.issued_at.desc())
        )
    )


@dataclass
class Dashboard:
    in_progress: list[EnrollmentSummary]
    completed: dict[
        str, list[EnrollmentSummary]
    ]  # by path, in the order live, recording, self_paced
    reflections: list[tuple[Reflection, EnrollmentSummary, str]]
    certificates: list[Certificate]


def dashboard_for(user: User, locale: str) -> Dashboard:
    summaries: dict[int, EnrollmentSummary] = {}
    in_progress: list[EnrollmentSummary] = []
    completed: dict[str, list[EnrollmentSummary]] = {path.value: [] for path in LearningPath}
    enrollments = enrollments_of(user)
    evidence = Evidence.of_each(enrollments)
    for enrollment in enrollments:
        summary = summarize(enrollment, locale, evidence=evidence[enrollment.id])
        summaries[enrollment.id] = summary
        if enrollment.status is EnrollmentStatus.completed:
            completed[enrollment.path.value].append(summary)
        elif enrollment.status is not EnrollmentStatus.withdrawn:
            in_progress.append(summary)
    reflections = []
    # The evidence read above holds every reflection of these enrollments: the newest first.
    written = sorted(
        (r for found in evidence.values() for r in found.reflections.values()),
        key=lambda r: (r.updated_at, r.id),
        reverse=True,
    )
    for reflection in written:
        summary = summaries[reflection.enrollment_id]
        title = reflection.prompt_id
        if (
            summary.course is not None
            and (step := summary.course.definition.step(reflection.prompt_id)) is not None
        ):
            title = step_title(summary.course, step, locale)
        reflections.append((reflection, summary, title))
    return Dashboard(in_progress, completed, reflections, certificates_of_user(user))


def ordered_paths() -> Sequence[str]:
    return [path.value for path in LearningPath]
