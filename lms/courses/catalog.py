"""The in-memory catalog of course definitions, and its sync into the ``lms_course`` table."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms.courses.loader import LoadedCourse, Problem, load_courses
from lms.courses.models import Course, CourseStatus
from lms.db import utcnow


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class CourseCatalog:
    """Course definitions loaded from a folder; each app has one (``lms_state().catalog``).

    The catalog is read on first use and again by :meth:`reload`; a folder whose content hash
    has not changed keeps its parsed definition.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._courses: dict[str, LoadedCourse] = {}
        self._by_folder: dict[str, LoadedCourse] = {}
        self._problems: list[Problem] = []
        self._loaded = False
        self._loaded_at = utcnow()
        self._checked_at = 0.0  # time.monotonic() of the last look at the database
        self._lock = threading.Lock()
        self._generation = 0  # one more on each reload

    def reload(self) -> None:
        with self._lock:
            result = load_courses(self.root, previous=self._by_folder)
            self._courses = result.courses
            self._by_folder = {course.folder.name: course for course in result.courses.values()}
            self._problems = result.problems
            self._loaded = True
            self._loaded_at = utcnow()
            self._generation += 1

    @property
    def generation(self) -> int:
        """One more on each reload: part of the key of anything built from these definitions
        (``lms.web.caching.kept`` adds it to every key; it is read before the part is built, so a part
        rendered from the old definitions while another thread reloads is never served).

        Loads the catalog first, so that what is filed under it before the first load (when
        building it loads the catalog) is not filed under a generation that ends at once.
        """
        self._ensure_loaded()
        return self._generation

    def reload_if_synced_elsewhere(self, session: Session, every: float) -> None:
        """Reload when a sync in another process (a worker, the CLI) is newer than this load.

        Each web worker holds its own catalog: a sync from the admin page runs in one of them,
        and the others learn of it here, by one small query at most every ``every`` seconds.
        """
        now = time.monotonic()
        if now - self._checked_at < every:
            return
        self._checked_at = now
        if not self._loaded:
            return  # the first use reads the files anyway
        last_sync = session.scalar(select(func.max(Course.synced_at)))
        if last_sync is None or last_sync <= self._loaded_at:
            return
        self.reload()

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.reload()

    @property
    def problems(self) -> list[Problem]:
        self._ensure_loaded()
        return list(self._problems)

    def all(self) -> list[LoadedCourse]:
        self._ensure_loaded()
        return sorted(self._courses.values(), key=lambda course: course.definition.title.casefold())

    def get(self, slug: str) -> LoadedCourse | None:
        self._ensure_loaded()
        return self._courses.get(slug)

    def sync(self, session: Session) -> SyncReport:
        """Bring ``lms_course`` in line with the files: add, update by hash, retire what is gone.

        Records are never deleted: a course whose folder disappeared is retired and keeps its
        enrollments; it comes back active if the folder returns.
        """
        self.reload()
        report = SyncReport(problems=self.problems)
        rows = {row.slug: row for row in session.scalars(select(Course))}
        # A course whose file is broken is neither updated nor retired: its last good version stays.
        broken_slugs = {Path(problem.path).parent.name for problem in report.problems}
        now = utcnow()
        for slug, course in self._courses.items():
            row = rows.get(slug)
            if row is None:
                session.add(
                    Course(
                        slug=slug,
                        title=course.definition.title,
                        content_hash=course.content_hash,
                        version=1,
                        status=CourseStatus.active,
                        synced_at=now,
                    )
                )
                report.added.append(slug)
                continue
            if row.status is CourseStatus.retired:
                row.status = CourseStatus.active
                row.synced_at = now  # other processes reload on a newer synced_at
                report.reactivated.append(slug)
            if row.content_hash == course.content_hash:
                report.unchanged.append(slug)
                continue
            row.title = course.definition.title
            row.content_hash = course.content_hash
            row.version += 1
            row.synced_at = now
            report.updated.append(slug)
        for slug, row in rows.items():
            if (
                slug not in self._courses
                and slug not in broken_slugs
                and row.status is CourseStatus.active
            ):
                row.status = CourseStatus.retired
                row.synced_at = now
                report.retired.append(slug)
        session.flush()
        return report


def course_row(session: Session, course: LoadedCourse) -> Course:
    """The database row of a loaded course, added if the catalog has not been synced yet."""
    row = session.scalar(select(Course).where(Course.slug == course.slug))
    if row is None:
        row = Course(
            slug=course.slug,
            title=course.definition.title,
            content_hash=course.content_hash,
            version=1,
            status=CourseStatus.active,
        )
        session.add(row)
        session.flush()
    return row
