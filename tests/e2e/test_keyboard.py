"""Keyboard alone: skip link, Tab order reaches everything, visible focus, errors announced."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.pages import (
    assert_accessible,
    assert_errors_announced,
    assert_keyboard_operable,
    assert_skip_link,
    focus_by_tab,
    screenshot,
    skip_unless_page,
    type_into,
)
from tests.helpers.e2e.settings import FLAGSHIP

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["/", f"/courses/{FLAGSHIP}", "/auth/login"])
def test_skip_link_then_everything_reachable_with_visible_focus(page, live_server, path):
    page.goto(path)
    assert_skip_link(page)
    reached = assert_keyboard_operable(page)
    texts = [item["text"] for item in reached]
    assert texts[0] == "Skip to main content"
    assert "Español" in texts  # the language switch is a real button in the Tab order


def test_sign_in_with_a_wrong_password_by_keyboard(page, live_server):
    person = live_server.people["learner-ada"]
    page.goto("/auth/login")
    assert_skip_link(page)
    type_into(page, "#email", person.email)
    type_into(page, "#password", "not the password")
    page.keyboard.press("Enter")  # submits the form from the password field

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_errors_announced(page)
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator(".error-summary")).to_contain_text("do not match an active account")
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email")).to_have_value(person.email)  # what was typed is kept
    screenshot(page, "login-error-en")
    assert_accessible(page, "login with an error")
    assert_keyboard_operable(page)

    # The summary's link takes keyboard users to the field to fix.
    focus_by_tab(page, ".error-summary a")
    page.keyboard.press("Enter")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(person.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(
        re.compile(r"/me(#[\w-]+)?$")
    )  # a fragment (#password from the summary link) survives the redirect
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page, "dashboard after keyboard sign-in")


def test_registration_by_keyboard(page, live_server):
    skip_unless_page(live_server, "/auth/register", "registration")
    page.goto("/auth/register")
    assert_skip_link(page)
    assert_keyboard_operable(page)
    assert_accessible(page, "registration")
    # Send the empty form with the keyboard: every problem is listed, announced and tied to its field.
    focus_by_tab(page, "main form:not([role=search]) [type=submit]")
    page.keyboard.press("Enter")
    assert_errors_announced(page)
    screenshot(page, "register-errors-en")
    assert_accessible(page, "registration with errors")


def test_reflection_by_keyboard(page, live_server):
    """Start on the recording path and write a reflection with the keyboard alone: a too-short
    answer is refused with an announced error, a long enough one is submitted."""
    if not live_server.has_endpoint("lms_learning.start") or not live_server.has_endpoint(
        "lms_learning.reflection"
    ):
        pytest.skip(
            "starting a course and reflections (lms_learning.start / .reflection) not merged yet"
        )
    from tests.helpers.e2e.flows import reflection_row, sign_in, unique_email
    from tests.helpers.e2e.pages import words

    person = live_server.create_person(unique_email("keyboard").split("@")[0])
    sign_in(page, person.email, person.password)
    page.goto(f"/courses/{FLAGSHIP}")
    start = live_server.url_for("lms_learning.start", slug=FLAGSHIP)
    focus_by_tab(
        page, f"form[action='{start}']:has(input[name=path][value=recording]) [type=submit]"
    )
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/learn/\d+"))
    enrollment_id = int(re.search(r"/learn/(\d+)", page.url).group(1))

    page.goto(
        live_server.url_for("lms_learning.step", enrollment_id=enrollment_id, step_id="outcome-1")
    )
    assert_skip_link(page)
    assert_keyboard_operable(page)
    type_into(page, "#body", "Too short to count.")
    focus_by_tab(page, "#reflection-form [name=submit]")
    page.keyboard.press("Enter")
    assert_errors_announced(page)
    expect(page.locator("#body")).to_have_value("Too short to count.")  # kept after the refusal
    assert reflection_row(live_server, enrollment_id, "outcome-1").status.value != "submitted"
    assert_accessible(page, "reflection with an error")

    type_into(page, "#body", words(50, "Keyboard"))
    focus_by_tab(page, "#reflection-form [name=submit]")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    expect(page.locator(".error-summary")).to_have_count(0)
    assert reflection_row(live_server, enrollment_id, "outcome-1").status.value == "submitted"
    assert_accessible(page, "reflection submitted")


def test_the_keyboard_checks_catch_what_they_look_for(page, live_server):
    """The checks can fail: an unlabelled field, a control with no focus ring, one out of reach."""
    page.goto("/auth/login")
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text class=e2e-unnamed>')"
    )
    with pytest.raises(AssertionError, match="without a label"):
        assert_keyboard_operable(page)
    page.reload()
    page.evaluate(
        "() => { const b = document.createElement('button'); b.textContent = 'No ring';"
        " b.style.outline = 'none'; document.querySelector('main').append(b); }"
    )
    with pytest.raises(AssertionError, match="no visible focus"):
        assert_keyboard_operable(page)
    page.reload()
    page.evaluate(
        "() => { const a = document.createElement('a'); a.href = '#'; a.textContent = 'Unreachable';"
        " a.tabIndex = -1; document.querySelector('main').append(a); }"
    )
    with pytest.raises(AssertionError, match="not reachable"):
        assert_keyboard_operable(page)
