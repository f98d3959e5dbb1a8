"""Change stamps: how every worker learns, with the reads a page makes anyway, that the records
a cached page was built from have changed, in this process or any other.

A stamp is a counter that a write to the records it covers bumps in the write's own
transaction, so it is committed (or rolled back) with them:

- ``User.records_version``: what the person's dashboard shows (their enrollments, progress,
  reflections, attendance, certificates, the live sessions they hold and their place on a
  waitlist). It is read with the signed-in person, so checking it costs no query.
- ``Course.sessions_version``: a course's live sessions and their seats (the course page).
- the ``completions`` row of ``lms_stamp``: everything the completion report counts or lists.

A page reads its stamp before the records, so what it builds is at least as new as the stamp it
is filed under; a write commits its records and stamp together, so a cache keyed by the stamp
never serves what was built before a write that has committed (``lms.caching``).

The flush hook below bumps the stamps for every change the ORM writes, so a service cannot
forget to. The few statements that write those tables without the ORM (a bulk insert, a
cascading delete) call :func:`bump` themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, String, event, inspect, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.db import Base, read_stamp
from lms.learning.models import Enrollment, Reflection, StepProgress

COMPLETIONS = "completions"

# The columns of a person that the completion report shows or filters on: signing in (which
# writes last_login_at) or choosing a language changes nothing a report shows.
_REPORTED_USER_COLUMNS = ("email", "display_name", "affiliate", "audience_role", "active", "is_facilitator")


class Stamp(Base):
    """A counter for records that no single row stands for (the whole completion report)."""

    __tablename__ = "lms_stamp"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


@dataclass
class Changes:
    """What one flush (or one statement) changed, as the stamps it must bump."""

    user_ids: set[int] = field(default_factory=set)
    enrollment_ids: set[int] = field(default_factory=set)  # their learners' dashboards
    cohort_ids: set[int] = field(default_factory=set)  # every member's dashboard, the course's sessions
    course_ids: set[int] = field(default_factory=set)
    completions: bool = False

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.enrollment_ids or self.cohort_ids or self.course_ids or self.completions)


# Built once: every report page reads it.
_COMPLETIONS_STAMP = select(Stamp.value).where(Stamp.name == COMPLETIONS)


def read_completions() -> int | None:
    """The completion report's stamp; None when its row is missing (then nothing is cached)."""
    return read_stamp(_COMPLETIONS_STAMP)


def bump(session: Session, changes: Changes) -> None:
    """Bump every stamp ``changes`` names, in the session's transaction."""
    if not changes:
        return
    connection = session.connection()
    people = []
    if changes.user_ids:
        people.append(User.id.in_(sorted(changes.user_ids)))
    if changes.enrollment_ids:
        people.append(User.id.in_(select(Enrollment.user_id).where(Enrollment.id.in_(sorted(changes.enrollment_ids)))))
    if changes.cohort_ids:
        # A registration moves the others on the waitlist; a new time or a cancellation shows
        # on every member's dashboard.
        people.append(User.id.in_(select(Enrollment.user_id).where(Enrollment.cohort_id.in_(sorted(changes.cohort_ids)))))
    if people:
        connection.execute(update(User).where(or_(*people)).values(records_version=User.records_version + 1))
    courses = []
    if changes.course_ids:
        courses.append(Course.id.in_(sorted(changes.course_ids)))
    if changes.cohort_ids:
        courses.append(Course.id.in_(select(Cohort.course_id).where(Cohort.id.in_(sorted(changes.cohort_ids)))))
    if courses:
        connection.execute(update(Course).where(or_(*courses)).values(sessions_version=Course.sessions_version + 1))
    if changes.completions:
        connection.execute(update(Stamp).where(Stamp.name == COMPLETIONS).values(value=Stamp.value + 1))


def changes_of(session: Session) -> Changes:
    """The stamps that what a flush wrote touches (read in ``after_flush``: new rows have their
    ids, and the session still lists what it wrote, with each attribute's history)."""
    changes = Changes()
    for obj, is_new in _written(session):
        if isinstance(obj, Enrollment):
            changes.completions = True
            changes.user_ids.add(obj.user_id)
            # The old cohort too, when an enrollment moves between cohorts.
            changes.cohort_ids.update((obj.cohort_id, *_old_values(obj, "cohort_id")))
        elif isinstance(obj, (StepProgress, Reflection)):
            changes.enrollment_ids.add(obj.enrollment_id)
        elif isinstance(obj, (Attendance, Certificate)):
            changes.completions = True
            changes.enrollment_ids.add(obj.enrollment_id)
        elif isinstance(obj, Cohort):
            changes.completions = True
            changes.cohort_ids.add(obj.id)
            changes.course_ids.add(obj.course_id)
        elif isinstance(obj, CohortFacilitator):
            changes.completions = True
        elif isinstance(obj, Course):
            changes.completions = True
            changes.course_ids.add(obj.id)
        elif isinstance(obj, User) and (is_new or any(_changed(obj, column) for column in _REPORTED_USER_COLUMNS)):
            changes.completions = True
    for ids in (changes.user_ids, changes.enrollment_ids, changes.cohort_ids, changes.course_ids):
        ids.discard(None)  # type: ignore[arg-type]  # an enrollment outside any cohort
    return changes


def _written(session: Session) -> Iterable[tuple[Any, bool]]:
    for obj in session.new:
        yield obj, True
    for obj in session.deleted:
        yield obj, False
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            yield obj, False


def _changed(obj: Any, column: str) -> bool:
    return inspect(obj).attrs[column].history.has_changes()


def _old_values(obj: Any, column: str) -> tuple[Any, ...]:
    return tuple(inspect(obj).attrs[column].history.deleted or ())


def watch(session_factory: sessionmaker[Session]) -> None:
    """Bump the stamps on every flush of the sessions ``session_factory`` makes."""
    if not event.contains(session_factory, "after_flush", _bump_after_flush):
        event.listen(session_factory, "after_flush", _bump_after_flush)


def _bump_after_flush(session: Session, _flush_context: Any) -> None:
    bump(session, changes_of(session))
