"""A learner's own records: enrollments on the self-directed paths, progress, reflections.

Operations flush and never commit (the request or the CLI command does). Every function that
takes an enrollment expects one already checked with :func:`get_enrollment_for`.

Longer than most modules (about 470 lines) on purpose: starting an enrollment, recording its
evidence and its reflections are the operations on one record, and share its checks (an
enrollment still open, its row locked first: ``_ensure_open``, ``_serialise``). Split apart, each
part would import the others' private helpers. What only reads across enrollments lives
beside it: My learning in ``dashboard.py``, completion in ``progress.py``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.exceptions import NotFound

from lms.accounts.models import User
from lms.cohorts.locking import lock_fresh
from lms.courses.catalog import course_row
from lms.courses.definitions import ReadStep, ReflectStep, StepDefinition, WatchStep
from lms.courses.loader import LoadedCourse
from lms.courses.models import CourseStatus
from lms.db import db_session, utcnow
from lms.i18n import _
from lms.invalidation import Written, note
from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    LearningPath,
    Reflection,
    ReflectionStatus,
    StepProgress,
    StepState,
)
from lms.learning.progress import (
    MAX_SEGMENTS,
    Evidence,
    count_words,
    load_segments,
    merge_segments,
    played_fraction,
    refresh_completion,
    step_states,
)
from lms.state import lms_state

# The paths a learner starts on their own; live enrollments come from a cohort.
SELF_DIRECTED_PATHS: tuple[str, ...] = (LearningPath.recording.value, LearningPath.self_paced.value)
MAX_SEGMENTS_PER_POST = 200
DURATION_TOLERANCE = 0.05  # the player's duration may differ this much from the course file's


class LearningError(ValueError):
    """Something a learner asked for that cannot be done; the message is shown to them."""


class TooFewWords(LearningError):
    def __init__(self, words: int, minimum: int, kept_submitted: bool) -> None:
        self.words, self.minimum, self.kept_submitted = words, minimum, kept_submitted
        if not kept_submitted:
            message = _(
                "Your reflection has %(words)s words; it needs at least %(minimum)s to be "
                "submitted. What you wrote is saved as a draft.",
                words=words,
                minimum=minimum,
            )
        else:
            message = _(
                "Your reflection has %(words)s words; it needs at least %(minimum)s to be "
                "submitted. Your earlier submitted reflection stays as it was; what you typed is "
                "below.",
                words=words,
                minimum=minimum,
            )
        super().__init__(message)


# --- enrollments ----------------------------------------------------------------------------


def catalog_course(slug: str) -> LoadedCourse | None:
    return lms_state().catalog.get(slug)


def course_of(enrollment: Enrollment) -> LoadedCourse | None:
    """The loaded definition of an enrollment's course; ``None`` when its files are gone."""
    return catalog_course(enrollment.course.slug)


def startable_paths(loaded: LoadedCourse) -> list[str]:
    return [path for path in loaded.definition.paths if path in SELF_DIRECTED_PATHS]


def find_self_directed_enrollment(user: User, course_id: int, path: str) -> Enrollment | None:
    return db_session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == user.id,
            Enrollment.course_id == course_id,
            Enrollment.path == path,
            Enrollment.cohort_id.is_(None),
        )
    )


def enrollments_for_course(user: User, loaded: LoadedCourse) -> list[Enrollment]:
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.user_id == user.id, Enrollment.course.has(slug=loaded.slug))
            .order_by(Enrollment.created_at)
        )
    )


def start_enrollment(user: User, loaded: LoadedCourse, path: str) -> Enrollment:
    """Start ``loaded`` on a self-directed path; starting again returns the same enrollment.

    The database's partial unique index (one self-directed enrollment per learner, course and
    path) settles two simultaneous starts: the insert does nothing if the row exists.
    """
    if path not in startable_paths(loaded):
        raise LearningError(_("This course cannot be started that way."))
    course = course_row(db_session, loaded)
    existing = find_self_directed_enrollment(user, course.id, path)
    if existing is None:
        if course.status is CourseStatus.retired:
            raise LearningError(_("This course has been retired and cannot be started."))
        now = utcnow()
        values = {
            "user_id": user.id,
            "course_id": course.id,
            "path": LearningPath(path),
            "cohort_id": None,
            "status": EnrollmentStatus.in_progress,
            "created_at": now,
            "started_at": now,
        }
        dialect = db_session.get_bind().dialect.name
        insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}.get(dialect)
        if insert is not None:
            db_session.execute(
                insert(Enrollment)
                .values(**values)
                .on_conflict_do_nothing(
                    index_elements=["user_id", "course_id", "path"],
                    index_where=Enrollment.cohort_id.is_(None),
                )
            )
            note(db_session, Written(user_ids={user.id}))  # an insert the ORM does not see
        else:
            db_session.add(Enrollment(**values))
            db_session.flush()
        existing = find_self_directed_enrollment(user, course.id, path)
        assert existing is not None
    elif existing.status is EnrollmentStatus.withdrawn:
        existing.status = EnrollmentStatus.in_progress
        existing.withdrawn_at = None
        refresh_completion(existing, loaded.definition)
    return existing


def get_enrollment_for(user: User, enrollment_id: int) -> Enrollment:
    """The enrollment if it is ``user``'s own; 404 for anyone else (admins included)."""
    enrollment = db_session.get(Enrollment, enrollment_id)
    if (
        enrollment is None
        or user is None
        or not getattr(user, "is_authenticated", False)
        or enrollment.user_id != user.id
    ):
        raise NotFound()
    return enrollment


def step_of(enrollment: Enrollment, loaded: LoadedCourse, step_id: str) -> StepDefinition:
    """A step of the enrollment's own path; 404 for any other id."""
    for step in loaded.definition.steps_for(enrollment.path):
        if step.id == step_id:
            return step
    raise NotFound()


@dataclass
class StepView:
    step: StepDefinition
    title: str
    state: StepState
    number: int


@dataclass
class EnrollmentSummary:
    enrollment: Enrollment
    course: LoadedCourse | None
    title: str
    steps: list[StepView] = field(default_factory=list)

    @property
    def remaining(self) -> list[StepView]:
        return [
            view for view in self.steps if view.step.required and view.state is not StepState.done
        ]

    @property
    def next_step(self) -> StepView | None:
        return next((view for view in self.steps if view.state is not StepState.done), None)


def step_title(loaded: LoadedCourse, step: StepDefinition, locale: str) -> str:
    title = loaded.step_text(step.id, "title", locale)
    if title:
        return str(title)
    defaults = {
        "watch": _("Watch the recording"),
        "read": _("Reading"),
        "reflect": _("Reflection"),
        "attend": _("Live session"),
    }
    return defaults.get(step.kind, step.id)


def summarize(
    enrollment: Enrollment,
    locale: str,
    loaded: LoadedCourse | None = None,
    evidence: Evidence | None = None,
) -> EnrollmentSummary:
    loaded = loaded or course_of(enrollment)
    if loaded is None:
        return EnrollmentSummary(enrollment, None, enrollment.course.title)
    states = step_states(enrollment, loaded.definition, evidence)
    views = [
        StepView(
            step,
            step_title(loaded, step, locale),
            states.get(step.id, StepState.not_started),
            number,
        )
        for number, step in enumerate(loaded.definition.steps_for(enrollment.path), start=1)
    ]
    return EnrollmentSummary(enrollment, loaded, str(loaded.localized("title", locale)), views)


def refresh(enrollment: Enrollment, loaded: LoadedCourse | None) -> None:
    if loaded is not None:
        refresh_completion(enrollment, loaded.definition)


def _ensure_open(enrollment: Enrollment) -> None:
    if enrollment.status is EnrollmentStatus.withdrawn:
        raise LearningError(
            _("You have withdrawn from this course; start it again to record progress.")
        )


def _serialise(enrollment: Enrollment) -> None:
    """Take the enrollment's row lock for the rest of the request, then read it afresh.

    The learner's writes to one enrollment (two tabs, the autosave racing a submit, two players
    posting progress) wait for each other here, so each one reads what the one before committed:
    one reflection and one progress row per step, a submitted reflection never overwritten by a
    draft, played segments never lost, and completion computed from all the evidence. Call it
    before reading the rows it guards (see :mod:`lms.cohorts.locking`).
    """
    lock_fresh(enrollment)


# --- evidence -------------------------------------------------------------------------------


def _progress_row(enrollment: Enrollment, step_id: str) -> StepProgress:
    """The step's progress row, read afresh (the caller holds the enrollment's lock), or a new one."""
    query = select(StepProgress).where(
        StepProgress.enrollment_id == enrollment.id, StepProgress.step_id == step_id
    )
    row = db_session.scalar(query.execution_options(populate_existing=True))
    if row is None:
        row = StepProgress(
            enrollment_id=enrollment.id,
            step_id=step_id,
            segments="[]",
            fraction=0.0,
            state=StepState.not_started,
        )
        db_session.add(row)
    return row


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LearningError(_("Progress must be sent as numbers."))
    number = float(value)
    if not math.isfinite(number):
        raise LearningError(_("Progress must be sent as finite numbers."))
    return number


def record_played_segments(
    enrollment: Enrollment, loaded: LoadedCourse, step: StepDefinition, segments: Any, duration: Any
) -> StepProgress:
    """Add played ``[start, end]`` ranges of a watch step and recompute completion.

    Only what was played counts: the ranges are merged with what was recorded before and the
    fraction is their total length over the video's duration, which comes from the course file
    when it gives one (the player's figure must then agree within 5%), so a seek to the end
    earns only the seconds actually played there.
    """
    if not isinstance(step, WatchStep):
        raise NotFound()
    if not isinstance(segments, list) or len(segments) > MAX_SEGMENTS_PER_POST:
        raise LearningError(
            _("Send at most %(num)s played segments at a time.", num=MAX_SEGMENTS_PER_POST)
        )
    client_duration = _number(duration)
    if client_duration <= 0 or client_duration > 24 * 3600:
        raise LearningError(_("The video's duration is not plausible."))
    _serialise(enrollment)
    _ensure_open(enrollment)
    row = _progress_row(enrollment, step.id)
    trusted = float(step.duration_seconds) if step.duration_seconds else (row.duration or None)
    if trusted is not None:
        if abs(client_duration - trusted) > DURATION_TOLERANCE * trusted:
            raise LearningError(_("The video's duration does not match the course's recording."))
        total = trusted
    else:
        total = client_duration  # an external video without a duration: the first figure is kept
    parsed: list[tuple[float, float]] = []
    for pair in segments:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise LearningError(_("Each played segment is a pair [start, end]."))
        start, end = _number(pair[0]), _number(pair[1])
        if not (0 <= start < end <= total + 1):
            raise LearningError(_("A played segment lies outside the video."))
        parsed.append((start, end))
    merged = merge_segments([*load_segments(row), *parsed], duration=total)
    if len(merged) > MAX_SEGMENTS:
        raise LearningError(_("Too many separate played segments."))
    row.segments = json.dumps([[round(s, 2), round(e, 2)] for s, e in merged])
    row.duration = total
    row.fraction = played_fraction(merged, total)
    if row.fraction >= step.required_fraction - 1e-9:
        row.state = StepState.done
    elif row.fraction > 0:
        row.state = StepState.in_progress
    row.updated_at = utcnow()
    db_session.flush()
    refresh_completion(enrollment, loaded.definition)
    return row


def mark_step_read(enrollment: Enrollment, loaded: LoadedCourse, step: StepDefinition) -> None:
    """Opening a reading is its evidence (docs/rules.md): the learner saw the page."""
    if not isinstance(step, ReadStep) or enrollment.status is EnrollmentStatus.withdrawn:
        return
    seen = watch_progress(enrollment, step)
    if seen is not None and seen.state is StepState.done:
        refresh_completion(enrollment, loaded.definition)
        return
    _serialise(enrollment)  # only when there is something to write: most visits read
    if enrollment.status is EnrollmentStatus.withdrawn:
        return
    row = _progress_row(enrollment, step.id)
    if row.state is not StepState.done:
        row.state = StepState.done
        row.fraction = 1.0
        row.updated_at = utcnow()
        db_session.flush()
    refresh_completion(enrollment, loaded.definition)


def watch_progress(enrollment: Enrollment, step: StepDefinition) -> StepProgress | None:
    return db_session.scalar(
        select(StepProgress).where(
            StepProgress.enrollment_id == enrollment.id, StepProgress.step_id == step.id
        )
    )


# --- reflections ----------------------------------------------------------------------------


def reflection_for(enrollment: Enrollment, step: StepDefinition) -> Reflection | None:
    query = select(Reflection).where(
        Reflection.enrollment_id == enrollment.id, Reflection.prompt_id == step.id
    )
    return db_session.scalar(query.execution_options(populate_existing=True))


def _check_body(body: Any) -> str:
    if not isinstance(body, str):
        raise LearningError(_("A reflection is text."))
    limit = current_app.config["LMS_REFLECTION_MAX_CHARS"]
    if len(body) > limit:
        raise LearningError(_("A reflection can be at most %(num)s characters long.", num=limit))
    return body.replace("\r\n", "\n")


def save_reflection_draft(
    enrollment: Enrollment, step: StepDefinition, body: Any, shared: bool | None = None
) -> tuple[Reflection | None, bool]:
    """Keep what the learner typed as a draft. Returns the reflection and whether it was saved.

    A submitted reflection is not changed by a draft: it stays as submitted until the learner
    submits the new text (which then replaces it).
    """
    if not isinstance(step, ReflectStep):
        raise NotFound()
    body = _check_body(body)
    _serialise(enrollment)
    _ensure_open(enrollment)
    return _keep_draft(enrollment, step, body, shared)


def _keep_draft(
    enrollment: Enrollment, step: StepDefinition, body: str, shared: bool | None
) -> tuple[Reflection | None, bool]:
    """save_reflection_draft once the body is checked and the enrollment is locked."""
    reflection = reflection_for(enrollment, step)
    if reflection is None:
        if not body.strip() and not shared:
            return None, False
        reflection = Reflection(
            enrollment_id=enrollment.id,
            prompt_id=step.id,
            body="",
            status=ReflectionStatus.draft,
            shared_with_facilitator=False,
            word_count=0,
        )
        db_session.add(reflection)
    elif reflection.status is ReflectionStatus.submitted:
        return reflection, False
    reflection.body = body
    reflection.word_count = count_words(body)
    if shared is not None:
        reflection.shared_with_facilitator = bool(shared)
    reflection.updated_at = utcnow()
    db_session.flush()
    return reflection, True


def submit_reflection(
    enrollment: Enrollment, loaded: LoadedCourse, step: StepDefinition, body: Any, shared: bool
) -> Reflection:
    """Submit (or re-submit) a reflection. Too few words: kept as a draft, and TooFewWords."""
    if not isinstance(step, ReflectStep):
        raise NotFound()
    body = _check_body(body)
    _serialise(enrollment)
    _ensure_open(enrollment)
    words = count_words(body)
    if words < step.min_words or not body.strip():
        reflection, _saved = _keep_draft(enrollment, step, body, shared)
        kept = reflection is not None and reflection.status is ReflectionStatus.submitted
        raise TooFewWords(words, max(step.min_words, 1), kept_submitted=kept)
    reflection = reflection_for(enrollment, step)
    if reflection is None:
        reflection = Reflection(enrollment_id=enrollment.id, prompt_id=step.id)
        db_session.add(reflection)
    now = utcnow()
    reflection.body = body
    reflection.word_count = words
    reflection.shared_with_facilitator = bool(shared)
    reflection.status = ReflectionStatus.submitted
    reflection.submitted_at = now
    reflection.updated_at = now
    db_session.flush()
    refresh_completion(enrollment, loaded.definition)
    return reflection
