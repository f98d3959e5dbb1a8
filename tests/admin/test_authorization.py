from __future__ import annotations

import pytest

GET_ROUTES = ["/admin/", "/admin/people", "/admin/courses", "/admin/audit", "/admin/evaluations"]


def post_routes(user_id: int) -> list[tuple[str, dict]]:
    return [
        (f"/admin/people/{user_id}/roles", {"role": "facilitator", "grant": "1"}),
        (f"/admin/people/{user_id}/active", {"active": "0"}),
        ("/admin/courses/sync", {}),
    ]


@pytest.mark.parametrize("url", GET_ROUTES)
def test_anonymous_get_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["learner", "facilitator"])
@pytest.mark.parametrize("url", GET_ROUTES)
def test_learners_and_facilitators_are_refused(make_user, login_as, role, url):
    assert login_as(make_user(role)).get(url).status_code == 403


@pytest.mark.parametrize("url", GET_ROUTES)
def test_admin_opens_every_page(make_user, login_as, url):
    response = login_as(make_user("admin")).get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1 and "style=" not in html and "<script>" not in html


@pytest.mark.parametrize("role", [None, "learner", "facilitator"])
def test_posts_are_refused_to_non_admins(make_user, login_as, client, role, db):
    from lms.accounts.models import User

    target = make_user("learner")
    if role:
        login_as(make_user(role))
    for url, data in post_routes(target.id):
        response = client.post(url, data=data)
        assert response.status_code == (302 if role is None else 403), url
    person = db.get(User, target.id)
    assert person.active and not person.is_facilitator, "nothing changed"


def test_admin_header_link(make_user, login_as):
    html = login_as(make_user("admin")).get("/").get_data(as_text=True)
    assert 'href="/admin/"' in html


def test_unknown_person_is_404(make_user, login_as):
    client = login_as(make_user("admin"))
    assert (
        client.post("/admin/people/999999/roles", data={"role": "admin", "grant": "1"}).status_code
        == 404
    )
    assert client.post("/admin/people/999999/active", data={"active": "0"}).status_code == 404


def test_malformed_role_change_is_400(make_user, login_as):
    client = login_as(make_user("admin"))
    target = make_user("learner")
    assert (
        client.post(
            f"/admin/people/{target.id}/roles", data={"role": "superuser", "grant": "1"}
        ).status_code
        == 400
    )
    assert (
        client.post(f"/admin/people/{target.id}/active", data={"active": "maybe"}).status_code
        == 400
    )
