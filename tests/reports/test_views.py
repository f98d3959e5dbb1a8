from __future__ import annotations

import re
from html import unescape

import pytest

from tests.helpers.reports import seed

ADMIN_ROUTES = [
    "/admin/reports/completions",
    "/admin/reports/completions.csv",
    "/admin/reports/completions.xlsx",
]
FACILITATOR_ROUTES = [
    "/facilitate/reports/completions",
    "/facilitate/reports/completions.csv",
    "/facilitate/reports/completions.xlsx",
]


@pytest.mark.parametrize("url", ADMIN_ROUTES + FACILITATOR_ROUTES)
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        *[("learner", url, 403) for url in ADMIN_ROUTES + FACILITATOR_ROUTES],
        *[("facilitator", url, 403) for url in ADMIN_ROUTES],
        *[("facilitator", url, 200) for url in FACILITATOR_ROUTES],
        *[("admin", url, 200) for url in ADMIN_ROUTES + FACILITATOR_ROUTES],
    ],
)
def test_each_role(make_user, login_as, role, url, status):
    response = login_as(make_user(role)).get(url)
    assert response.status_code == status


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_admin_page_shows_rows_summary_and_pages(make_user, login_as, db, app):
    app.config["LMS_PAGE_SIZE"] = 10
    seed(db, learners=25)
    client = login_as(make_user("admin"))
    html = client.get("/admin/reports/completions").get_data(as_text=True)
    text = text_of(html)
    assert 'data-total="25"' in html
    assert "Showing 1–10 of 25" in text and "Page 1 of 3" in text
    assert "Learner 00000" in text and "Learner 00010" not in text
    assert "Ana Facil, Zed Facil" in text
    assert "Not available for recordings" in text and "Not available for self-paced courses" in text
    assert 'rel="next"' in html and "<caption" in html and 'scope="col"' in html
    page3 = text_of(client.get("/admin/reports/completions?page=3").get_data(as_text=True))
    assert "Learner 00024" in page3 and "Showing 21–25 of 25" in page3
    beyond = text_of(client.get("/admin/reports/completions?page=99").get_data(as_text=True))
    assert "Page 3 of 3" in beyond, "a page past the end shows the last page"


def test_filters_keep_their_values_and_links_carry_them(make_user, login_as, db, app):
    app.config["LMS_PAGE_SIZE"] = 2
    seed(db, learners=30)
    client = login_as(make_user("admin"))
    html = client.get("/admin/reports/completions?path=live&affiliate=Ohio").get_data(as_text=True)
    assert '<option value="live" selected>' in html
    assert 'value="Ohio"' in html
    next_link = unescape(re.search(r'href="([^"]+)" rel="next"', html).group(1))
    assert "path=live" in next_link and "affiliate=Ohio" in next_link and "page=2" in next_link


def test_invalid_filters_are_explained(make_user, login_as):
    response = login_as(make_user("admin")).get(
        "/admin/reports/completions?from=tomorrow&status=done"
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and 'href="#f-from"' in html
    assert 'aria-invalid="true"' in html and 'value="tomorrow"' in html, "what was typed is kept"


def test_facilitator_page_shows_only_their_cohorts(login_as, db):
    from lms.accounts.models import User

    data = seed(db, learners=30)
    ana = db.get(User, data.facilitators["ana"])
    db.expunge(ana)
    html = login_as(ana).get("/facilitate/reports/completions").get_data(as_text=True)
    expected = sum(1 for e in data.enrollments if e["cohort_id"] == data.cohorts["a"])
    assert f'data-total="{expected}"' in html
    text = text_of(html)
    assert "Justice February" not in text.split("Summary")[1], "cohort b's rows are not shown"
    assert "Not available for recordings" not in text.split("Summary")[1]
    assert 'href="/facilitate/reports/completions.csv' in html


def test_report_page_has_no_inline_script_or_style(make_user, login_as, db):
    seed(db, learners=6)
    html = login_as(make_user("admin")).get("/admin/reports/completions").get_data(as_text=True)
    assert "style=" not in html and "<script>" not in html


def test_cohort_filter_asks_for_a_number_when_there_are_too_many_to_list(
    make_user, login_as, db, monkeypatch
):
    from lms.reports import services

    data = seed(db, learners=20)
    client = login_as(make_user("admin"))
    listed = client.get("/admin/reports/completions").get_data(as_text=True)
    assert (
        '<select id="f-cohort" name="cohort"' in listed
        and f'<option value="{data.cohorts["b"]}"' in listed
    )
    monkeypatch.setattr(services, "COHORT_CHOICES", 1)  # the seed has two cohorts
    html = client.get(f"/admin/reports/completions?cohort={data.cohorts['b']}").get_data(
        as_text=True
    )
    assert '<select id="f-cohort"' not in html
    field = re.search(
        r'<input type="text" inputmode="numeric" id="f-cohort" name="cohort" value="(\d+)"'
        r'[^>]*aria-describedby="f-cohort-hint"',
        html,
    )
    assert field and field.group(1) == str(data.cohorts["b"]) and 'id="f-cohort-hint"' in html
    shown = int(re.search(r'data-total="(\d+)"', html).group(1))
    assert shown == sum(1 for e in data.enrollments if e["cohort_id"] == data.cohorts["b"]) > 0
    refused = client.get("/admin/reports/completions?cohort=soon").get_data(as_text=True)
    assert 'aria-describedby="f-cohort-hint f-cohort-error" aria-invalid="true"' in refused
