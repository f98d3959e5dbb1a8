"""The pages anyone can open, in English and Spanish: axe-clean, language marked, screenshots."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.pages import axe_version, check_page, screenshot
from tests.helpers.e2e.settings import FLAGSHIP

pytestmark = pytest.mark.e2e

SPANISH_TITLE = "Un diálogo con los ESP sobre la justicia racial en la educación"
ENGLISH_TITLE = "A Dialogue with ESPs about Racial Justice in Education"


def test_axe_is_the_bundled_engine(page, live_server):
    page.goto("/")
    assert re.fullmatch(r"4\.\d+\.\d+", axe_version(page))


def test_public_pages_in_english(page, live_server):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Course catalog")
    expect(page.get_by_role("link", name=ENGLISH_TITLE)).to_be_visible()
    check_page(page, "catalog-en")
    screenshot(page, "readme-catalog", full_page=False)  # docs/screenshots/ (README)

    page.get_by_role("link", name=ENGLISH_TITLE).click()
    expect(page).to_have_url(re.compile(f"/courses/{FLAGSHIP}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ENGLISH_TITLE)
    expect(
        page.get_by_text("does not earn a certificate of completion", exact=False).first
    ).to_be_visible()
    check_page(page, "course-en")
    screenshot(page, "readme-course", full_page=False)

    page.goto("/?path=recording&q=dialogue")
    expect(page.get_by_role("link", name=ENGLISH_TITLE)).to_be_visible()
    check_page(page, "catalog-filtered-en")

    page.goto("/auth/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "login-en")

    response = page.goto("/courses/no-such-course")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    check_page(page, "not-found-en")


def test_public_pages_in_spanish_through_the_language_switch(page, live_server):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The header's switch is a button per other language, named in that language.
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name=SPANISH_TITLE)).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()
    check_page(page, "catalog-es")

    page.get_by_role("link", name=SPANISH_TITLE).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(SPANISH_TITLE)
    expect(page.get_by_text("Prácticas restaurativas")).to_be_visible()
    check_page(page, "course-es")

    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check_page(page, "login-es")

    response = page.goto("/courses/no-such-course")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check_page(page, "not-found-es")

    # And back: the choice is remembered per visitor, the switch works both ways.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_spanish_browser_gets_spanish_without_choosing(context_factory, live_server):
    page = context_factory(locale="es-ES")
    page.goto(f"/courses/{FLAGSHIP}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(SPANISH_TITLE)
    check_page(page, "course-es-accept-language")


def test_the_accessibility_check_reports_what_it_finds(page, live_server):
    """The check itself can fail: an image without a text alternative and an unlabelled field."""
    from tests.helpers.e2e.pages import assert_accessible, axe_violations, format_violations

    page.goto("/")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend',
          '<img src="/static/lms-assets/lms/app.css" class="e2e-bad"><input class="e2e-bad" type="text">');
    }""")
    violations = axe_violations(page)
    found = {v["id"] for v in violations}
    assert {"image-alt", "label"} <= found, found
    text = format_violations(violations)
    assert "image-alt (critical)" in text and "https://dequeuniversity.com/rules/axe/" in text, text
    assert "e2e-bad" in text, text  # the target selector is shown
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        assert_accessible(page, "deliberately broken catalog")
