"""Credit in the course file, the learner's transcript (page, CSV, PDF) and its verification page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import insert, select

from lms.certificates.models import Certificate
from lms.cohorts.models import Cohort
from lms.courses.credit import CreditRule, credit_for
from lms.courses.loader import load_course
from lms.courses.models import Course
from lms.learning.models import Enrollment
from lms.records.models import Transcript
from tests.helpers import COURSES_DIR
from tests.helpers.certificates import document_text

UTC = dt.UTC
FLAGSHIP = "esp-racial-justice-dialogue"  # live 1.0 clock hour, recording informational
JUSTICE = "social-justice-training"  # live 2.5 clock hours
PARTNERSHIPS = "community-partnerships"  # self-paced 0.5 clock hour


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def complete(
    app,
    user_id: int,
    slug: str,
    path: str,
    when: dt.datetime,
    certificate: str | None = None,
    revoked: bool = False,
) -> int:
    """A completed enrollment (and, for live ones, a cohort and optionally a certificate)."""
    from lms.db import db_session

    with app.app_context():
        course_id = db_session.scalar(select(Course.id).where(Course.slug == slug))
        cohort_id = None
        if path == "live":
            cohort_id = db_session.scalar(
                insert(Cohort).returning(Cohort.id),
                {
                    "course_id": course_id,
                    "title": f"{slug} {when:%Y-%m-%d %H%M%S%f}",
                    "starts_at": when - dt.timedelta(hours=2),
                    "time_zone": "America/New_York",
                    "minutes": 60,
                    "capacity": 10,
                },
            )
        enrollment_id = db_session.scalar(
            insert(Enrollment).returning(Enrollment.id),
            {
                "user_id": user_id,
                "course_id": course_id,
                "path": path,
                "cohort_id": cohort_id,
                "status": "completed",
                "created_at": when - dt.timedelta(days=1),
                "completed_at": when,
            },
        )
        if certificate:
            db_session.execute(
                insert(Certificate),
                {
                    "code": certificate,
                    "enrollment_id": enrollment_id,
                    "learner_name": "x",
                    "course_title": slug,
                    "hours": 1,
                    "session_date": when.date(),
                    "facilitator_name": "F",
                    "organisation": "O",
                    "locale": "en",
                    "revoked_reason": "",
                    "revoked_at": when + dt.timedelta(days=1) if revoked else None,
                },
            )
        db_session.commit()
    return enrollment_id


# -- credit in the course file --------------------------------------------------------------------


def test_credit_per_path_a_recording_earns_none(app):
    with app.app_context():
        from lms.state import lms_state

        flagship = lms_state().catalog.get(FLAGSHIP).definition
    assert credit_for(flagship.credit, "live").amount == 1.0
    assert credit_for(flagship.credit, "live").type == "clock_hours"
    assert credit_for(flagship.credit, "recording").amount == 0.0
    assert not credit_for(flagship.credit, "recording").earns
    assert credit_for(None, "live") is None


def _broken_course(tmp_path: Path, credit_table: str) -> list[str]:
    folder = tmp_path / "broken-credit"
    shutil.copytree(COURSES_DIR / FLAGSHIP, folder)
    course_file = folder / "course.toml"
    text = course_file.read_text(encoding="utf-8").replace(
        f'slug = "{FLAGSHIP}"', 'slug = "broken-credit"'
    )
    text = re.sub(r"\[credit\][^\[]*", credit_table + "\n\n", text, count=1)
    course_file.write_text(text, encoding="utf-8")
    course, problems = load_course(folder, display_root=tmp_path)
    assert course is None
    return [str(problem) for problem in problems]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            '[credit]\ntype = "furlongs"\nlive = 1.0',
            r"^broken-credit/course\.toml:\d+:1: "
            r"credit\.type: unknown credit type 'furlongs'; use one of ceu, clock_hours$",
        ),
        (
            '[credit]\ntype = "clock_hours"\nlive = -1.0',
            r"^broken-credit/course\.toml:\d+:1: credit\.live: Input should be greater than or equal to 0$",
        ),
        (
            '[credit]\ntype = "ceu"\nlive = 0.1\nrecording = 0.5',
            r"^broken-credit/course\.toml:\d+:1: "
            r"credit\.recording: a recording is informational and ungraded: it earns no credit",
        ),
        (
            '[credit]\ntype = "ceu"\nlive = 0.1\nself_paced = 0.1',
            r"^broken-credit/course\.toml:\d+:1: "
            r"credit\.self_paced: path 'self_paced' is not one of the course's paths",
        ),
    ],
)
def test_bad_credit_is_explained_with_file_line_and_field(tmp_path, table, expected):
    problems = _broken_course(tmp_path, table)
    assert len(problems) == 1 and re.match(expected, problems[0]), problems


def test_line_points_at_the_credit_field(tmp_path):
    problems = _broken_course(tmp_path, '[credit]\ntype = "clock_hours"\nlive = -2')
    text = (tmp_path / "broken-credit" / "course.toml").read_text(encoding="utf-8").splitlines()
    line = int(problems[0].split(":")[1])
    assert text[line - 1].startswith("live = -2")


def test_a_deployment_names_its_own_credit_type(app_config, tmp_path):
    from lms import create_app
    from lms.courses.credit import CREDIT_TYPES

    rule_before = "pd_points" in CREDIT_TYPES
    create_app({**app_config, "LMS_CREDIT_TYPES": {"pd_points": "PD points"}})
    assert not rule_before
    assert CreditRule(type="pd_points", live=3).amount_for("live") == 3
    CREDIT_TYPES.pop("pd_points")


def test_course_page_shows_credit_per_path(client):
    page = text_of(client.get(f"/courses/{FLAGSHIP}").get_data(as_text=True))
    assert "Credit" in page
    assert "1 clock hour" in page
    assert "Informational and ungraded: no credit" in page
    page = text_of(client.get(f"/courses/{JUSTICE}").get_data(as_text=True))
    assert "2.5 clock hours" in page


def test_course_page_shows_credit_in_spanish(client, app, make_user, login_as):
    login_as(make_user(locale="es"))
    page = text_of(client.get(f"/courses/{FLAGSHIP}").get_data(as_text=True))
    assert "1 hora reloj" in page
    assert "Informativa y sin calificación: sin créditos" in page


# -- the transcript -------------------------------------------------------------------------------


def test_transcript_lists_completions_newest_first_with_totals(client, app, make_user, login_as):
    learner = make_user(display_name="Rosa Parks")
    other = make_user()
    complete(
        app,
        learner.id,
        FLAGSHIP,
        "live",
        dt.datetime(2026, 9, 10, 18, tzinfo=UTC),
        certificate="AAAA-BBBB-CCCC-DDDD",
    )
    complete(app, learner.id, FLAGSHIP, "recording", dt.datetime(2026, 10, 1, 18, tzinfo=UTC))
    complete(app, learner.id, PARTNERSHIPS, "self_paced", dt.datetime(2026, 11, 2, 18, tzinfo=UTC))
    complete(app, other.id, JUSTICE, "live", dt.datetime(2026, 11, 3, 18, tzinfo=UTC))
    login_as(learner)
    page = text_of(client.get("/me/transcript?year=2026").get_data(as_text=True))
    assert (
        page.index("Community Partnerships")
        < page.index("Informational and ungraded: no credit")
        < page.index("AAAA-BBBB-CCCC-DDDD")
    )
    assert "Social Justice" not in page  # someone else's
    assert "1.5 clock hours" in page  # 1.0 live + 0.5 self-paced; the recording adds nothing
    assert "Not available for recordings" in page


def test_totals_per_period_across_a_school_year_boundary(client, app, make_user, login_as):
    learner = make_user(time_zone="America/New_York")
    # 2026-07-01 02:00 UTC is still June 30 in New York: the 2025-26 school year.
    complete(app, learner.id, FLAGSHIP, "live", dt.datetime(2026, 7, 1, 2, tzinfo=UTC))
    complete(app, learner.id, JUSTICE, "live", dt.datetime(2026, 7, 1, 15, tzinfo=UTC))
    complete(app, learner.id, PARTNERSHIPS, "self_paced", dt.datetime(2027, 6, 30, 20, tzinfo=UTC))
    login_as(learner)

    def totals(query: str) -> str:
        page = text_of(client.get(f"/me/transcript?{query}").get_data(as_text=True))
        return page[page.index("Total credit") :]

    assert "1 clock hour" in totals("year=2025") and "2.5" not in totals("year=2025")
    assert "3 clock hours" in totals("year=2026")  # 2.5 + 0.5
    assert "4 clock hours" in totals("year=all")
    assert "2.5 clock hours" in totals("from=2026-07-01&to=2026-07-01")
    response = client.get("/me/transcript?from=2026-07-02&to=2026-07-01")
    assert response.status_code == 400 and "must not be after" in response.get_data(as_text=True)
    assert client.get("/me/transcript?year=abcd").status_code == 400


def test_school_year_start_is_settable(app_config, tmp_path):
    from lms.records.services import parse_period

    period, key = parse_period({}, dt.date(2026, 8, 15), 9)
    assert (period.start, period.end, key) == (dt.date(2025, 9, 1), dt.date(2026, 8, 31), "2025")
    period, _key = parse_period({}, dt.date(2026, 8, 15), 7)
    assert (period.start, period.end) == (dt.date(2026, 7, 1), dt.date(2027, 6, 30))


def test_transcript_csv(client, app, make_user, login_as):
    learner = make_user()
    complete(
        app,
        learner.id,
        FLAGSHIP,
        "live",
        dt.datetime(2026, 9, 10, 18, tzinfo=UTC),
        certificate="AAAA-BBBB-CCCC-DDDD",
    )
    complete(app, learner.id, FLAGSHIP, "recording", dt.datetime(2026, 10, 1, 18, tzinfo=UTC))
    login_as(learner)
    response = client.get("/me/transcript.csv?year=2026")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Course", "Path", "Completed on"]
    assert rows[1][1:6] == [
        "Recording",
        "2026-10-01",
        "Clock hours",
        "0.0",
        "Informational and ungraded: no credit",
    ]
    assert rows[2][1:8] == [
        "Live session",
        "2026-09-10",
        "Clock hours",
        "1.0",
        "1 clock hour",
        "AAAA-BBBB-CCCC-DDDD",
        "Valid",
    ]
    assert rows[3][0] == "Total" and rows[3][4] == "1.0"


def _qr_texts(pdf: bytes) -> list[str]:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def test_transcript_pdf_in_spanish_with_names_in_several_scripts_and_a_verifiable_qr(
    client, app, make_user, login_as, in_db
):
    learner = make_user(display_name="José Ñúñez مريم देवी 王小明", locale="es")
    complete(
        app,
        learner.id,
        FLAGSHIP,
        "live",
        dt.datetime(2026, 9, 10, 18, tzinfo=UTC),
        certificate="AAAA-BBBB-CCCC-DDDD",
    )
    complete(app, learner.id, FLAGSHIP, "recording", dt.datetime(2026, 10, 1, 18, tzinfo=UTC))
    login_as(learner)
    response = client.get("/me/transcript.pdf?year=2026")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(document_text(response.data).split())  # cells wrap
    assert "Expediente de formación profesional" in text
    assert "José Ñúñez مريم देवी 王小明" in text
    assert "1 hora reloj" in text
    assert "Informativa y sin calificación: sin créditos" in text
    assert "AAAA-BBBB-CCCC-DDDD" in text

    (url,) = _qr_texts(response.data)
    with in_db() as session:
        code = session.scalar(select(Transcript.code))
    assert url == f"http://lms.test/verify/transcripts/{code}"
    assert code in text

    # The same content downloaded again keeps its code.
    client.get("/me/transcript.pdf?year=2026")
    with in_db() as session:
        assert session.scalar(select(Transcript.id).where(Transcript.code != code)) is None

    public = app.test_client()
    page = text_of(public.get(url.removeprefix("http://lms.test")).get_data(as_text=True))
    assert "José Ñúñez مريم देवी 王小明" in page
    assert "AAAA-BBBB-CCCC-DDDD" in page
    assert "Current" in page and "Out of date" not in page

    # Revoking the certificate changes the records: the old transcript is out of date.
    with in_db() as session:
        certificate = session.scalar(select(Certificate))
        certificate.revoked_at = dt.datetime.now(UTC)
        session.commit()
    page = text_of(public.get(url.removeprefix("http://lms.test")).get_data(as_text=True))
    assert "Out of date" in page and "AAAA-BBBB-CCCC-DDDD (Valid)" in page  # what it printed then


def test_unknown_transcript_code(client):
    response = client.get("/verify/transcripts/ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert response.status_code == 404 and "Transcript not found" in response.get_data(as_text=True)


def test_five_hundred_completions_in_one_page_and_one_pdf(client, app, make_user, login_as):
    learner = make_user()
    from lms.db import db_session

    with app.app_context():
        course_id = db_session.scalar(select(Course.id).where(Course.slug == PARTNERSHIPS))
        other_id = db_session.scalar(select(Course.id).where(Course.slug == FLAGSHIP))
        start = dt.datetime(2026, 7, 2, 12, tzinfo=UTC)
        # One self-directed enrollment per course and path: alternate courses/paths by disabling nothing
        # but the unique index's scope (cohort_id IS NULL), so live rows with cohorts fill the rest.
        rows = []
        for index in range(500):
            when = start + dt.timedelta(hours=index)
            rows.append(
                {
                    "user_id": learner.id,
                    "course_id": course_id if index % 2 else other_id,
                    "path": "live",
                    "status": "completed",
                    "completed_at": when,
                    "created_at": when,
                }
            )
        cohort_ids = db_session.scalars(
            insert(Cohort).returning(Cohort.id, sort_by_parameter_order=True),
            [
                {
                    "course_id": row["course_id"],
                    "title": f"c{i}",
                    "starts_at": row["completed_at"],
                    "time_zone": "UTC",
                    "minutes": 60,
                    "capacity": 5,
                }
                for i, row in enumerate(rows)
            ],
        ).all()
        for row, cohort_id in zip(rows, cohort_ids, strict=True):
            row["cohort_id"] = cohort_id
        db_session.execute(insert(Enrollment), rows)
        db_session.commit()
    login_as(learner)
    page = client.get("/me/transcript?year=2026").get_data(as_text=True)
    assert page.count("<tr>") == 501
    response = client.get("/me/transcript.pdf?year=2026")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) > 10
    assert document_text(response.data).count("Community Partnerships") == 250


def test_the_certificate_verification_page_shows_the_credit(client, app, make_user):
    learner = make_user()
    complete(
        app,
        learner.id,
        JUSTICE,
        "live",
        dt.datetime(2026, 9, 10, 18, tzinfo=UTC),
        certificate="AAAA-BBBB-CCCC-EEEE",
    )
    page = text_of(client.get("/verify/AAAA-BBBB-CCCC-EEEE").get_data(as_text=True))
    assert "Credit 2.5 clock hours" in page


def test_the_learners_data_export_holds_their_transcripts_and_answered_evaluations(
    client, app, make_user, login_as
):
    learner = make_user()
    complete(app, learner.id, FLAGSHIP, "live", dt.datetime(2026, 9, 10, 18, tzinfo=UTC))
    login_as(learner)
    client.get("/me/transcript.pdf?year=2026")
    data = client.get("/me/export.json").get_json()
    assert len(data["transcripts"]) == 1
    assert data["transcripts"][0]["content"]["entries"][0]["course_slug"] == FLAGSHIP
    assert data["evaluations_answered"] == []
