"""Rendered HTML of the parts of public pages that depend only on the course files.

The catalog's results and a course page's description change only when the catalog reloads,
so each worker renders them once per (locale, what was asked) and keeps them until then
(``CourseCatalog.rendered``). The parts that depend on the visitor or the database (the
header, sessions, start buttons) are rendered on every request around them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache
from markupsafe import Markup

# Catalog searches are free text: the bound keeps a worker's memory flat (an entry is a few KB).
MAX_FRAGMENTS = 256


class FragmentCache:
    def __init__(self, maxsize: int = MAX_FRAGMENTS) -> None:
        self._entries: LRUCache[Hashable, Markup] = LRUCache(maxsize)
        self._lock = threading.Lock()  # LRUCache reorders itself on reads: gthread workers share it

    def get(self, key: Hashable, render: Callable[[], str]) -> Markup:
        with self._lock:
            html = self._entries.get(key)
        if html is None:
            # Rendered outside the lock: two threads may both render a missing entry, which is
            # harmless, while one slow render never holds up the others' hits.
            html = Markup(render())
            with self._lock:
                self._entries[key] = html
        return html

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
