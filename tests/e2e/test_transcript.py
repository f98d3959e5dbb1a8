"""The interactive transcript under the player: it follows playback, seeks by click and by
keyboard, is searched, passes axe-core in English and Spanish, and is there without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.flows import sign_in, start_recording_path, switch_language, unique_email
from tests.helpers.e2e.pages import assert_accessible, check_page, focus_by_tab, screenshot
from tests.helpers.e2e.settings import PASSWORD

pytestmark = pytest.mark.e2e

SEARCHES = {"en": ("Outcome 2", "1 passage matches."), "es": ("resultado", "3 pasajes coinciden.")}
TRANSCRIPT_NAMES = {"en": "Transcript", "es": "Transcripción"}


def _watch_step(page, live_server, lang: str) -> None:
    person = live_server.create_person(
        unique_email(f"transcript-{lang}").split("@")[0], name="Tomás Transcript"
    )
    sign_in(page, person.email, PASSWORD)
    if lang == "es":
        switch_language(page, "es")
    enrollment_id = start_recording_path(page, live_server, lang=lang)
    page.goto(
        live_server.url_for("lms_learning.step", enrollment_id=enrollment_id, step_id="recording")
    )
    page.wait_for_function(
        "() => document.querySelector('main video').readyState >= 1", timeout=20_000
    )
    page.evaluate("() => { document.querySelector('main video').muted = true; }")


def _current_start(page) -> str | None:
    return page.evaluate(
        "() => { const c = document.querySelector('#transcript-cues [aria-current=true]');"
        " return c && c.dataset.start; }"
    )


def _video_time(page) -> float:
    return float(page.evaluate("() => document.querySelector('main video').currentTime"))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_transcript_follows_playback_seeks_and_is_searched(page, live_server, lang):
    _watch_step(page, live_server, lang)
    region = page.get_by_role("region", name=TRANSCRIPT_NAMES[lang])
    expect(region).to_be_visible()
    expect(region.locator("li.transcript-cue")).to_have_count(5)
    check_page(
        page, f"step-watch-transcript-{lang}"
    )  # axe-core at zero violations, with the script running

    # Playback moves the marker: the passage at 20 s (18-24 s) becomes the current one.
    page.evaluate("() => { document.querySelector('main video').currentTime = 20; }")
    page.wait_for_function(
        "() => document.querySelector('#transcript-cues [aria-current=true]')?.dataset.start === '18.0'"
    )

    # A click on a passage's time seeks there (and plays), without leaving the page.
    url = page.url
    region.locator("li.transcript-cue").nth(2).locator("a.transcript-time").click()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('main video').currentTime - 12) < 1.5"
    )
    assert page.url == url
    page.wait_for_function(
        "() => document.querySelector('#transcript-cues [aria-current=true]')?.dataset.start === '12.0'"
    )
    page.evaluate("() => document.querySelector('main video').pause()")

    # By keyboard: Tab to the second passage's time, Enter seeks to 6 s; focus stays where it was.
    focus_by_tab(page, "#transcript-cues li:nth-child(2) a.transcript-time")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('main video').currentTime - 6) < 1.5"
    )
    expect(page.locator("#transcript-cues li:nth-child(2) a.transcript-time")).to_be_focused()
    page.evaluate("() => document.querySelector('main video').pause()")
    assert _current_start(page) == "6.0"

    # Nothing was announced while it played: the only status region is the search's, still empty.
    assert region.locator("[aria-live], [role=status], [role=alert]").count() == 1
    expect(page.locator("#transcript-matches")).to_have_text("")

    # The search keeps the passages that match, marks the words, and says how many.
    term, message = SEARCHES[lang]
    search = region.get_by_role("searchbox")
    search.fill(term)
    expect(page.locator("#transcript-matches")).to_have_text(message)
    visible = region.locator("li.transcript-cue:visible")
    expect(visible).to_have_count(int(message.split()[0]))
    expect(visible.first.locator("mark")).to_have_text(term if lang == "en" else "Resultado")
    screenshot(page, f"transcript-search-{lang}")
    assert_accessible(page, f"watch step, transcript searched ({lang})")
    search.fill("")
    search.dispatch_event("search")
    expect(region.locator("li.transcript-cue:visible")).to_have_count(5)


def test_the_transcript_is_there_without_javascript(browser, page, live_server):
    # Signed in and started with the script on; then the same session with JavaScript off.
    person = live_server.create_person(
        unique_email("transcript-nojs").split("@")[0], name="Noa Script"
    )
    sign_in(page, person.email, PASSWORD)
    enrollment_id = start_recording_path(page, live_server)
    context = browser.new_context(
        base_url=live_server.url,
        java_script_enabled=False,
        locale="en-US",
        storage_state=page.context.storage_state(),
    )
    try:
        plain = context.new_page()
        plain.goto(
            live_server.url_for(
                "lms_learning.step", enrollment_id=enrollment_id, step_id="recording"
            )
        )

        region = plain.get_by_role("region", name="Transcript")
        expect(region).to_be_visible()
        passages = region.locator("li.transcript-cue")
        expect(passages).to_have_count(5)
        expect(passages.first).to_contain_text("0:00")
        expect(passages.first).to_contain_text("A Dialogue with ESPs about")
        # Each time is a link into the recording at that point; the search needs the script.
        expect(passages.nth(1).locator("a")).to_have_attribute(
            "href", "/courses/esp-racial-justice-dialogue/media/recording.mp4#t=6"
        )
        expect(region.get_by_role("searchbox")).to_be_hidden()
        screenshot(plain, "transcript-no-javascript")
    finally:
        context.close()
