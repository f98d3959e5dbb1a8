"""The affiliate filter matches the whole value in any letter case, for every letter, on SQLite
(whose lower() folds ASCII only) and PostgreSQL alike: on screen and in both exports."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from urllib.parse import urlencode

import openpyxl
import pytest
from sqlalchemy import insert, select

from lms.accounts.models import User, folded
from lms.courses.models import Course
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
from tests.helpers import TEST_PASSWORD_HASH

PUERTO_RICO = "Asociación de Maestros de Puerto Rico"
SPELLINGS = (
    PUERTO_RICO.upper(),  # ASOCIACIÓN ...
    PUERTO_RICO.lower(),  # asociación ...
    PUERTO_RICO,
    unicodedata.normalize("NFD", PUERTO_RICO.upper()),  # the Ó as O + combining accent
)
OTHERS = {
    "STRAßE": ("strasse", "STRASSE", "Straße"),
    "ΟΔΥΣΣΕΥΣ": ("οδυσσευς", "Οδυσσευς"),  # final sigma folds like any sigma
    "ÉCOLE NATIONALE": ("école nationale",),
}


def _enrol(db, users: list[dict]) -> None:
    course_id = db.scalar(select(Course.id).where(Course.slug == "esp-racial-justice-dialogue"))
    ids = db.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users).all()
    db.execute(
        insert(Enrollment),
        [
            {
                "user_id": uid,
                "course_id": course_id,
                "path": LearningPath.recording,
                "status": EnrollmentStatus.in_progress,
            }
            for uid in ids
        ],
    )
    db.commit()


@pytest.fixture
def admin(make_user, login_as):
    return login_as(make_user("admin"))


@pytest.fixture
def people(db, make_user):
    # Some made through the ORM (one object each), some bulk-inserted as rows: both fold.
    for index, spelling in enumerate(SPELLINGS[:2]):
        user = make_user(affiliate=spelling, email=f"orm{index}@example.org")
        course_id = db.scalar(select(Course.id).where(Course.slug == "esp-racial-justice-dialogue"))
        db.add(
            Enrollment(
                user_id=user.id,
                course_id=course_id,
                path=LearningPath.recording,
                status=EnrollmentStatus.in_progress,
            )
        )
    db.commit()
    rows = [
        {
            "email": f"bulk{i}@example.org",
            "display_name": f"Bulk {i}",
            "password_hash": TEST_PASSWORD_HASH,
            "affiliate": spelling,
        }
        for i, spelling in enumerate(SPELLINGS[2:] * 3)
    ]
    rows += [
        {
            "email": f"other{i}@example.org",
            "display_name": f"Other {i}",
            "password_hash": TEST_PASSWORD_HASH,
            "affiliate": value,
        }
        for i, value in enumerate([*OTHERS, "Asociacion de Maestros de Puerto Rico", "Puerto Rico"])
    ]
    _enrol(db, rows)
    return 2 + 2 * 3  # the Puerto Rico people, however spelled


def _totals(client, affiliate: str) -> tuple[int, int, int]:
    query = urlencode({"affiliate": affiliate})
    page = client.get(f"/admin/reports/completions?{query}").get_data(as_text=True)
    on_screen = int(re.search(r'data-total="(\d+)"', page).group(1))
    exported = client.get(f"/admin/reports/completions.csv?{query}").get_data().decode("utf-8-sig")
    in_csv = len(list(csv.reader(io.StringIO(exported)))) - 1
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/reports/completions.xlsx?{query}").get_data()),
        read_only=True,
    ).active
    return on_screen, in_csv, sheet.max_row - 1


def test_every_spelling_finds_everyone_on_screen_and_in_exports(admin, people):
    for spelling in SPELLINGS:
        assert _totals(admin, spelling) == (people, people, people), spelling
    assert _totals(admin, "Asociacion de Maestros de Puerto Rico") == (1, 1, 1), (
        "accents still count: only the whole value, in any case"
    )
    assert _totals(admin, "Puerto") == (0, 0, 0), "the whole value, not a part"
    for stored, spellings in OTHERS.items():
        for spelling in (stored, *spellings):
            assert _totals(admin, spelling)[0] == 1, spelling


def test_the_folded_column_follows_a_profile_change(client, make_user, login_as, db, in_db):
    person = make_user(affiliate="Ohio EA")
    login_as(person)
    response = client.post(
        "/auth/profile",
        data={
            "display_name": person.display_name,
            "locale": "en",
            "time_zone": "America/New_York",
            "affiliate": "FEDERACIÓN DE MAESTROS",
            "audience_role": "",
        },
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    with in_db() as session:
        saved = session.get(User, person.id)
        assert (saved.affiliate, saved.affiliate_key) == (
            "FEDERACIÓN DE MAESTROS",
            "federación de maestros",
        )
        assert saved.affiliate_key == folded("federación de maestros")
