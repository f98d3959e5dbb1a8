from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select, update

from lms.certificates.models import Certificate
from lms.learning.models import Enrollment
from lms.reports.filters import CompletionFilters, FilterError
from lms.reports.queries import (
    CompletionSummary,
    ReportScope,
    completion_page,
    completion_query,
    completion_summary,
)
from tests.helpers.reports import START, seed


def rows_of(db, filters=CompletionFilters(), scope=ReportScope()):
    return list(db.execute(completion_query(filters, scope)))


def test_one_row_per_enrollment_with_every_column(db):
    data = seed(db, learners=12)
    rows = rows_of(db)
    assert [row.enrollment_id for row in rows] == sorted(e["id"] for e in data.enrollments)
    first_live = rows[0]
    assert first_live.path == "live" and first_live.cohort_title == "ESP January"
    assert first_live.facilitators == "Ana Facil, Zed Facil", "joined names, in name order"
    assert first_live.reflections_submitted == 2, "drafts are not counted"
    assert first_live.attendance_minutes == 60
    assert first_live.certificate_code == f"CERT-{first_live.enrollment_id:06d}"
    assert first_live.certificate_status == "valid"
    recording = next(row for row in rows if row.path == "recording")
    assert recording.certificate_status == "not_available" and recording.facilitators is None
    self_paced = next(row for row in rows if row.path == "self_paced")
    assert self_paced.certificate_status == "not_available"
    in_progress_live = next(
        row for row in rows if row.path == "live" and row.status == "in_progress"
    )
    assert (
        in_progress_live.certificate_status == "none" and in_progress_live.certificate_code is None
    )


def test_certificate_status_revoked_and_replaced(db):
    data = seed(db, learners=12)
    live_done = [
        e["id"] for e in data.enrollments if e["path"] == "live" and e["status"] == "completed"
    ]
    revoked_only, replaced = live_done[0], live_done[1]
    now = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    db.execute(
        update(Certificate)
        .where(Certificate.enrollment_id == revoked_only)
        .values(revoked_at=now, revoked_reason="error")
    )
    old = db.scalar(select(Certificate).where(Certificate.enrollment_id == replaced))
    old.revoked_at = now
    db.flush()
    new_id = db.scalar(
        insert(Certificate).returning(Certificate.id),
        [
            {
                "code": "NEW-CODE",
                "enrollment_id": replaced,
                "learner_name": "x",
                "course_title": "x",
                "hours": 1.0,
                "session_date": START.date(),
                "facilitator_name": "x",
                "organisation": "x",
                "locale": "en",
            }
        ],
    )
    old.replaced_by_id = new_id
    db.commit()
    by_id = {row.enrollment_id: row for row in rows_of(db)}
    assert by_id[revoked_only].certificate_status == "revoked"
    assert (
        by_id[replaced].certificate_status == "valid"
        and by_id[replaced].certificate_code == "NEW-CODE"
    ), "the valid one wins"
    db.execute(update(Certificate).where(Certificate.id == new_id).values(revoked_at=now))
    db.commit()
    by_id = {row.enrollment_id: row for row in rows_of(db)}
    assert (
        by_id[replaced].certificate_code == "NEW-CODE"
        and by_id[replaced].certificate_status == "revoked"
    ), "else the newest"
    assert len(rows_of(db)) == 12, "several certificates never duplicate a row"
    revoked = rows_of(db, CompletionFilters(certificate_status="revoked"))
    assert {row.enrollment_id for row in revoked} == {revoked_only, replaced}


def test_filters_combine(db):
    seed(db, learners=60)
    everything = rows_of(db)

    def expect(filters: CompletionFilters, predicate) -> None:
        got = [row.enrollment_id for row in rows_of(db, filters)]
        want = [row.enrollment_id for row in everything if predicate(row)]
        assert got == want and want, filters
        rows = [row for row in everything if predicate(row)]
        # The summary counts with fewer joins than the rows use: it must still count the same rows.
        assert completion_summary(db, filters, ReportScope()) == CompletionSummary(
            total=len(rows),
            completed=sum(r.status == "completed" for r in rows),
            live=sum(r.path == "live" for r in rows),
            recording=sum(r.path == "recording" for r in rows),
            self_paced=sum(r.path == "self_paced" for r in rows),
            certificates_valid=sum(r.certificate_status == "valid" for r in rows),
        ), filters

    expect(CompletionFilters(path="live"), lambda r: r.path == "live")
    expect(
        CompletionFilters(path="live", status="completed"),
        lambda r: r.path == "live" and r.status == "completed",
    )
    expect(
        CompletionFilters(course="esp-racial-justice-dialogue", path="recording"),
        lambda r: r.course_slug == "esp-racial-justice-dialogue" and r.path == "recording",
    )
    expect(
        CompletionFilters(affiliate="ohio", status="completed"),
        lambda r: r.affiliate == "Ohio" and r.status == "completed",
    )
    expect(
        CompletionFilters(audience_role="teacher", path="self_paced"),
        lambda r: r.audience_role == "teacher" and r.path == "self_paced",
    )
    expect(
        CompletionFilters(
            certificate_status="valid", cohort=None, audience_role="education-support-professional"
        ),
        lambda r: (
            r.certificate_status == "valid" and r.audience_role == "education-support-professional"
        ),
    )
    expect(CompletionFilters(certificate_status="not_available"), lambda r: r.path != "live")
    expect(
        CompletionFilters(certificate_status="none"),
        lambda r: r.path == "live" and r.status != "completed",
    )


def test_cohort_and_facilitator_filters(db):
    data = seed(db, learners=30)
    everything = rows_of(db)
    cohort_b = [r.enrollment_id for r in everything if r.cohort_id == data.cohorts["b"]]
    assert [
        r.enrollment_id for r in rows_of(db, CompletionFilters(cohort=data.cohorts["b"]))
    ] == cohort_b
    ana = [
        r.enrollment_id
        for r in rows_of(db, CompletionFilters(facilitator=str(data.facilitators["ana"])))
    ]
    assert ana == [r.enrollment_id for r in everything if r.cohort_id == data.cohorts["a"]]
    assert [
        r.enrollment_id for r in rows_of(db, CompletionFilters(facilitator="ana.facil@example.org"))
    ] == ana
    zed = rows_of(db, CompletionFilters(facilitator=str(data.facilitators["zed"])))
    assert len(zed) == sum(1 for r in everything if r.path == "live")


def test_date_range_is_completed_between_by_default_and_enrolled_between_on_request(db):
    seed(db, learners=30)
    everything = rows_of(db)
    utc = CompletionFilters.parse({"from": "2026-01-06", "to": "2026-01-10"}, time_zone="UTC")
    got = rows_of(db, utc)
    want = [
        r
        for r in everything
        if r.completed_at and dt.date(2026, 1, 6) <= r.completed_at.date() <= dt.date(2026, 1, 10)
    ]
    assert [r.enrollment_id for r in got] == [r.enrollment_id for r in want] and want
    enrolled = CompletionFilters.parse({"dates": "enrolled", "to": "2025-12-26"}, time_zone="UTC")
    want = [r for r in everything if r.enrolled_at.date() <= dt.date(2025, 12, 26)]
    assert [r.enrollment_id for r in rows_of(db, enrolled)] == [
        r.enrollment_id for r in want
    ] and want


def test_dates_are_days_in_the_given_time_zone(db):
    seed(
        db, learners=1
    )  # completed 2026-01-05 15:00 UTC = 10:00 in New York, 2026-01-06 02:00 in Sydney
    assert (
        len(
            rows_of(
                db,
                CompletionFilters.parse(
                    {"from": "2026-01-05", "to": "2026-01-05"}, "America/New_York"
                ),
            )
        )
        == 1
    )
    assert (
        len(
            rows_of(
                db,
                CompletionFilters.parse(
                    {"from": "2026-01-05", "to": "2026-01-05"}, "Australia/Sydney"
                ),
            )
        )
        == 0
    )
    assert (
        len(
            rows_of(
                db,
                CompletionFilters.parse(
                    {"from": "2026-01-06", "to": "2026-01-06"}, "Australia/Sydney"
                ),
            )
        )
        == 1
    )


def test_facilitator_scope_is_only_live_rows_of_own_cohorts(db):
    data = seed(db, learners=30)
    ana = rows_of(db, scope=ReportScope.cohorts_of(data.facilitators["ana"]))
    assert (
        ana
        and {r.cohort_id for r in ana} == {data.cohorts["a"]}
        and {r.path for r in ana} == {"live"}
    )
    zed = rows_of(db, scope=ReportScope.cohorts_of(data.facilitators["zed"]))
    assert {r.cohort_id for r in zed} == {data.cohorts["a"], data.cohorts["b"]}
    assert (
        rows_of(
            db,
            CompletionFilters(path="recording"),
            ReportScope.cohorts_of(data.facilitators["zed"]),
        )
        == []
    )
    assert rows_of(db, scope=ReportScope.cohorts_of(data.learners[0])) == []


def test_summary_counts_match_the_rows(db):
    seed(db, learners=45)
    rows = rows_of(db)
    summary = completion_summary(db, CompletionFilters(), ReportScope())
    assert summary.total == len(rows) == db.scalar(select(func.count()).select_from(Enrollment))
    assert summary.completed == sum(r.status == "completed" for r in rows)
    assert (summary.live, summary.recording, summary.self_paced) == (15, 15, 15)
    assert summary.certificates_valid == sum(r.certificate_status == "valid" for r in rows)


def test_page_is_a_stable_slice(db):
    seed(db, learners=25)
    ids = [r.enrollment_id for r in rows_of(db)]
    pages = [completion_page(db, CompletionFilters(), ReportScope(), n, 10) for n in (1, 2, 3)]
    assert [r.enrollment_id for page in pages for r in page] == ids
    assert len(pages[2]) == 5


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"path": "video"}, "path"),
        ({"status": "done"}, "status"),
        ({"cohort": "abc"}, "cohort"),
        ({"from": "31/01/2026"}, "from"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"certificate_status": "gold"}, "certificate_status"),
        ({"audience_role": "astronaut"}, "audience_role"),
        ({"affiliate": "x" * 121}, "affiliate"),
        ({"dates": "birthday"}, "dates"),
    ],
)
def test_invalid_filters_are_named(app, args, field):
    with app.test_request_context():
        with pytest.raises(FilterError) as caught:
            CompletionFilters.parse(args)
    assert field in caught.value.errors and caught.value.errors[field]


def test_filters_round_trip_through_args(app):
    with app.test_request_context():
        args = {
            "course": "x",
            "path": "live",
            "cohort": "3",
            "facilitator": "a@b.org",
            "status": "completed",
            "dates": "enrolled",
            "from": "2026-01-01",
            "to": "2026-02-01",
            "affiliate": "Ohio",
            "audience_role": "teacher",
            "certificate_status": "valid",
        }
        assert CompletionFilters.parse(args).to_args() == args
        assert not CompletionFilters.parse({}).active
