from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from tests.helpers import TEST_PASSWORD, csrf_token_in


@pytest.fixture
def admin(make_user):
    return make_user("admin", display_name="Ada Admin", email="ada@example.org")


@pytest.fixture
def admin_client(admin, login_as):
    return login_as(admin)


def events(db, action=None):
    statement = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return list(db.scalars(statement))


def fresh(db, user_id):
    db.expire_all()
    return db.get(User, user_id)


def test_make_facilitator_and_admin_and_take_them_back(admin_client, admin, make_user, db):
    person = make_user("learner", display_name="Pat Person")
    response = admin_client.post(
        f"/admin/people/{person.id}/roles",
        data={"role": "facilitator", "grant": "1", "next": "/admin/people?q=pat"},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/admin/people?q=pat"
    )
    assert fresh(db, person.id).is_facilitator
    admin_client.post(f"/admin/people/{person.id}/roles", data={"role": "admin", "grant": "1"})
    assert fresh(db, person.id).is_admin
    admin_client.post(f"/admin/people/{person.id}/roles", data={"role": "admin", "grant": "0"})
    admin_client.post(
        f"/admin/people/{person.id}/roles", data={"role": "facilitator", "grant": "0"}
    )
    person = fresh(db, person.id)
    assert not person.is_admin and not person.is_facilitator
    actions = [
        (e.action, e.details["role"], e.actor_id, e.target_type, e.target_id) for e in events(db)
    ]
    assert actions == [
        ("user.role_granted", "facilitator", admin.id, "user", str(person.id)),
        ("user.role_granted", "admin", admin.id, "user", str(person.id)),
        ("user.role_removed", "admin", admin.id, "user", str(person.id)),
        ("user.role_removed", "facilitator", admin.id, "user", str(person.id)),
    ]


def test_unchanged_role_writes_no_event(admin_client, make_user, db):
    person = make_user("facilitator")
    admin_client.post(
        f"/admin/people/{person.id}/roles", data={"role": "facilitator", "grant": "1"}
    )
    assert events(db) == []


def test_next_cannot_leave_the_site(admin_client, make_user):
    person = make_user("learner")
    response = admin_client.post(
        f"/admin/people/{person.id}/roles",
        data={"role": "facilitator", "grant": "1", "next": "https://evil.example/"},
    )
    assert response.headers["Location"].endswith("/admin/people")


def test_admin_cannot_remove_own_admin_role_or_deactivate_self(admin_client, admin, make_user, db):
    make_user("admin")  # another admin exists: the rule is about oneself
    response = admin_client.post(
        f"/admin/people/{admin.id}/roles",
        data={"role": "admin", "grant": "0"},
        follow_redirects=True,
    )
    assert "You cannot remove your own admin role" in response.get_data(as_text=True)
    response = admin_client.post(
        f"/admin/people/{admin.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    me = fresh(db, admin.id)
    assert me.is_admin and me.active
    assert events(db) == []


def test_last_active_admin_cannot_be_demoted_or_deactivated(app, admin, make_user, db):
    from lms.admin.services import AdminError, set_active, set_role

    other = make_user("admin", display_name="Other Admin")
    actor, target = db.get(User, admin.id), db.get(User, other.id)
    set_role(actor, target, "admin", False)  # two admins: fine
    db.commit()
    # Now ``actor`` is the only admin; a (former) admin acting cannot demote them either.
    with pytest.raises(AdminError, match="last active admin"):
        set_role(target, actor, "admin", False)
    with pytest.raises(AdminError, match="last active admin"):
        set_active(target, actor, False)
    # A deactivated admin does not count as an admin who could take over.
    third = db.get(User, make_user("admin", active=False).id)
    with pytest.raises(AdminError, match="last active admin"):
        set_role(third, actor, "admin", False)


def test_deactivate_and_reactivate(admin_client, make_user, db, client):
    person = make_user("learner", display_name="Sam Sample")
    response = admin_client.post(
        f"/admin/people/{person.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "can no longer sign in" in response.get_data(as_text=True)
    assert not fresh(db, person.id).active
    admin_client.post(f"/admin/people/{person.id}/active", data={"active": "1"})
    assert fresh(db, person.id).active
    assert [e.action for e in events(db)] == ["user.deactivated", "user.reactivated"]


def test_search_by_name_or_email_and_role_with_pages(admin_client, make_user, app):
    app.config["LMS_PAGE_SIZE"] = 3
    for n in range(5):
        make_user("learner", display_name=f"Rivera {n}", email=f"rivera{n}@example.org")
    make_user("facilitator", display_name="Flo Facilitator", email="flo@schools.example")
    html = admin_client.get("/admin/people?q=RIVERA").get_data(as_text=True)
    assert "5 people" in html and "Rivera 0" in html and "Rivera 3" not in html
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    assert "q=RIVERA" in next_link
    page2 = admin_client.get(next_link).get_data(as_text=True)
    assert "Rivera 3" in page2 and "Rivera 4" in page2
    assert "Flo Facilitator" in admin_client.get("/admin/people?q=schools.example").get_data(
        as_text=True
    )
    html = admin_client.get("/admin/people?role=facilitator").get_data(as_text=True)
    assert "Flo Facilitator" in html and "Rivera" not in html
    html = admin_client.get("/admin/people?role=learner").get_data(as_text=True)
    assert "Rivera 0" in html and "Flo Facilitator" not in html and "Ada Admin" not in html
    html = admin_client.get("/admin/people?role=admin").get_data(as_text=True)
    assert "Ada Admin" in html and "Flo Facilitator" not in html and "Rivera" not in html
    html = admin_client.get("/admin/people?q=100%25").get_data(as_text=True)
    assert "0 people" in html, "% is a literal, not a wildcard"


def test_search_too_long_is_explained(admin_client):
    response = admin_client.get("/admin/people?q=" + "x" * 101)
    assert response.status_code == 400 and "error-summary" in response.get_data(as_text=True)


def test_role_buttons_name_the_person(admin_client, make_user):
    make_user("learner", display_name="Quinn Q")
    html = admin_client.get("/admin/people?q=quinn").get_data(as_text=True)
    assert 'Make facilitator<span class="visually-hidden"> (Quinn Q)</span>' in html


def test_role_change_needs_csrf_when_enabled(app, admin, make_user, db):
    app.config["WTF_CSRF_ENABLED"] = True
    person = make_user("learner")
    client = app.test_client()
    # Sign in with a real token from the login page.
    page = client.get("/auth/login").get_data(as_text=True)
    client.post(
        "/auth/login",
        data={"email": admin.email, "password": TEST_PASSWORD, "csrf_token": csrf_token_in(page)},
    )
    response = client.post(f"/admin/people/{person.id}/roles", data={"role": "admin", "grant": "1"})
    assert response.status_code == 400
    assert not fresh(db, person.id).is_admin
    page = client.get("/admin/people").get_data(as_text=True)
    token = csrf_token_in(page)
    response = client.post(
        f"/admin/people/{person.id}/roles",
        data={"role": "admin", "grant": "1", "csrf_token": token},
    )
    assert response.status_code == 303 and fresh(db, person.id).is_admin


def test_an_admin_can_vouch_for_an_unconfirmed_address(admin_client, admin, make_user, db):
    person = make_user(
        "learner", display_name="Una Unconfirmed", email="una@example.org", email_confirmed_at=None
    )
    confirmed = make_user("learner", display_name="Cora Confirmed", email="cora@example.org")
    page = admin_client.get("/admin/people").get_data(as_text=True)
    assert page.count("Email not confirmed") == 1
    assert f'action="/admin/people/{person.id}/confirm-email"' in page
    assert f'action="/admin/people/{confirmed.id}/confirm-email"' not in page

    response = admin_client.post(
        f"/admin/people/{person.id}/confirm-email", data={"next": "/admin/people?q=una"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/admin/people?q=una"
    )
    assert fresh(db, person.id).email_confirmed_at is not None
    admin_client.post(f"/admin/people/{person.id}/confirm-email", data={})
    assert [(e.action, e.actor_id, e.target_id) for e in events(db)] == [
        ("user.email_confirmed", admin.id, str(person.id))
    ], "once"
    assert "Email not confirmed" not in admin_client.get("/admin/people").get_data(as_text=True)
