"""What a worker keeps in memory between requests: pages, or parts of them, built from records
that rarely change, filed under whatever says they changed.

A key holds everything the value was built from that can change: the catalog's generation for
what the course files say (``CourseCatalog.rendered``), a change stamp for what the database
holds (``lms.stamps``), the locale and time zone it was rendered for. A new stamp or generation
is a new key, so nothing needs clearing; the bound drops the keys nobody asks for any more.
A value that also depends on the clock (a session that starts, a registration that closes)
carries the time it stops being true.

Nothing that differs between two visitors with the same key is ever kept: no CSRF token, no
"you are registered", no one's name but the key's owner's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from cachetools import LRUCache

from lms.db import utcnow

V = TypeVar("V")

# An entry is a few KB of HTML or a page of report rows: the bound keeps a worker's memory flat.
DEFAULT_SIZE = 256
CACHE_SIZES = {"dashboard": 2048}  # one entry per learner who came back recently (~10 KB each)


class WorkerCache(Generic[V]):
    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self._entries: LRUCache[Hashable, tuple[V, datetime | None]] = LRUCache(maxsize)
        self._lock = threading.Lock()  # LRUCache reorders itself on reads: gthread workers share it

    def get(self, key: Hashable, compute: Callable[[], V], *, until: Callable[[V], datetime | None] | None = None) -> V:
        """The value kept under ``key``, else ``compute()`` kept there; ``until(value)`` is when
        it stops being true (None: not before its key changes)."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and (entry[1] is None or utcnow() < entry[1]):
            return entry[0]
        # Computed outside the lock: two threads may both compute a missing entry, which is
        # harmless, while one slow computation never holds up the others' hits.
        value = compute()
        with self._lock:
            self._entries[key] = (value, until(value) if until else None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
