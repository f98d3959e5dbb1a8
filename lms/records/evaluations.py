"""Session evaluations: a learner answers once, after the session; answers are kept apart from
the person (:class:`EvaluationAnswer` names the course, cohort and path, never who), and results
show a breakdown only when at least ``LMS_EVALUATION_MIN_ANSWERS`` people answered, so no one
in a small group is identifiable.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.cohorts.locking import lock_row
from lms.cohorts.models import Cohort
from lms.courses.evaluation import LIKERT_POINTS, MAX_TEXT_ANSWER, EvaluationDefinition, Question
from lms.courses.models import Course
from lms.db import db_session, utcnow
from lms.i18n import _
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
from lms.records.models import EvaluationAnswer, EvaluationSubmission
from lms.state import lms_state


class EvaluationError(ValueError):
    """An evaluation that cannot be taken or saved; ``errors`` maps question ids to messages."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class AlreadyAnsweredError(EvaluationError):
    pass


def _catalog() -> Any:
    return lms_state().catalog


def evaluation_for(enrollment: Enrollment) -> EvaluationDefinition | None:
    loaded = _catalog().get(enrollment.course.slug)
    return loaded.definition.evaluation if loaded is not None else None


def is_open(enrollment: Enrollment) -> bool:
    """After the session: a live enrollment once its session has started, any other once completed."""
    cohort = db_session.get(Cohort, enrollment.cohort_id) if enrollment.cohort_id else None
    return (
        opens_at(enrollment.status, enrollment.path, cohort.starts_at if cohort else None)
        <= utcnow()
    )


# The latest moment a datetime can hold: an evaluation that this never opens.
NEVER = datetime.max.replace(tzinfo=UTC)


def opens_at(
    status: EnrollmentStatus, path: LearningPath, session_starts_at: datetime | None
) -> datetime:
    """When an enrollment's evaluation opens (``NEVER`` if it does not), from its status, its
    path and its live session's start: the one statement of the rule (``is_open`` and the
    dashboard's list of pending evaluations read it). A live session is evaluated by those who
    held a seat in it, once it has started; not from the waitlist, nor after withdrawing."""
    if status is EnrollmentStatus.completed:
        return datetime.min.replace(tzinfo=UTC)
    if (
        path is LearningPath.live
        and session_starts_at is not None
        and status not in (EnrollmentStatus.withdrawn, EnrollmentStatus.waitlisted)
    ):
        return session_starts_at
    return NEVER


@dataclass(frozen=True)
class PendingEvaluation:
    enrollment_id: int
    course_slug: str


def pending_for(user_id: int, now: datetime) -> tuple[list[PendingEvaluation], datetime | None]:
    """The person's enrollments whose evaluation is open at ``now`` and not answered, newest
    first, and when the next one of theirs opens (None if none is due to): one query.

    Courses without an evaluation are left to the caller, which knows the catalog."""
    answered = (
        select(EvaluationSubmission.id)
        .where(EvaluationSubmission.enrollment_id == Enrollment.id)
        .exists()
    )
    rows = db_session.execute(
        select(Enrollment.id, Course.slug, Enrollment.status, Enrollment.path, Cohort.starts_at)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(
            Enrollment.user_id == user_id,
            Enrollment.status != EnrollmentStatus.withdrawn,
            ~answered,
        )
        .order_by(Enrollment.id.desc())
    )
    pending, next_opening = [], None
    for enrollment_id, slug, status, path, starts_at in rows:
        opens = opens_at(status, path, starts_at)
        if opens <= now:
            pending.append(PendingEvaluation(enrollment_id, slug))
        elif opens is not NEVER and (next_opening is None or opens < next_opening):
            next_opening = opens
    return pending, next_opening


def has_answered(enrollment_id: int) -> bool:
    return (
        db_session.scalar(
            select(EvaluationSubmission.id).where(
                EvaluationSubmission.enrollment_id == enrollment_id
            )
        )
        is not None
    )


def required_and_missing(enrollment: Enrollment) -> bool:
    """True when the course asks for the evaluation before the certificate and it is not answered."""
    evaluation = evaluation_for(enrollment)
    return evaluation is not None and evaluation.required and not has_answered(enrollment.id)


def parse_answers(
    evaluation: EvaluationDefinition, form: Mapping[str, str]
) -> dict[str, tuple[int | None, str | None]]:
    """The posted answers by question id, or EvaluationError naming each question that is wrong."""
    answers: dict[str, tuple[int | None, str | None]] = {}
    errors: dict[str, str] = {}
    for question in evaluation.questions:
        raw = (form.get(f"q-{question.id}") or "").strip()
        if not raw:
            if question.required:
                errors[question.id] = _("Answer this question.")
            continue
        if question.kind == "text":
            if len(raw) > MAX_TEXT_ANSWER:
                errors[question.id] = _(
                    "Keep your answer under %(count)s characters.", count=MAX_TEXT_ANSWER
                )
            else:
                answers[question.id] = (None, raw)
            continue
        limit = LIKERT_POINTS if question.kind == "likert" else len(question.options)
        low = 1 if question.kind == "likert" else 0
        if not (raw.isascii() and raw.isdigit() and low <= int(raw) < low + limit):
            errors[question.id] = _("Choose one of the answers.")
            continue
        answers[question.id] = (int(raw), None)
    if errors:
        raise EvaluationError(_("Some answers need your attention."), errors)
    return answers


def submit(
    enrollment: Enrollment,
    evaluation: EvaluationDefinition,
    answers: dict[str, tuple[int | None, str | None]],
) -> None:
    """Keep one evaluation per enrollment: a second post (or two at once) changes nothing."""
    lock_row(Enrollment, enrollment.id)
    if has_answered(enrollment.id):
        raise AlreadyAnsweredError(_("You have already answered this evaluation. Thank you!"))
    try:
        with db_session.begin_nested():
            db_session.add(
                EvaluationSubmission(enrollment_id=enrollment.id, submitted_on=utcnow().date())
            )
            db_session.flush()
    except IntegrityError:
        raise AlreadyAnsweredError(
            _("You have already answered this evaluation. Thank you!")
        ) from None
    # In a shuffled order, so that the answers' ids say nothing about which came from whom (from
    # the system's generator: the shared one can be seeded, and is, by the test runner).
    rows = [
        EvaluationAnswer(
            course_id=enrollment.course_id,
            cohort_id=enrollment.cohort_id,
            path=enrollment.path.value,
            question_id=question_id,
            choice=choice,
            text=text,
        )
        for question_id, (choice, text) in answers.items()
    ]
    secrets.SystemRandom().shuffle(rows)
    db_session.add_all(rows)
    db_session.flush()


# -- results -------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    counts: list[int] = field(default_factory=list)  # per likert point (1..5) or option
    texts: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(self.counts) if self.question.kind != "text" else len(self.texts)


@dataclass
class EvaluationResults:
    respondents: int
    threshold: int
    questions: list[QuestionResult]

    @property
    def shown(self) -> bool:
        return self.respondents >= self.threshold


def min_answers() -> int:
    return max(1, int(current_app.config.get("LMS_EVALUATION_MIN_ANSWERS", 5)))


def results(
    evaluation: EvaluationDefinition, course_id: int, cohort_ids: list[int] | None = None
) -> EvaluationResults:
    """Counts per answer for the course (or only these cohorts); nothing per person."""
    conditions = [EvaluationAnswer.course_id == course_id]
    submitted = (
        select(func.count(EvaluationSubmission.id))
        .join(Enrollment, Enrollment.id == EvaluationSubmission.enrollment_id)
        .where(Enrollment.course_id == course_id)
    )
    if cohort_ids is not None:
        conditions.append(EvaluationAnswer.cohort_id.in_(cohort_ids))
        submitted = submitted.where(Enrollment.cohort_id.in_(cohort_ids))
    respondents = db_session.scalar(submitted) or 0
    threshold = min_answers()
    output = []
    shown = respondents >= threshold
    counts = (
        {
            (question_id, choice): count
            for question_id, choice, count in db_session.execute(
                select(EvaluationAnswer.question_id, EvaluationAnswer.choice, func.count())
                .where(*conditions, EvaluationAnswer.choice.is_not(None))
                .group_by(EvaluationAnswer.question_id, EvaluationAnswer.choice)
            )
        }
        if shown
        else {}
    )
    for question in evaluation.questions:
        result = QuestionResult(question)
        if shown:
            if question.kind == "likert":
                result.counts = [
                    counts.get((question.id, point), 0) for point in range(1, LIKERT_POINTS + 1)
                ]
            elif question.kind == "choice":
                result.counts = [
                    counts.get((question.id, index), 0) for index in range(len(question.options))
                ]
            else:
                texts = list(
                    db_session.scalars(
                        select(EvaluationAnswer.text).where(
                            *conditions,
                            EvaluationAnswer.question_id == question.id,
                            EvaluationAnswer.text.is_not(None),
                        )
                    )
                )
                result.texts = sorted(texts, key=str.casefold)  # never in the order given
        output.append(result)
    return EvaluationResults(respondents, threshold, output)
