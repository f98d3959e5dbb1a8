"""Download names (RFC 6266): the whole name in ``filename*``, an ASCII transliteration in
``filename``, read back by standard parsers, for certificates, the ZIP, exports and the data export."""

from __future__ import annotations

import io
import zipfile
from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest
from werkzeug.http import parse_options_header

from lms.downloads import ascii_fallback, content_disposition, name_part
from tests.helpers.cohorts import client_for, completed_enrollment, download_cohort_zip, schedule

NAME = "Dolores Ñúñez-Ōkafor"


def read_back(header: str) -> tuple[str, str, str]:
    """(disposition, the whole name, the ASCII fallback), by two standard parsers that agree."""
    disposition, options = parse_options_header(header)  # Werkzeug: ``filename*`` wins, decoded
    message = Message()
    message["Content-Disposition"] = header
    params = message.get_params(header="content-disposition")
    fallback = next(value for key, value in params if key == "filename" and isinstance(value, str))
    encoded = [value for key, value in params if key == "filename" and isinstance(value, tuple)]
    whole = (
        collapse_rfc2231_value(encoded[0]) if encoded else fallback
    )  # the standard library's RFC 2231 reading
    assert options["filename"] == whole
    return disposition, whole, fallback


@pytest.mark.parametrize(
    ("name", "whole", "fallback"),
    [
        (
            f"certificate-X-{NAME}.pdf",
            f"certificate-X-{NAME}.pdf",
            "certificate-X-Dolores Nunez-Okafor.pdf",
        ),
        ("plain.csv", "plain.csv", "plain.csv"),
        ("日本語.json", "日本語.json", "download.json"),
        # Quotes, separators and slashes have no place in a saved file's name on some system.
        ('report "quoted"; a/b\\c.csv', "report -quoted-; a-b-c.csv", "report -quoted-; a-b-c.csv"),
    ],
)
def test_header_round_trips_through_standard_parsers(name, whole, fallback):
    header = content_disposition(name)
    assert header.isascii()
    assert read_back(header) == ("attachment", whole, fallback)
    assert read_back(content_disposition(name, inline=True))[0] == "inline"


def test_ascii_fallback_transliterates():
    assert (
        ascii_fallback(f"certificate-{name_part(NAME)}.pdf")
        == "certificate-Dolores-Nunez-Okafor.pdf"
    )
    assert ascii_fallback("日本語.json") == "download.json"
    assert name_part("  Ana  María   O'Neil ") == "Ana-María-O-Neil"


@pytest.fixture
def named_certificate(app, make_user):
    facilitator = make_user("facilitator")
    learner = make_user(display_name=NAME)
    cohort_id = schedule(app, facilitator, title="Sesión de otoño · Ñandú")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, learner, cohort_id)
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.db import db_session
    from lms.learning.models import Enrollment

    with app.test_request_context():
        code = services.issue_certificate(
            db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
        ).certificate.code
        db_session.commit()
    return facilitator, learner, cohort_id, code


def test_certificate_pdf_and_zip_keep_the_learner_name(app, named_certificate):
    facilitator, learner, cohort_id, code = named_certificate
    pdf = client_for(app, learner).get(f"/certificates/{code}.pdf")
    assert pdf.status_code == 200
    disposition, whole, fallback = read_back(pdf.headers["Content-Disposition"])
    assert disposition == "inline"
    assert whole == f"certificate-{code}-Dolores-Ñúñez-Ōkafor.pdf"
    assert fallback == f"certificate-{code}-Dolores-Nunez-Okafor.pdf"

    archive = download_cohort_zip(app, client_for(app, facilitator), cohort_id)
    disposition, whole, fallback = read_back(archive.headers["Content-Disposition"])
    assert disposition == "attachment"
    assert whole == f"cohort-{cohort_id}-Sesión-de-otoño-Ñandú-certificates.zip"
    assert fallback == f"cohort-{cohort_id}-Sesion-de-otono-Nandu-certificates.zip"
    with zipfile.ZipFile(io.BytesIO(archive.get_data())) as opened:
        assert opened.namelist() == [f"certificate-{code}-Dolores-Ñúñez-Ōkafor.pdf"]


def test_data_export_and_report_exports_are_named_in_full(app, make_user, login_as):
    learner = make_user(display_name=NAME, locale="es")
    client = login_as(learner)
    response = client.get("/me/export.json")
    assert response.status_code == 200
    assert read_back(response.headers["Content-Disposition"])[1:] == (
        "my-learning-data-Dolores-Ñúñez-Ōkafor.json",
        "my-learning-data-Dolores-Nunez-Okafor.json",
    )

    admin = client_for(app, make_user("admin", locale="es"))
    for extension in ("csv", "xlsx"):
        exported = admin.get(f"/admin/reports/completions.{extension}")
        assert exported.status_code == 200
        disposition, whole, fallback = read_back(exported.headers["Content-Disposition"])
        assert (
            disposition == "attachment"
            and whole.startswith("finalizaciones-")
            and whole.endswith(f".{extension}")
        )
        assert fallback == whole
