"""What a transaction wrote, as the page versions (``lms.caching``) to bump once it commits.

While a session flushes, the records it writes are noted as versions: the person whose
dashboard shows them (or whose account and sign-ins they are: each worker keeps a signed-in
person under that version too), the course whose live sessions (and seats) they change. They are bumped
in ``after_commit`` of the outermost transaction, so

- a reader that sees the new token reads records that include the commit (the token is read
  before the records), and a reader that saw the old one files what it built under a token
  that is never current again;
- nothing is written or locked in the database for it: the transaction takes only the locks
  of the rows it changes, and the bump is a write to the shared store after every lock is
  released;
- the request's own bump happens before its response is sent: the person who wrote sees it.

A rolled-back transaction bumps nothing (a rolled-back savepoint's notes stay: bumping too much
only costs a rebuild). A statement that writes those tables without the ORM (a bulk insert, a
cascading delete) calls :func:`note` itself.

Resolving what a write touches reads the database (an enrollment's learner, a cohort's
members, a course's slug) inside the transaction: plain reads, which take no row lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.util import identity_key

from lms import caching
from lms.accounts.models import SignIn, User
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort
from lms.courses.models import Course
from lms.learning.models import Enrollment, EnrollmentStatus, Reflection, StepProgress

_PENDING = "lms_versions_to_bump"
_WROTE = "lms_flushed_a_write"


@dataclass
class Written:
    """What one flush (or one statement) wrote, as the records whose pages it changes."""

    user_ids: set[int] = field(default_factory=set)  # their dashboards
    enrollment_ids: set[int] = field(default_factory=set)  # their learners' dashboards
    cohort_ids: set[int] = field(
        default_factory=set
    )  # every member's dashboard (times, titles, waitlist places)
    course_ids: set[int] = field(default_factory=set)  # the course's live sessions and seats

    def __bool__(self) -> bool:
        return bool(self.user_ids or self.enrollment_ids or self.cohort_ids or self.course_ids)


def watch(session_factory: sessionmaker[Session], bump: Callable[[Iterable[str]], None]) -> None:
    """Note what every session of ``session_factory`` writes and ``bump`` it after commit."""

    def after_flush(session: Session, _context: Any) -> None:
        session.info[_WROTE] = True
        note(session, written_by(session))

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the outer transaction may still roll back
        versions = session.info.pop(_PENDING, None)
        if versions:
            bump(versions)

    def after_transaction_end(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(_PENDING, None)  # rolled back (a commit has taken them already)
            session.info.pop(_WROTE, None)

    event.listen(session_factory, "after_flush", after_flush)
    event.listen(session_factory, "after_commit", after_commit)
    event.listen(session_factory, "after_transaction_end", after_transaction_end)


def note(session: Session, written: Written) -> None:
    """Remember the versions ``written`` changes, to bump when the session's transaction commits."""
    if not written:
        return
    connection = session.connection()
    user_ids = set(written.user_ids)
    unknown = set()
    for enrollment_id in written.enrollment_ids:
        # The service that wrote a learner's records has their enrollment in the session.
        loaded = session.identity_map.get(identity_key(Enrollment, enrollment_id))
        learner = inspect(loaded).dict.get("user_id") if loaded is not None else None
        if learner is None:
            unknown.add(enrollment_id)
        else:
            user_ids.add(learner)
    if unknown:
        user_ids.update(
            connection.scalars(select(Enrollment.user_id).where(Enrollment.id.in_(sorted(unknown))))
        )
    if written.cohort_ids:
        user_ids.update(
            connection.scalars(
                select(Enrollment.user_id).where(
                    Enrollment.cohort_id.in_(sorted(written.cohort_ids))
                )
            )
        )
    course_ids = set(written.course_ids)
    if written.cohort_ids:
        course_ids.update(
            connection.scalars(
                select(Cohort.course_id).where(Cohort.id.in_(sorted(written.cohort_ids)))
            )
        )
    slugs = (
        set(connection.scalars(select(Course.slug).where(Course.id.in_(sorted(course_ids)))))
        if course_ids
        else set()
    )
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.update(caching.person(user_id) for user_id in user_ids)
    pending.update(caching.course(slug) for slug in slugs)


def note_person(session: Session, user_id: int) -> None:
    """Bump this person's version with the transaction (the signed-in person who wrote: their
    own pages, the report included, show what they just did)."""
    session.info.setdefault(_PENDING, set()).add(caching.person(user_id))


def wrote_anything(session: Session) -> bool:
    """Whether the session's transaction has written, or is about to write, anything."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


def written_by(session: Session) -> Written:
    """What a flush wrote (read in ``after_flush``: new rows have their ids, and the session
    still lists what it wrote, with each attribute's history)."""
    written = Written()
    for obj, state in _written(session):
        if isinstance(obj, Enrollment):
            written.user_ids.add(obj.user_id)
            moved = state != "changed" or _changed(obj, "status") or _changed(obj, "cohort_id")
            cohorts = {obj.cohort_id, *_old_values(obj, "cohort_id")} - {None}
            if moved and cohorts:
                written.course_ids.add(obj.course_id)  # seats taken or freed
                statuses = {obj.status, *_old_values(obj, "status")}
                if EnrollmentStatus.waitlisted in statuses:
                    written.cohort_ids.update(cohorts)  # the places behind it on the waitlist
        elif isinstance(obj, (StepProgress, Reflection, Attendance, Certificate)):
            written.enrollment_ids.add(obj.enrollment_id)
        elif isinstance(obj, Cohort):
            written.cohort_ids.add(obj.id)
            written.course_ids.update({obj.course_id, *_old_values(obj, "course_id")} - {None})
        elif isinstance(obj, Course):
            written.course_ids.add(obj.id)
        elif isinstance(obj, User) and obj.id is not None:
            written.user_ids.add(obj.id)  # their name and settings, and the sign-ins kept for them
        elif isinstance(obj, SignIn):
            written.user_ids.add(obj.user_id)
    return written


def _written(session: Session) -> Iterator[tuple[Any, str]]:
    for obj in session.new:
        yield obj, "new"
    for obj in session.deleted:
        yield obj, "deleted"
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            yield obj, "changed"


def _changed(obj: Any, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def _old_values(obj: Any, attribute: str) -> tuple[Any, ...]:
    return tuple(inspect(obj).attrs[attribute].history.deleted or ())
