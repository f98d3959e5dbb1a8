"""The benchmark database: the project's schema and courses, then 100,000 learners and 1,000,000
enrollments bulk-loaded with the raw sqlite3 module.

    python -m bench.generate [--scale 0.01] [-o FILE] [--force]

The schema comes from the project's own migrations (``lms.migrations.upgrade``) and the shipped
courses from ``CourseCatalog.sync``, so the rows point at real course ids and step ids. The
learners' rows are then written in one transaction with ``executemany``, journal and sync off,
the secondary indexes dropped during the load and rebuilt from their own DDL afterwards; the file
is left in WAL mode, as the app runs it.

Timestamps are written exactly as SQLAlchemy's SQLite dialect stores ``UTCDateTime``
(``YYYY-MM-DD HH:MM:SS.ffffff``, UTC, no offset); enums as their member *names*
(``AttendanceSource.import_`` is stored as ``import_``); booleans as 0/1; dates as ``YYYY-MM-DD``.

The file is cached in ``bench/.cache/`` under a key made of this file, the migrations, the
shipped courses and the scale, so a second run reuses it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import CACHE_DIR, COURSES_DIR, REPO_DIR, log

GENERATOR_VERSION = 1
FULL_LEARNERS = 100_000
FULL_ENROLLMENTS = 1_000_000
FACILITATORS = 40
SEED = 20261124
BENCH_PASSWORD = "bench-password-not-secret"
ADMIN_EMAIL = "bench-admin@example.org"
LEARNER_EMAIL = "bench-learner@example.org"
# The columns each bulk insert fills, in the order the row tuples below carry them.
COLUMNS = {
    "lms_user": "id email display_name password_hash locale time_zone is_facilitator is_admin "
    "affiliate audience_role active created_at last_login_at",
    "lms_cohort": "id course_id title starts_at time_zone minutes join_url location capacity "
    "registration_opens_at registration_closes_at status cancellation_note created_by_id "
    "created_at",
    "lms_cohort_facilitator": "cohort_id user_id",
    "lms_enrollment": "id user_id course_id path cohort_id status created_at started_at completed_at withdrawn_at",
    "lms_attendance": "enrollment_id status minutes source recorded_by_id recorded_at",
    "lms_step_progress": "enrollment_id step_id segments duration fraction state updated_at",
    "lms_reflection": "enrollment_id prompt_id body status shared_with_facilitator word_count "
    "created_at updated_at submitted_at",
    "lms_certificate": "code enrollment_id learner_name course_title hours session_date "
    "facilitator_name organisation locale issued_at issued_by_id revoked_at revoked_reason "
    "revoked_by_id",
}
TABLES = (
    "lms_user",
    "lms_cohort",
    "lms_cohort_facilitator",
    "lms_enrollment",
    "lms_attendance",
    "lms_step_progress",
    "lms_reflection",
    "lms_certificate",
)

FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "José",
    "Fatima",
    "Olga",
    "Kwame",
    "Priya",
    "Emily",
    "Luis",
    "Ngozi",
    "Hiroshi",
    "Sofía",
    "Dmitri",
    "Amara",
    "Chen",
    "Gabriel",
    "Leila",
    "Tomás",
    "Yuki",
    "Zainab",
    "Daniel",
    "Ana",
    "Mohammed",
    "Grace",
    "Juan",
    "Mei",
    "Samuel",
    "Lucía",
    "Ahmed",
    "Hannah",
    "Raj",
    "Camila",
    "Jin",
    "Esther",
    "محمد",
    "Анна",
    "李",
    "Σοφία",
    "דוד",
    "प्रिया",
    "Nguyễn",
    "Siobhán",
    "Bjørn",
    "Zoë",
)
LAST_NAMES = (
    "Garcia",
    "Smith",
    "Johnson",
    "Nguyen",
    "Hernández",
    "Okafor",
    "Kim",
    "Patel",
    "Williams",
    "Brown",
    "López",
    "Mensah",
    "Chen",
    "Ivanova",
    "Rodríguez",
    "Jackson",
    "Tanaka",
    "Haddad",
    "O'Brien",
    "Martínez",
    "Davis",
    "Abdullah",
    "Wilson",
    "Pérez",
    "Washington",
    "Yamamoto",
    "Santos",
    "Lee",
    "Moore",
    "Rivera",
    "Thompson",
    "Müller",
    "Kowalski",
    "Begay",
    "Ramírez",
    "Singh",
    "Cohen",
    "Adeyemi",
    "Wang",
    "Flores",
)
AFFILIATES = (
    "Alabama Education Association",
    "California Teachers Association",
    "Florida Education Association",
    "Illinois Education Association",
    "Michigan Education Association",
    "New Jersey Education Association",
    "Ohio Education Association",
    "Pennsylvania State Education Association",
    "Texas State Teachers Association",
    "Washington Education Association",
    "NEA New Mexico",
    "Oregon Education Association",
    "",
    "",
)
AUDIENCE_ROLES = (
    "education-support-professional",
    "education-support-professional",
    "teacher",
    "teacher",
    "higher-education-faculty",
    "administrator",
    "affiliate-leader",
    "affiliate-member",
    "other",
    "",
)
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Puerto_Rico",
)
REFLECTION_WORDS = (
    "students",
    "school",
    "colleagues",
    "justice",
    "fairness",
    "bus",
    "cafeteria",
    "listening",
    "community",
    "families",
    "respect",
    "conversation",
    "support",
    "change",
    "every",
    "day",
    "learned",
    "session",
    "equity",
    "trust",
    "voice",
    "belonging",
    "the",
    "and",
    "we",
    "our",
    "with",
    "to",
    "a",
    "of",
    "in",
    "that",
    "I",
    "how",
)


@dataclass(frozen=True)
class Dataset:
    path: Path
    meta: dict[str, Any]


# --------------------------------------------------------------------------------------- cache


def cache_key(scale: float) -> str:
    digest = hashlib.sha256()
    digest.update(f"v{GENERATOR_VERSION} scale={scale!r}\0".encode())
    for path in [Path(__file__), *sorted((REPO_DIR / "lms" / "migrations").rglob("*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    from lms.courses.loader import content_hash, course_folders

    for folder in course_folders(
        COURSES_DIR
    ):  # shipped courses: their ids and step ids are in the rows
        digest.update(folder.name.encode() + content_hash(folder).encode())
    return digest.hexdigest()[:16]


def ensure_dataset(scale: float, force: bool = False, output: Path | None = None) -> Dataset:
    """The cached database for ``scale``, generated first if it is missing or stale."""
    key = cache_key(scale)
    path = output or CACHE_DIR / f"lms-scale{scale:g}-{key}.sqlite"
    meta_path = path.with_suffix(".json")
    if not force and path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            meta["cached"] = True
            return Dataset(path, meta)
    if output is None:  # older generations of the same scale are dead weight (hundreds of MB)
        for old in CACHE_DIR.glob(f"lms-scale{scale:g}-*.sqlite*"):
            old.unlink()
        for old in CACHE_DIR.glob(f"lms-scale{scale:g}-*.json"):
            old.unlink()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    meta = generate(partial, scale)
    meta["key"] = key
    meta["generation_seconds"] = round(time.perf_counter() - started, 2)
    partial.rename(path)
    meta_path.write_text(json.dumps(meta, indent=2))
    meta["cached"] = False
    return Dataset(path, meta)


# --------------------------------------------------------------------------------------- helpers


def ts(moment: datetime) -> str:
    """A naive UTC timestamp as SQLAlchemy's SQLite dialect stores a DateTime: no offset, six decimals."""
    return moment.isoformat(" ", "microseconds")


def _check_formats() -> None:
    """The raw rows must look exactly like what SQLAlchemy writes: ask its SQLite dialect."""
    from sqlalchemy import Date
    from sqlalchemy.dialects import sqlite

    from lms.db import UTCDateTime

    dialect = sqlite.dialect()
    to_db = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    date_to_db = Date().dialect_impl(dialect).bind_processor(dialect)
    for sample in (datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 11, 24, 14, 31, 34, 844077)):
        expected = to_db(sample.replace(tzinfo=UTC)) if to_db else sample.isoformat(" ")
        if ts(sample) != expected:
            raise SystemExit(
                f"bench.generate writes {ts(sample)!r}, SQLAlchemy writes {expected!r}: fix ts()"
            )
    if date_to_db and date_to_db(datetime(2026, 1, 2).date()) != "2026-01-02":
        raise SystemExit(
            "SQLAlchemy's SQLite dates are no longer YYYY-MM-DD: fix the certificate rows"
        )


def _read_back(db_path: Path) -> None:
    """Load a sample of every generated table through the models: enums, dates and timestamps parse."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from lms.db import make_engine
    from lms.models import (
        Attendance,
        Certificate,
        Cohort,
        Enrollment,
        Reflection,
        StepProgress,
        User,
    )

    engine = make_engine(f"sqlite:///{db_path}")
    with Session(engine) as session:
        for model in (User, Cohort, Enrollment, Attendance, StepProgress, Reflection, Certificate):
            for row in session.scalars(select(model).order_by(model.id.desc()).limit(200)):
                for column in model.__table__.columns:
                    getattr(row, column.key)
    engine.dispose()


def _schema_and_courses(path: Path) -> dict[str, Any]:
    """Migrations and the shipped courses, through the project's own code."""
    from sqlalchemy.orm import Session

    from lms import migrations
    from lms.courses.catalog import CourseCatalog
    from lms.db import make_engine

    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    catalog = CourseCatalog(COURSES_DIR)
    with Session(engine) as session:
        report = catalog.sync(session)
        session.commit()
        if report.problems:
            raise SystemExit(
                "shipped courses have problems: " + "; ".join(map(str, report.problems))
            )
        from sqlalchemy import select

        from lms.courses.models import Course

        ids = {row.slug: row.id for row in session.scalars(select(Course))}
    engine.dispose()
    courses = {}
    for loaded in catalog.all():
        definition = loaded.definition
        courses[loaded.slug] = {
            "id": ids[loaded.slug],
            "title": definition.title,
            "paths": list(definition.paths),
            "minutes": definition.minutes,
            "certificate": (definition.certificate.hours, definition.certificate.minimum_minutes)
            if definition.certificate
            else None,
            "steps": {
                path: [
                    (step.id, step.kind, getattr(step, "duration_seconds", None))
                    for step in definition.steps_for(path)
                ]
                for path in definition.paths
            },
            "languages": list(definition.languages),
        }
    return courses


def _drop_indexes(con: sqlite3.Connection) -> list[str]:
    placeholders = ",".join("?" * len(TABLES))
    rows = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name "
        f"IN ({placeholders})",
        TABLES,
    ).fetchall()
    for name, _sql in rows:
        con.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in rows]


def _insert(con: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> int:
    columns = COLUMNS[table].split()
    con.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
    )
    return len(rows)


def _reflection_body(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(REFLECTION_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


# --------------------------------------------------------------------------------------- generate


def generate(db_path: Path, scale: float) -> dict[str, Any]:
    rng = random.Random(SEED)
    n_learners = max(50, round(FULL_LEARNERS * scale))
    n_enrollments = max(500, round(FULL_ENROLLMENTS * scale))
    log(f"generating {n_learners:,} learners and {n_enrollments:,} enrollments into {db_path.name}")
    t0 = time.perf_counter()
    _check_formats()
    courses = _schema_and_courses(db_path)
    from werkzeug.security import generate_password_hash

    password_hash = generate_password_hash(BENCH_PASSWORD)  # one hash for everybody
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)  # naive UTC: stored without offset
    counts: dict[str, int] = {}

    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA foreign_keys=OFF")  # ids are made consistent here; checked below
    con.execute("PRAGMA cache_size=-262144")
    con.execute("BEGIN")
    index_sql = _drop_indexes(con)

    # ---- people: 1 admin, facilitators, then learners
    users = []
    admin_id = 1
    users.append(
        (
            admin_id,
            ADMIN_EMAIL,
            "Bench Admin",
            password_hash,
            "en",
            "America/New_York",
            1,
            1,
            "",
            "administrator",
            1,
            ts(now - timedelta(days=1200)),
            None,
        )
    )
    facilitator_ids = list(range(2, 2 + FACILITATORS))
    for uid in facilitator_ids:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        users.append(
            (
                uid,
                f"facilitator{uid:03d}@example.org",
                name,
                password_hash,
                "en",
                rng.choice(TIME_ZONES),
                1,
                0,
                rng.choice(AFFILIATES),
                "teacher",
                1,
                ts(now - timedelta(days=1100)),
                None,
            )
        )
    first_learner = 2 + FACILITATORS
    learner_ids = range(first_learner, first_learner + n_learners)
    for uid in learner_ids:
        created = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        users.append(
            (
                uid,
                f"learner{uid:07d}@example.org",
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                password_hash,
                "es" if rng.random() < 0.2 else "en",
                rng.choice(TIME_ZONES),
                0,
                0,
                rng.choice(AFFILIATES),
                rng.choice(AUDIENCE_ROLES),
                0 if rng.random() < 0.01 else 1,
                ts(created),
                ts(created + timedelta(days=rng.randrange(30))) if rng.random() < 0.7 else None,
            )
        )
    counts["lms_user"] = _insert(con, "lms_user", users)
    con.execute(
        "UPDATE lms_user SET email_confirmed_at = created_at"
    )  # an organisation's people, long confirmed
    from lms.accounts.models import folded

    # The report's affiliate filter matches the case-folded column, which the ORM keeps in step.
    con.executemany(
        "UPDATE lms_user SET affiliate_key = ? WHERE affiliate = ?",
        [(folded(name), name) for name in AFFILIATES if name],
    )
    user_names = {row[0]: row[2] for row in users}
    del users

    # ---- enrollments off-cohort: at most one per learner per (course, path)
    self_directed = [
        (slug, path)
        for slug, course in courses.items()
        for path in course["paths"]
        if path != "live"
    ]
    live_courses = [slug for slug, course in courses.items() if "live" in course["paths"]]
    per_combo = min(0.85, 0.2 * n_enrollments / max(1, n_learners * len(self_directed)))
    enrollment_rows: list[tuple[Any, ...]] = []
    attendance_rows: list[tuple[Any, ...]] = []
    progress_rows: list[tuple[Any, ...]] = []
    reflection_rows: list[tuple[Any, ...]] = []
    certificate_rows: list[tuple[Any, ...]] = []
    reflection_bodies = [_reflection_body(rng, rng.randrange(40, 70)) for _ in range(200)]
    next_id = 1
    used_codes: set[str] = set()

    def add_reflections(
        enrollment_id: int, course: dict[str, Any], path: str, at: datetime, submitted_all: bool
    ) -> None:
        for step_id, kind, _duration in course["steps"][path]:
            if kind != "reflect":
                continue
            if not submitted_all and rng.random() < 0.5:
                continue
            body = rng.choice(reflection_bodies)
            submitted = submitted_all or rng.random() < 0.5
            reflection_rows.append(
                (
                    enrollment_id,
                    step_id,
                    body,
                    "submitted" if submitted else "draft",
                    1 if rng.random() < 0.6 else 0,
                    len(body.split()),
                    ts(at),
                    ts(at + timedelta(minutes=5)),
                    ts(at + timedelta(minutes=5)) if submitted else None,
                )
            )

    def add_progress(
        enrollment_id: int, course: dict[str, Any], path: str, at: datetime, done: bool
    ) -> None:
        for step_id, kind, duration in course["steps"][path]:
            if kind == "watch":
                length = float(duration or 1800)
                fraction = 1.0 if done else round(rng.random() * 0.9, 3)
                segments = json.dumps([[0, round(length * fraction, 1)]]) if fraction else "[]"
                state = "done" if done else ("in_progress" if fraction else "not_started")
                progress_rows.append(
                    (enrollment_id, step_id, segments, length, fraction, state, ts(at))
                )
            elif kind == "read" and (done or rng.random() < 0.6):
                progress_rows.append((enrollment_id, step_id, "[]", None, 1.0, "done", ts(at)))

    for uid in learner_ids:
        for slug, course_path in self_directed:
            if rng.random() >= per_combo:
                continue
            course = courses[slug]
            created = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
            roll = rng.random()
            status = "completed" if roll < 0.45 else "in_progress" if roll < 0.9 else "withdrawn"
            completed = (
                created + timedelta(days=rng.randrange(1, 40)) if status == "completed" else None
            )
            if completed and completed > now:
                completed = now
            enrollment_rows.append(
                (
                    next_id,
                    uid,
                    course["id"],
                    course_path,
                    None,
                    status,
                    ts(created),
                    ts(created + timedelta(minutes=2)),
                    ts(completed) if completed else None,
                    ts(created + timedelta(days=3)) if status == "withdrawn" else None,
                )
            )
            add_progress(next_id, course, course_path, completed or created, status == "completed")
            if rng.random() < (0.5 if status == "completed" else 0.15):
                add_reflections(
                    next_id, course, course_path, completed or created, status == "completed"
                )
            next_id += 1

    # ---- live cohorts: the rest of the enrollments, one per learner per cohort
    live_target = n_enrollments - len(enrollment_rows)
    cohort_rows: list[tuple[Any, ...]] = []
    cohort_facilitator_rows: list[tuple[int, int]] = []
    cohort_id = 0
    learner_list = list(learner_ids)
    live_made = 0
    while live_made < live_target:
        cohort_id += 1
        slug = live_courses[cohort_id % len(live_courses)]
        course = courses[slug]
        capacity = rng.choice((50, 80, 100, 150))
        starts = now + timedelta(days=rng.uniform(-3 * 365, 60))
        starts = starts.replace(minute=0, second=0, microsecond=0)
        past = starts + timedelta(minutes=course["minutes"]) < now
        status = "closed" if past and rng.random() < 0.8 else "scheduled"
        if rng.random() < 0.02:
            status = "cancelled"
        facilitators = rng.sample(facilitator_ids, rng.choice((1, 1, 2)))
        cohort_rows.append(
            (
                cohort_id,
                course["id"],
                f"{course['title'][:120]} — session {cohort_id}",
                ts(starts),
                rng.choice(TIME_ZONES),
                course["minutes"],
                "https://meet.example.org/" + str(cohort_id),
                "",
                capacity,
                ts(starts - timedelta(days=30)),
                ts(starts - timedelta(hours=1)),
                status,
                "",
                facilitators[0],
                ts(starts - timedelta(days=31)),
            )
        )
        cohort_facilitator_rows.extend((cohort_id, f) for f in facilitators)
        size = min(
            live_target - live_made,
            rng.randrange(capacity // 2, capacity + 1) + (rng.randrange(15) if not past else 0),
        )
        minimum = course["certificate"][1] if course["certificate"] else course["minutes"] * 3 // 4
        for seat, uid in enumerate(rng.sample(learner_list, size)):
            created = starts - timedelta(seconds=rng.randrange(1, 30 * 86400))
            if status == "cancelled":
                e_status, completed, withdrawn = "withdrawn", None, starts - timedelta(days=1)
            elif not past:
                e_status = "waitlisted" if seat >= capacity else "registered"
                completed = withdrawn = None
            else:
                roll = rng.random()
                e_status = (
                    "completed"
                    if roll < 0.55
                    else "in_progress"
                    if roll < 0.75
                    else "registered"
                    if roll < 0.95
                    else "withdrawn"
                )
                completed = (
                    starts + timedelta(hours=rng.randrange(2, 24 * 14))
                    if e_status == "completed"
                    else None
                )
                if completed and completed > now:
                    completed = now
                withdrawn = created + timedelta(days=1) if e_status == "withdrawn" else None
            enrollment_rows.append(
                (
                    next_id,
                    uid,
                    course["id"],
                    "live",
                    cohort_id,
                    e_status,
                    ts(created),
                    ts(starts) if past and e_status in ("completed", "in_progress") else None,
                    ts(completed) if completed else None,
                    ts(withdrawn) if withdrawn else None,
                )
            )
            if past and status != "cancelled" and e_status != "withdrawn":
                if e_status == "completed":
                    a_status = "present" if rng.random() < 0.85 else "late"
                    minutes = rng.randrange(minimum, course["minutes"] + 1)
                elif e_status == "in_progress":
                    a_status = rng.choice(("present", "late"))
                    minutes = rng.randrange(minimum, course["minutes"] + 1)
                else:
                    a_status = rng.choice(("absent", "absent", "excused", "late"))
                    minutes = 0 if a_status != "late" else rng.randrange(1, max(2, minimum))
                attendance_rows.append(
                    (
                        next_id,
                        a_status,
                        minutes,
                        "import_" if rng.random() < 0.4 else "manual",
                        facilitators[0],
                        ts(starts + timedelta(minutes=course["minutes"] + rng.randrange(5, 600))),
                    )
                )
                if e_status in ("completed", "in_progress") or rng.random() < 0.05:
                    add_progress(next_id, course, "live", starts, e_status == "completed")
                if e_status == "completed" and rng.random() < 0.2:
                    add_reflections(next_id, course, "live", completed or starts, True)
                if e_status == "completed" and course["certificate"] and rng.random() < 0.7:
                    code = _certificate_code(rng, used_codes)
                    revoked = rng.random() < 0.02
                    certificate_rows.append(
                        (
                            code,
                            next_id,
                            user_names[uid],
                            course["title"],
                            course["certificate"][0],
                            starts.date().isoformat(),
                            user_names[facilitators[0]],
                            "National Education Association",
                            "en",
                            ts((completed or starts) + timedelta(days=1)),
                            facilitators[0],
                            ts((completed or starts) + timedelta(days=20)) if revoked else None,
                            "Issued in error" if revoked else "",
                            admin_id if revoked else None,
                        )
                    )
            next_id += 1
            live_made += 1

    counts["lms_cohort"] = _insert(con, "lms_cohort", cohort_rows)
    counts["lms_cohort_facilitator"] = _insert(
        con, "lms_cohort_facilitator", cohort_facilitator_rows
    )
    # Enrollment ids in creation order, as a live system would have them.
    enrollment_rows.sort(key=lambda row: row[6])
    renumber = {row[0]: new_id for new_id, row in enumerate(enrollment_rows, start=1)}
    enrollment_rows = [(renumber[row[0]], *row[1:]) for row in enrollment_rows]
    counts["lms_enrollment"] = _insert(con, "lms_enrollment", enrollment_rows)
    for table, rows in (
        ("lms_attendance", attendance_rows),
        ("lms_step_progress", progress_rows),
        ("lms_reflection", reflection_rows),
    ):
        counts[table] = _insert(con, table, [(renumber[r[0]], *r[1:]) for r in rows])
    counts["lms_certificate"] = _insert(
        con, "lms_certificate", [(r[0], renumber[r[1]], *r[2:]) for r in certificate_rows]
    )
    load_seconds = time.perf_counter() - t0
    log(f"rows written in {load_seconds:.1f} s; rebuilding {len(index_sql)} indexes")
    for sql in index_sql:
        con.execute(sql)

    # ---- the two people the page benchmarks log in as
    per_user: dict[int, int] = {}
    for row in enrollment_rows:
        per_user[row[1]] = per_user.get(row[1], 0) + 1
    typical = sorted(
        per_user.items(), key=lambda item: (abs(item[1] - n_enrollments / n_learners), item[0])
    )[0][0]
    con.execute(
        "UPDATE lms_user SET email = ?, active = 1, locale = 'en' WHERE id = ?",
        (LEARNER_EMAIL, typical),
    )
    con.execute("COMMIT")
    problems = con.execute("PRAGMA foreign_key_check").fetchmany(5)
    if problems:
        raise SystemExit(f"generated rows break foreign keys: {problems}")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    titles = {course["id"]: course["title"] for course in courses.values()}
    check = sqlite3.connect(db_path)
    learner_courses = sorted(
        {
            titles[cid]
            for (cid,) in check.execute(
                "SELECT DISTINCT course_id FROM lms_enrollment WHERE user_id = ?", (typical,)
            )
        }
    )
    check.close()
    _read_back(db_path)
    seconds = time.perf_counter() - t0
    log(f"generated in {seconds:.1f} s ({db_path.stat().st_size / 1e6:.0f} MB)")
    return {
        "scale": scale,
        "learners": n_learners,
        "enrollments": counts["lms_enrollment"],
        "rows": counts,
        "password": BENCH_PASSWORD,
        "admin_email": ADMIN_EMAIL,
        "learner_email": LEARNER_EMAIL,
        "learner_id": typical,
        "learner_enrollments": per_user[typical],
        "learner_course_titles": learner_courses,
        "courses": {slug: course["id"] for slug, course in courses.items()},
        "size_mb": round(db_path.stat().st_size / 1e6, 1),
    }


def _certificate_code(rng: random.Random, used: set[str]) -> str:
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    while True:
        raw = "".join(rng.choice(alphabet) for _ in range(16))  # 80 bits
        code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        if code not in used:
            used.add(code)
            return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 100,000 learners and 1,000,000 enrollments"
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of the cache")
    parser.add_argument("--force", action="store_true", help="generate even if the cache has it")
    args = parser.parse_args(argv)
    dataset = ensure_dataset(args.scale, force=args.force, output=args.output)
    print(json.dumps({"path": str(dataset.path), **dataset.meta}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
