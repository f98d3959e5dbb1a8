from __future__ import annotations

import datetime as dt
import re
from html import unescape

from sqlalchemy import insert

from lms.audit.models import AuditEvent


def seed_events(db, ada_id: int, bo_id: int) -> None:
    base = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    db.execute(
        insert(AuditEvent),
        [
            {
                "actor_id": ada_id,
                "action": "user.role_granted",
                "target_type": "user",
                "target_id": "7",
                "details": {"role": "admin"},
                "at": base,
            },
            {
                "actor_id": ada_id,
                "action": "certificate.revoked",
                "target_type": "certificate",
                "target_id": "CODE1",
                "details": {"reason": "typo"},
                "at": base + dt.timedelta(days=1),
            },
            {
                "actor_id": bo_id,
                "action": "user.role_granted",
                "target_type": "user",
                "target_id": "8",
                "details": {"role": "facilitator"},
                "at": base + dt.timedelta(days=2),
            },
            {
                "actor_id": bo_id,
                "action": "attendance.recorded",
                "target_type": "attendance",
                "target_id": "9",
                "details": {},
                "at": base + dt.timedelta(days=5),
            },
        ],
    )
    db.commit()


def shown(html: str) -> list[str]:
    return re.findall(
        r'<tr class="audit-event">.*?<td>.*?</td>\s*<td><code>([^<]+)</code></td>\s*<td>([^<]+)</td>',
        html,
        re.S,
    )


def test_newest_first_and_filters_combine(make_user, login_as, db):
    ada = make_user("admin", email="ada@example.org", display_name="Ada")
    bo = make_user("facilitator", email="bo@schools.example", display_name="Bo")
    seed_events(db, ada.id, bo.id)
    client = login_as(ada)
    everything = shown(client.get("/admin/audit").get_data(as_text=True))
    assert [target for _action, target in everything] == [
        "attendance 9",
        "user 8",
        "certificate CODE1",
        "user 7",
    ]
    assert shown(client.get("/admin/audit?actor=SCHOOLS").get_data(as_text=True)) == [
        ("attendance.recorded", "attendance 9"),
        ("user.role_granted", "user 8"),
    ]
    assert shown(
        client.get("/admin/audit?action=user.role_granted&actor=ada").get_data(as_text=True)
    ) == [("user.role_granted", "user 7")]
    assert shown(client.get("/admin/audit?target_type=certificate").get_data(as_text=True)) == [
        ("certificate.revoked", "certificate CODE1")
    ]
    # Days in the admin's time zone (America/New_York): 2026-03-11 holds only the revocation.
    assert shown(
        client.get("/admin/audit?start=2026-03-11&end=2026-03-11").get_data(as_text=True)
    ) == [("certificate.revoked", "certificate CODE1")]
    assert len(shown(client.get("/admin/audit?start=2026-03-12").get_data(as_text=True))) == 2


def test_paged_with_filters_in_links(make_user, login_as, db, app):
    app.config["LMS_PAGE_SIZE"] = 2
    ada = make_user("admin", email="ada@example.org")
    seed_events(db, ada.id, ada.id)
    client = login_as(ada)
    html = client.get("/admin/audit?actor=ada").get_data(as_text=True)
    assert len(shown(html)) == 2 and "4 events" in html
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    assert "actor=ada" in next_link and "page=2" in next_link
    assert [t for _a, t in shown(client.get(next_link).get_data(as_text=True))] == [
        "certificate CODE1",
        "user 7",
    ]


def test_bad_dates_are_explained(make_user, login_as):
    client = login_as(make_user("admin"))
    response = client.get("/admin/audit?start=2026-05-01&end=2026-04-01")
    assert (
        response.status_code == 400
        and "The end date is before the start date." in response.get_data(as_text=True)
    )
    response = client.get("/admin/audit?start=someday")
    assert response.status_code == 400 and "error-summary" in response.get_data(as_text=True)


def test_role_change_shows_up_in_the_log(make_user, login_as):
    ada = make_user("admin", email="ada@example.org")
    person = make_user("learner")
    client = login_as(ada)
    client.post(f"/admin/people/{person.id}/roles", data={"role": "facilitator", "grant": "1"})
    html = client.get("/admin/audit?action=user.role_granted").get_data(as_text=True)
    assert shown(html) == [("user.role_granted", f"user {person.id}")]
    assert "facilitator" in html
