"""How course definitions are shown: labels for ids, catalog filters, the course page's data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from lms.caching import built_for_this_request_only
from lms.courses.loader import LoadedCourse
from lms.i18n import _, _l, current_locale
from lms.markdown import render_markdown
from lms.state import lms_state

AUDIENCE_LABELS = {
    "education-support-professional": _l("Education Support Professionals"),
    "teacher": _l("Teachers"),
    "higher-education-faculty": _l("Higher education faculty"),
    "administrator": _l("School administrators"),
    "affiliate-leader": _l("Affiliate leaders"),
    "affiliate-member": _l("Affiliate members"),
    "all-educators": _l("All educators"),
    "other": _l("Other"),
}
GRADE_LABELS = {
    "early-childhood": _l("Early Childhood"),
    "elementary": _l("Elementary School"),
    "middle": _l("Middle School"),
    "high": _l("High School"),
    "higher-education": _l("Higher Education"),
    "adult": _l("Adult learners"),
}
PATH_LABELS = {
    "live": _l("Live session"),
    "recording": _l("Recording"),
    "self_paced": _l("Self-paced"),
}
FORMAT_LABELS = {
    "webinar": _l("Webinar"),
    "workshop": _l("Workshop"),
    "training": _l("Training"),
    "microcourse": _l("Microcourse"),
    "course": _l("Course"),
}


def _label(labels: Mapping[str, Any], key: str) -> str:
    return str(labels.get(key, key.replace("-", " ").replace("_", " ").capitalize()))


def audience_label(key: str) -> str:
    return _label(AUDIENCE_LABELS, key)


def grade_label(key: str) -> str:
    return _label(GRADE_LABELS, key)


def path_label(key: str) -> str:
    return _label(PATH_LABELS, str(key))


def format_label(key: str) -> str:
    return _label(FORMAT_LABELS, key)


def format_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)
    if hours:
        return _("%(hours)s h", hours=hours)
    return _("%(minutes)s min", minutes=rest)


@dataclass(frozen=True)
class CatalogFilters:
    audience: str = ""
    grade: str = ""
    topic: str = ""
    path: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CatalogFilters:
        return cls(
            **{
                name: (args.get(name) or "").strip()[:100]
                for name in ("audience", "grade", "topic", "path", "q")
            }
        )

    @property
    def active(self) -> bool:
        return any((self.audience, self.grade, self.topic, self.path, self.q))

    @staticmethod
    def options(
        courses: Iterable[LoadedCourse], topic_names: Mapping[str, TopicName]
    ) -> dict[str, list[str]]:
        audiences, grades, topics, paths = set(), set(), set(), set()
        for course in courses:
            definition = course.definition
            audiences.update(definition.audience_roles)
            grades.update(definition.grades)
            topics.update(definition.topics)
            paths.update(definition.paths)
        grade_order = list(GRADE_LABELS)
        path_order = list(PATH_LABELS)
        return {
            "audience": sorted(audiences, key=audience_label),
            "grade": sorted(
                grades, key=lambda g_: grade_order.index(g_) if g_ in grade_order else 99
            ),
            "topic": sorted(topics, key=lambda topic: topic_names[topic].name.casefold()),
            "path": sorted(paths, key=lambda p: path_order.index(p) if p in path_order else 99),
        }


@dataclass(frozen=True)
class TopicName:
    name: str
    language: (
        str  # the locale asked for, or the course file's own language where it has no translation
    )


def topic_names(courses: Iterable[LoadedCourse], locale: str) -> dict[str, TopicName]:
    """Each topic (as the course files name it, the filter's value) named in ``locale``.

    A translation lists a course's topics in the same order (the loader checks the count), so
    they pair by position; a course that translates a topic names it before one that does not.
    """
    names: dict[str, TopicName] = {}
    for course in sorted(courses, key=lambda course: not course.is_translated("topics", locale)):
        language = (
            locale if course.is_translated("topics", locale) else course.definition.languages[0]
        )
        for topic, name in zip(
            course.definition.topics, course.localized("topics", locale), strict=True
        ):
            names.setdefault(topic, TopicName(name, language))
    return names


def filter_courses(courses: Iterable[LoadedCourse], filters: CatalogFilters) -> list[LoadedCourse]:
    shown = []
    locale = current_locale()
    needle = filters.q.casefold()
    for course in courses:
        d = course.definition
        if filters.audience and filters.audience not in d.audience_roles:
            continue
        if filters.grade and filters.grade not in d.grades:
            continue
        if filters.topic and filters.topic not in d.topics:
            continue
        if filters.path and filters.path not in d.paths:
            continue
        if needle:
            haystack = " ".join(
                [
                    course.localized("title", locale),
                    course.localized("summary", locale),
                    *d.topics,
                    *course.localized("topics", locale),
                ]
            ).casefold()
            if needle not in haystack:
                continue
        shown.append(course)
    return shown


# Sections other areas add to a course page (start buttons, live cohorts...): each takes the
# course and returns HTML, or "" when it has nothing to show.
CoursePanel = Callable[[LoadedCourse], str]


def register_course_panel(
    app: Flask, panel: CoursePanel, *, of_kept_parts: bool = False
) -> CoursePanel:
    """Show ``panel`` on this app's course pages, after the panels registered before it.

    The engine's areas register theirs when their blueprint is registered on the app; a host
    may add its own after ``LMS.init_app``. Another app in the same process is not affected.
    ``of_kept_parts``: the panel builds what it shows from parts it keeps
    (``lms.web.caching.kept``), and calls ``lms.caching.built_for_this_request_only`` when it
    reads something for the request alone; while every panel does, the whole page is kept.
    """
    state = lms_state(app)
    if panel not in state.course_panels:
        state.course_panels.append(panel)
    if of_kept_parts:
        state.panels_of_kept_parts.add(panel)
    return panel


def course_details_context(course: LoadedCourse) -> dict[str, Any]:
    """What ``_course_details.html`` shows: the course file, in the current locale."""
    locale = current_locale()
    d = course.definition
    topics = course.localized("topics", locale)
    return {
        "course": course,
        "definition": d,
        "locale": locale,
        "content_language": course.content_language(locale),
        "title": course.localized("title", locale),
        "summary": course.localized("summary", locale),
        "description_html": render_markdown(course.localized("description", locale)),
        "developed_by": course.localized("developed_by", locale),
        "outcomes": course.localized("outcomes", locale),
        "topics": topics,
        "length": format_minutes(d.minutes),
        "audience_label": audience_label,
        "grade_label": grade_label,
        "path_label": path_label,
        "format_label": format_label,
    }


def course_panels(course: LoadedCourse) -> list[str]:
    state = lms_state()
    if not state.panels_of_kept_parts.issuperset(state.course_panels):
        built_for_this_request_only()  # a panel that keeps nothing may show anything
    return [html for panel in state.course_panels if (html := panel(course))]


def content_lang_attr(course: LoadedCourse) -> str:
    return course.content_language(current_locale())
