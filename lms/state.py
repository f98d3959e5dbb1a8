"""What the engine keeps for each app it is registered on, in ``app.extensions["lms"]``.

A leaf module: services, views and the extension all read the state through
:func:`lms_state`, and it imports nothing of the engine's, so reading it never pulls in the
extension or the web layer (the import-linter contracts in ``pyproject.toml`` hold it so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from lms.caching import PageCache, WorkerCache
    from lms.courses.catalog import CourseCatalog
    from lms.db import DatabaseState


@dataclass
class LMSState:
    """One app's engine: its database, course catalog, caches and course page panels."""

    extension: Any  # lms.extension.LMS
    url_prefix: str
    database: DatabaseState
    catalog: CourseCatalog
    page_cache: PageCache
    blueprints: list[str] = field(default_factory=list)
    # True when the LMS is the whole app (create_app): its pages, error pages included, are ours.
    standalone: bool = False
    # Sections other areas (or the host) add to a course page, in the order they were
    # registered (lms.courses.presentation.register_course_panel).
    course_panels: list[Callable[[Any], str]] = field(default_factory=list)
    # Those of them that build what they show from kept parts, or say when they cannot
    # (lms.caching.built_for_this_request_only): a course page of such panels only is kept whole.
    panels_of_kept_parts: set[Callable[[Any], str]] = field(default_factory=set)

    def cache(self, kind: str) -> WorkerCache[Any]:
        """This worker's cache of one kind of page part (``lms.caching.PageCache.kept``)."""
        return self.page_cache.worker_cache(kind)


def lms_state(app: Flask | None = None) -> LMSState:
    return (app or current_app).extensions["lms"]
