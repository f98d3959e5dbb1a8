"""Pages, or parts of them, that the engine keeps between requests, and what tells every
process that they are out of date.

Two stores, each for what it does best:

- **Versions** live in a store every process of the deployment shares (Flask-Caching: Redis
  when ``LMS_REDIS_URL`` is set, else files in the instance folder, which every worker and CLI
  command of one machine shares). A version is a random token per person (``person:<id>``:
  their dashboard) and per course (``course:<slug>``: its live sessions as signed-out visitors
  see them). After a transaction that wrote what a version covers commits, it is set to a new
  token (``lms.invalidation``); no database row is written or locked for it.
- **Parts of pages** are kept in each worker's memory (``WorkerCache``), filed under the tokens
  of the versions they depend on, read *before* the records they are built from. A token is
  never used twice, so a part filed under the current token was built from records at least as
  new as the last commit whose bump came before that read; a later commit sets a new token and
  the part is never served again. The writer's own bump happens before their response is sent,
  so they see what they wrote on their next page.

A key also holds what the part was built from that is not in the database: the catalog's
generation, the locale, the time zone and where the app is served from. A value that depends on
the clock (a session that starts, a registration that closes) carries the time it stops being
true. Nothing that differs between two visitors with the same key is ever kept: no CSRF token,
no "you are registered", no one's name but the key's owner's. A whole page built from kept parts
is kept too (``PageCache.kept_whole``) until the first of its parts stops being true; a signed-in
one keeps a hole where the CSRF token was, filled for each request (``lms.web.caching``).

Totals that are costly to count and may lag by seconds (the report's) are kept in the shared
store for a short time instead (``shared``), and the page says how old they may be.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from flask import Flask, g, has_request_context
from flask_caching import Cache

from lms.db import utcnow

V = TypeVar("V")

logger = logging.getLogger(__name__)

# An entry is a few KB of HTML: the bound keeps a worker's memory flat.
DEFAULT_SIZE = 256
CACHE_SIZES = {
    "dashboard": 2048,  # one entry per learner who came back recently (~10 KB each)
    "pending-evaluations": 2048,  # one short list per learner
    "report-page": 64,  # a page of report rows (~40 KB) per viewer, filters and page
    "signed-in": 4096,  # a sign-in's person (a detached ORM object) per browser seen recently
    "dashboard-page": 1024,  # a learner's whole dashboard (~15 KB) for those who came back lately
    "catalog-page": 1024,  # the catalog as signed-out visitors and each signed-in person see it
    "report-whole": 64,  # a whole page of the report per viewer, filters and page
}

# A version nobody bumped for this long is dropped; the next reader draws a new token, which is
# always safe (it only costs a rebuild). It also bounds how long a bump lost to a store outage
# can leave a page behind.
VERSION_SECONDS = 6 * 3600
# Files the instance-folder store keeps before it prunes the oldest (one per person or course
# seen recently, plus the report's totals).
FILE_STORE_THRESHOLD = 50_000


def person(user_id: int) -> str:
    """The version of what a person's dashboard shows."""
    return f"person:{user_id}"


def course(slug: str) -> str:
    """The version of a course's live sessions and their seats."""
    return f"course:{slug}"


class WorkerCache(Generic[V]):
    """A bounded in-memory cache of one worker, shared by its threads."""

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self._entries: LRUCache[Hashable, tuple[V, datetime | None]] = LRUCache(maxsize)
        self._lock = threading.Lock()  # LRUCache reorders itself on reads: gthread workers share it

    def get(
        self,
        key: Hashable,
        compute: Callable[[], V],
        *,
        until: Callable[[V], datetime | None] | None = None,
    ) -> V:
        """The value kept under ``key``, else ``compute()`` kept there; ``until(value)`` is when
        it stops being true (None: not before its key changes)."""
        return self.entry(key, compute, until=until)[0]

    def entry(
        self,
        key: Hashable,
        compute: Callable[[], V],
        *,
        until: Callable[[V], datetime | None] | None = None,
    ) -> tuple[V, datetime | None]:
        """``get``'s value with the time it stops being true."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and (entry[1] is None or utcnow() < entry[1]):
            return entry
        # Computed outside the lock: two threads may both compute a missing entry, which is
        # harmless, while one slow computation never holds up the others' hits.
        value = compute()
        entry = (value, until(value) if until else None)
        with self._lock:
            self._entries[key] = entry
        return entry

    def peek(self, key: Hashable) -> V | None:
        """The value kept under ``key`` if it is still true, else None; nothing is computed."""
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and (entry[1] is None or utcnow() < entry[1]):
            return entry[0]
        return None

    def put(self, key: Hashable, value: V, until: datetime | None = None) -> None:
        with self._lock:
            self._entries[key] = (value, until)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def store_config(app: Flask) -> dict[str, Any]:
    """Flask-Caching's settings for the engine's shared store, from the ``LMS_`` settings only
    (a host's own ``CACHE_*`` settings are for its own cache)."""
    config: dict[str, Any] = {
        "CACHE_DEFAULT_TIMEOUT": VERSION_SECONDS,
        "CACHE_KEY_PREFIX": "",
        "CACHE_OPTIONS": None,
        "CACHE_ARGS": [],
        "CACHE_SOURCE_CHECK": False,
        "CACHE_NO_NULL_WARNING": True,
    }
    redis_url = app.config.get("LMS_REDIS_URL")
    if redis_url:
        return {**config, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url}
    directory = app.config.get("LMS_CACHE_DIR") or os.path.join(app.instance_path, "cache")
    return {
        **config,
        "CACHE_TYPE": "FileSystemCache",
        "CACHE_DIR": str(directory),
        "CACHE_THRESHOLD": FILE_STORE_THRESHOLD,
    }


class PageCache:
    """One app's kept pages: the shared versions and totals, and each kind's worker cache."""

    def __init__(self, app: Flask, database_url: str) -> None:
        config = store_config(app)
        if config["CACHE_TYPE"] == "FileSystemCache":
            Path(config["CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        self.shared_kind = config["CACHE_TYPE"]
        self.store = Cache(with_jinja2_ext=False)
        self.store.init_app(app, config=config)
        # Two deployments that share a Redis database (or an instance folder) but not a
        # database never read each other's totals.
        self._namespace = "lms:" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"
        self._worker_caches: dict[str, WorkerCache[Any]] = {}
        self._lock = threading.Lock()
        # Where a kept signed-in page had its CSRF token: random, so no text can fake one.
        self.token_hole = "lms-token-hole-" + secrets.token_hex(12)

    def worker_cache(self, kind: str) -> WorkerCache[Any]:
        with self._lock:
            if kind not in self._worker_caches:
                self._worker_caches[kind] = WorkerCache(CACHE_SIZES.get(kind, DEFAULT_SIZE))
            return self._worker_caches[kind]

    # -- versions -------------------------------------------------------------------------

    def versions(self, names: Iterable[str]) -> tuple[str, ...] | None:
        """The current token of each version, drawing one for a version that has none.

        None when the shared store cannot answer: then nothing may be kept or served from
        memory, since a bump may have been missed.
        """
        names = tuple(names)
        # Read once per request: its parts are built from one reading of each version, and a
        # page showing two kept parts of one person's records asks for theirs twice.
        read: dict[str, str] | None = (
            g.setdefault(_VERSIONS_READ, {}) if has_request_context() else None
        )
        if read is not None and all(name in read for name in names):
            return tuple(read[name] for name in names)
        keys = [self._namespace + "v:" + name for name in names]
        try:
            tokens = list(self.store.get_many(*keys))
            for index, token in enumerate(tokens):
                if token is None:
                    # add() keeps a token another process set in between; either is new.
                    self.store.add(keys[index], _new_token(), timeout=VERSION_SECONDS)
                    tokens[index] = self.store.get(keys[index])
        except Exception:
            logger.exception(
                "The page cache's shared store did not answer; pages are built afresh."
            )
            return None
        if any(token is None for token in tokens):
            return None
        if read is not None:
            read.update(zip(names, tokens, strict=True))
        return tuple(tokens)

    def bump(self, names: Iterable[str]) -> None:
        """Give each version a new token: what was kept under the old ones is never served again.

        Called after the transaction that changed what they cover has committed.
        """
        keys = sorted({self._namespace + "v:" + name for name in names})
        if not keys:
            return
        if has_request_context():
            g.pop(_VERSIONS_READ, None)  # this request's later parts read the new tokens
        token = _new_token()
        try:
            self.store.set_many(dict.fromkeys(keys, token), timeout=VERSION_SECONDS)
        except Exception:
            logger.exception(
                "Could not bump %d page versions after a commit; kept pages may lag until their versions expire.",
                len(keys),
            )
            # This worker at least forgets what it kept.
            with self._lock:
                caches = list(self._worker_caches.values())
            for cache in caches:
                cache.clear()

    # -- kept parts -----------------------------------------------------------------------

    def kept(
        self,
        kind: str,
        key: tuple[Any, ...],
        build: Callable[[], V],
        *,
        versions: Iterable[str] = (),
        until: Callable[[V], datetime | None] | None = None,
    ) -> V:
        """A part of a page kept in this worker under ``key`` and the current tokens of
        ``versions``, read here, before ``build`` reads the records."""
        names = tuple(versions)
        tokens: tuple[str, ...] | None = ()
        if names:
            tokens = self.versions(names)
            if tokens is None:
                built_for_this_request_only()
                return build()
        value, valid_until = self.worker_cache(kind).entry((*key, tokens), build, until=until)
        for page in _pages_being_built():
            page.note(valid_until, dict(zip(names, tokens, strict=True)))
        return value

    def kept_whole(
        self,
        kind: str,
        key: tuple[Any, ...],
        build: Callable[[], V],
        *,
        versions: Iterable[str] = (),
    ) -> V:
        """A value built from kept parts (``kept``), itself kept under ``key`` and the tokens of
        ``versions`` (what it shows beyond its parts).

        Kept with the versions its parts were kept under and their tokens then: served while
        each still has that token, and until the first part stops being true; not kept at all
        when a part could not be kept or its build called ``built_for_this_request_only``.
        """
        names = tuple(versions)
        tokens = self.versions(names) if names else ()
        if tokens is None:
            return build()
        cache = self.worker_cache(kind)
        found = cache.peek((*key, tokens))
        if found is not None:
            value, read = found
            # The parts' tokens are read before anything is served, as each part's own are.
            if not read or self.versions(read) == tuple(read.values()):
                return value
        parts = _PartsRead()
        building = _pages_being_built()
        building.append(parts)
        try:
            value = build()
        finally:
            building.remove(parts)
        if parts.keepable:
            cache.put((*key, tokens), (value, parts.versions), parts.until)
        return value

    def kept_under_its_own_version(
        self,
        kind: str,
        key: tuple[Any, ...],
        build: Callable[[], V],
        *,
        version_of: Callable[[V], str | None],
        until: Callable[[V], datetime | None] | None = None,
    ) -> V:
        """A value kept in this worker under ``key`` whose version only the value names (a
        sign-in's person is known once the sign-in is read).

        The rule of ``kept`` holds, the token read before the records: a first ``build`` keeps
        nothing but the name ``version_of`` gives (a hint, never served); the next request reads
        that version's token first, then builds, and keeps the value under the token. A value
        whose ``version_of`` is None (nothing found) is kept under the version noted before, so a
        sign-in that ended is not looked up again until that version moves.
        """
        cache = self.worker_cache(kind)
        named = cache.peek(("version", key))
        if named is None:
            value = build()
            version = version_of(value)
            if version is not None:
                cache.put(("version", key), version)
            return value
        tokens = self.versions((named,))
        if tokens is None:
            return build()
        return cache.get((key, named, tokens), build, until=until)

    # -- shared values with a lifetime ----------------------------------------------------

    def shared(
        self, key: tuple[Any, ...], build: Callable[[], V], *, seconds: int
    ) -> tuple[V, datetime]:
        """``build()``'s value and when it was built, kept in the shared store for ``seconds``
        under ``key`` (its ``repr`` must name everything the value depends on)."""
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        store_key = self._namespace + "s:" + digest
        try:
            found = self.store.get(store_key)
        except Exception:
            logger.exception(
                "The page cache's shared store did not answer; totals are counted afresh."
            )
            found = None
        if found is not None:
            return found
        built = (build(), utcnow())
        try:
            self.store.set(store_key, built, timeout=seconds)
        except Exception:
            logger.exception("Could not keep totals in the page cache's shared store.")
        return built


_VERSIONS_READ = "lms_versions_read"
_PAGES_BEING_BUILT = "lms_pages_being_built"


class _PartsRead:
    """What the parts of a whole page being built were kept under: the versions and their
    tokens, when the first part stops being true, and whether each could be kept at all."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.until: datetime | None = None
        self.keepable = True

    def note(self, until: datetime | None, versions: dict[str, str]) -> None:
        for name, token in versions.items():
            if self.versions.setdefault(name, token) != token:
                self.keepable = False  # a bump came between two parts: they disagree
        if until is not None and (self.until is None or until < self.until):
            self.until = until


def _pages_being_built() -> list[_PartsRead]:
    return g.setdefault(_PAGES_BEING_BUILT, []) if has_request_context() else []


def built_for_this_request_only() -> None:
    """Say that what is being built holds something read for this request alone (a live list, a
    form's token): a whole page built around it (``PageCache.kept_whole``) is not kept."""
    for page in _pages_being_built():
        page.keepable = False


def _new_token() -> str:
    return secrets.token_hex(8)
