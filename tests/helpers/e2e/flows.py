"""Steps the journeys share: signing up and in, starting a course, watching, reflecting.

Selectors prefer what a person sees (roles and names) and otherwise form actions computed
from the app's own routes (``live_server.url_for``) and WTForms field ids, so wording and
URL changes do not break them.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.helpers.e2e.pages import check_page, words
from tests.helpers.e2e.settings import FLAGSHIP

_counter = itertools.count(1)


def unique_email(prefix: str) -> str:
    return f"{prefix}-{int(time.time())}-{next(_counter)}@example.org"


def switch_language(page: Any, to: str) -> None:
    """Use the header's language switch (one button per other language, named in that language)."""
    names = {"es": "Español", "en": "English"}
    page.locator("header form.language-switch").get_by_role("button", name=names[to]).click()
    expect(page.locator("html")).to_have_attribute("lang", to)


def submit_main_form(page: Any, form: str = "main form") -> None:
    page.locator(f"{form} [type=submit]").first.click()


def register(page: Any, name: str, email: str, password: str, lang: str = "en") -> None:
    page.goto("/auth/register")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    check_page(page, f"register-{lang}")
    page.locator("#display_name").fill(name)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    if page.locator("#confirm").count():
        page.locator("#confirm").fill(password)
    submit_main_form(page)
    page.wait_for_load_state("load")


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    submit_main_form(page)
    expect(page.locator("header form[action$='/auth/logout'] button")).to_be_visible()


def start_recording_path(
    page: Any, live_server: Any, slug: str = FLAGSHIP, lang: str = "en"
) -> int:
    """From the course page, start the course on the recording path; return the enrollment id."""
    page.goto(f"/courses/{slug}")
    check_page(page, f"course-signed-in-{lang}")
    start = live_server.url_for("lms_learning.start", slug=slug)
    page.locator(
        f"form[action='{start}']:has(input[name=path][value=recording]) [type=submit]"
    ).click()
    expect(page).to_have_url(re.compile(r"/learn/\d+"))
    return int(page.url.split("/learn/")[1].split("/")[0].split("?")[0].split("#")[0])


def enrollment_row(live_server: Any, enrollment_id: int) -> Any:
    from lms.learning.models import Enrollment

    return live_server.db(lambda s: s.get(Enrollment, enrollment_id))


def step_state(live_server: Any, enrollment_id: int, step_id: str) -> str | None:
    from sqlalchemy import select

    from lms.learning.models import StepProgress

    def query(session: Any) -> str | None:
        row = session.scalar(
            select(StepProgress).where(
                StepProgress.enrollment_id == enrollment_id, StepProgress.step_id == step_id
            )
        )
        return None if row is None else row.state.value

    return live_server.db(query)


def reflection_row(live_server: Any, enrollment_id: int, step_id: str) -> Any:
    from sqlalchemy import select

    from lms.learning.models import Reflection

    return live_server.db(
        lambda s: s.scalar(
            select(Reflection).where(
                Reflection.enrollment_id == enrollment_id, Reflection.prompt_id == step_id
            )
        )
    )


def wait_for(
    condition: Any, timeout: float = 45.0, interval: float = 0.5, message: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")


def watch_recording(page: Any, live_server: Any, enrollment_id: int, lang: str = "en") -> None:
    """Play the real 30-second clip at 4x until the watch step counts as done."""
    page.goto(
        live_server.url_for("lms_learning.step", enrollment_id=enrollment_id, step_id="recording")
    )
    video = page.locator("main video")
    expect(video).to_be_visible()
    check_page(page, f"step-watch-{lang}")
    page.wait_for_function(
        "() => document.querySelector('main video').readyState >= 1", timeout=20_000
    )
    page.evaluate("""async () => {
        const video = document.querySelector('main video');
        video.muted = true;
        video.playbackRate = 4;
        await video.play();
    }""")
    page.wait_for_function("() => document.querySelector('main video').ended", timeout=40_000)
    wait_for(
        lambda: step_state(live_server, enrollment_id, "recording") == "done",
        timeout=20,
        message="the watch step to be done",
    )
    page.reload()
    expect(page.locator("main .badge-success").first).to_be_visible()
    check_page(page, f"step-watch-done-{lang}")


def write_reflection(
    page: Any,
    live_server: Any,
    enrollment_id: int,
    step_id: str,
    text: str,
    lang: str = "en",
    audit: bool = True,
) -> None:
    """Type a reflection, let autosave keep the draft, then submit it."""
    page.goto(
        live_server.url_for("lms_learning.step", enrollment_id=enrollment_id, step_id=step_id)
    )
    body = page.locator("#body")
    expect(body).to_be_visible()
    if audit:
        check_page(page, f"step-reflect-{lang}")
    body.click()
    body.press_sequentially(text[:80], delay=5)  # real key presses: what autosave listens to
    body.fill(text)
    body.press("End")
    # Autosave: the draft reaches the server without pressing anything.
    wait_for(
        lambda: (
            (row := reflection_row(live_server, enrollment_id, step_id)) is not None
            and row.body.strip() == text.strip()
        ),
        timeout=20,
        message=f"the {step_id} draft to autosave",
    )
    expect(page.locator("#draft-status")).not_to_be_empty()
    assert reflection_row(live_server, enrollment_id, step_id).status.value == "draft"
    page.locator("#reflection-form [name=submit]").click()
    page.wait_for_load_state("load")
    wait_for(
        lambda: reflection_row(live_server, enrollment_id, step_id).status.value == "submitted",
        timeout=10,
        message=f"{step_id} submitted",
    )


def reflection_text(step_id: str, lang: str) -> str:
    seed = "En mi escuela" if lang == "es" else "In my school"
    return f"{seed} ({step_id}): " + words(55)
