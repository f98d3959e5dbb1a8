"""Honest completion (the rules of completion: docs/rules.md): a step is done when its evidence is there.

- ``watch``: the merged played segments cover ``required_fraction`` of the video;
- ``read``: the learner opened it;
- ``reflect``: a submitted reflection with at least ``min_words`` words;
- ``attend``: attendance present or late for at least the certificate's ``minimum_minutes``.

An enrollment is complete when every required step of its path is done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from lms.cohorts.models import Attendance, AttendanceStatus
from lms.courses.definitions import (
    AttendStep,
    CourseDefinition,
    ReadStep,
    ReflectStep,
    StepDefinition,
    WatchStep,
)
from lms.db import db_session, utcnow
from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    Reflection,
    ReflectionStatus,
    StepProgress,
    StepState,
)

Segment = tuple[float, float]
MAX_SEGMENTS = 500  # merged segments stay few; a flood of tiny ones is refused

_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)


def count_words(text: str) -> int:
    return len(_WORD.findall(text or ""))


def merge_segments(
    segments: Iterable[Sequence[float]], duration: float | None = None
) -> list[Segment]:
    """Union of played [start, end] ranges, clipped to the video; touching ranges join."""
    cleaned: list[Segment] = []
    for start, end in segments:
        start, end = float(start), float(end)
        if duration is not None:
            start, end = max(0.0, min(start, duration)), max(0.0, min(end, duration))
        if end > start:
            cleaned.append((start, end))
    cleaned.sort()
    merged: list[Segment] = []
    for start, end in cleaned:
        if merged and start <= merged[-1][1] + 0.5:  # half a second of timer jitter joins ranges
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def played_fraction(segments: Iterable[Segment], duration: float | None) -> float:
    if not duration or duration <= 0:
        return 0.0
    return min(1.0, sum(end - start for start, end in segments) / duration)


def load_segments(progress: StepProgress) -> list[Segment]:
    try:
        return [(float(s), float(e)) for s, e in json.loads(progress.segments or "[]")]
    except (ValueError, TypeError):
        return []


def progress_rows(enrollment: Enrollment) -> dict[str, StepProgress]:
    rows = db_session.scalars(
        select(StepProgress).where(StepProgress.enrollment_id == enrollment.id)
    )
    return {row.step_id: row for row in rows}


def reflections_of(enrollment: Enrollment) -> dict[str, Reflection]:
    rows = db_session.scalars(select(Reflection).where(Reflection.enrollment_id == enrollment.id))
    return {row.prompt_id: row for row in rows}


def attendance_of(enrollment: Enrollment) -> Attendance | None:
    return db_session.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id))


def attendance_counts(attendance: Attendance | None, course: CourseDefinition) -> bool:
    if attendance is None or course.certificate is None:
        return False
    return (
        attendance.status in (AttendanceStatus.present, AttendanceStatus.late)
        and attendance.minutes >= course.certificate.minimum_minutes
    )


@dataclass
class Evidence:
    """What an enrollment's steps were done with: progress rows and reflections by step, attendance."""

    progress: dict[str, StepProgress] = field(default_factory=dict)
    reflections: dict[str, Reflection] = field(default_factory=dict)
    attendance: Attendance | None = None

    @classmethod
    def of(cls, enrollment: Enrollment) -> Evidence:
        attendance = attendance_of(enrollment) if enrollment.path == "live" else None
        return cls(progress_rows(enrollment), reflections_of(enrollment), attendance)

    @classmethod
    def of_each(cls, enrollments: Sequence[Enrollment]) -> dict[int, Evidence]:
        """The evidence of several enrollments in three queries (a page that lists them)."""
        found = {enrollment.id: cls() for enrollment in enrollments}
        if not found:
            return found
        ids = list(found)
        for row in db_session.scalars(
            select(StepProgress).where(StepProgress.enrollment_id.in_(ids))
        ):
            found[row.enrollment_id].progress[row.step_id] = row
        for reflection in db_session.scalars(
            select(Reflection).where(Reflection.enrollment_id.in_(ids))
        ):
            found[reflection.enrollment_id].reflections[reflection.prompt_id] = reflection
        live = [enrollment.id for enrollment in enrollments if enrollment.path == "live"]
        if live:
            for attendance in db_session.scalars(
                select(Attendance).where(Attendance.enrollment_id.in_(live))
            ):
                found[attendance.enrollment_id].attendance = attendance
        return found


def step_states(
    enrollment: Enrollment, course: CourseDefinition, evidence: Evidence | None = None
) -> dict[str, StepState]:
    """The state of every step of the enrollment's path, from the evidence recorded."""
    evidence = evidence if evidence is not None else Evidence.of(enrollment)
    return {
        step.id: _step_state(
            step,
            evidence.progress.get(step.id),
            evidence.reflections.get(step.id),
            evidence.attendance,
            course,
        )
        for step in course.steps_for(enrollment.path)
    }


def _step_state(
    step: StepDefinition,
    progress: StepProgress | None,
    reflection: Reflection | None,
    attendance: Attendance | None,
    course: CourseDefinition,
) -> StepState:
    if isinstance(step, WatchStep):
        if progress is None or progress.fraction <= 0:
            return StepState.not_started
        return (
            StepState.done
            if progress.fraction >= step.required_fraction - 1e-9
            else StepState.in_progress
        )
    if isinstance(step, ReadStep):
        return progress.state if progress is not None else StepState.not_started
    if isinstance(step, ReflectStep):
        if reflection is None or not reflection.body.strip():
            return StepState.not_started
        if (
            reflection.status is ReflectionStatus.submitted
            and reflection.word_count >= step.min_words
        ):
            return StepState.done
        return StepState.in_progress
    if isinstance(step, AttendStep):
        if attendance is None:
            return StepState.not_started
        return StepState.done if attendance_counts(attendance, course) else StepState.in_progress
    # A step kind added by a plugin records its own state in StepProgress.
    return progress.state if progress is not None else StepState.not_started


def is_complete(
    enrollment: Enrollment, course: CourseDefinition, states: dict[str, StepState] | None = None
) -> bool:
    states = states if states is not None else step_states(enrollment, course)
    required = [step.id for step in course.steps_for(enrollment.path) if step.required]
    return all(states.get(step_id) is StepState.done for step_id in required)


def refresh_completion(enrollment: Enrollment, course: CourseDefinition) -> bool:
    """Recompute the enrollment's status from its evidence; returns whether it is complete.

    A waitlisted or withdrawn enrollment keeps its status. Evidence that goes away (attendance
    corrected to absent) takes a completion back.
    """
    if enrollment.status in (EnrollmentStatus.waitlisted, EnrollmentStatus.withdrawn):
        return False
    complete = is_complete(enrollment, course)
    if complete and enrollment.status is not EnrollmentStatus.completed:
        enrollment.status = EnrollmentStatus.completed
        enrollment.completed_at = utcnow()
    elif not complete and enrollment.status is EnrollmentStatus.completed:
        enrollment.status = EnrollmentStatus.in_progress
        enrollment.completed_at = None
    db_session.flush()
    return complete
