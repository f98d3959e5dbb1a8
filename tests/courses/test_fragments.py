"""The rendered parts of the catalog and course pages kept in memory (lms.caching):
they follow the course files, the locale and the filters, never an earlier request."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lms.caching import WorkerCache
from tests.helpers import COURSES_DIR
from tests.helpers.cohorts import schedule

FLAGSHIP = "/courses/esp-racial-justice-dialogue"
FLAGSHIP_TITLE = "A Dialogue with ESPs about Racial Justice in Education"


@pytest.fixture
def courses_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "courses"
    shutil.copytree(COURSES_DIR, folder)
    return folder


@pytest.fixture
def app_config(app_config: dict[str, Any], courses_dir: Path) -> dict[str, Any]:
    return {**app_config, "LMS_COURSES_DIR": str(courses_dir)}


def _retitle(courses_dir: Path, new_title: str) -> None:
    toml = courses_dir / "esp-racial-justice-dialogue" / "course.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            f'title = "{FLAGSHIP_TITLE}"', f'title = "{new_title}"', 1
        ),
        encoding="utf-8",
    )


def test_a_reloaded_catalog_shows_the_new_course_file(app, client, courses_dir):
    assert FLAGSHIP_TITLE in client.get("/").get_data(as_text=True)
    assert FLAGSHIP_TITLE in client.get(FLAGSHIP).get_data(as_text=True)
    _retitle(courses_dir, "Racial Justice in Education: a Dialogue, revised")
    assert FLAGSHIP_TITLE in client.get("/").get_data(as_text=True), (
        "unchanged until the catalog reloads"
    )

    app.extensions["lms"].catalog.reload()

    for path in ("/", FLAGSHIP):
        html = client.get(path).get_data(as_text=True)
        assert "a Dialogue, revised" in html and FLAGSHIP_TITLE not in html, path


def test_each_locale_and_filter_gets_its_own_rendering(client):
    english = client.get(FLAGSHIP).get_data(as_text=True)
    spanish = client.get(FLAGSHIP, headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "At a glance" in english and "At a glance" not in spanish
    assert "Un diálogo con los ESP" in spanish

    everything = client.get("/").get_data(as_text=True)
    recordings = client.get("/?path=recording").get_data(as_text=True)
    assert (
        "/courses/community-partnerships" in everything
        and "/courses/community-partnerships" not in recordings
    )
    assert "/courses/community-partnerships" in client.get("/").get_data(as_text=True)


def test_the_visitor_specific_parts_are_never_kept(app, client, make_user, login_as):
    """The panels that change with who is signed in (starting the course on one's own, the live
    sessions) are kept only for signed-out visitors: a signed-in visitor after them gets their
    own. (The page header is never kept at all: it cannot tell.)"""
    schedule(app, make_user("facilitator"), title="Evening session")
    anonymous = client.get(FLAGSHIP).get_data(as_text=True)
    assert "Sign in to start" in anonymous and "Sign in to register" in anonymous
    login_as(make_user(email="reader@example.org"))
    signed_in = client.get(FLAGSHIP).get_data(as_text=True)
    assert "Start with the recording" in signed_in and "Sign in to start" not in signed_in
    assert "Evening session" in signed_in and "Sign in to register" not in signed_in
    assert ">Register<" in signed_in


def test_the_cache_is_bounded_and_least_recently_used_goes_first():
    cache: WorkerCache[str] = WorkerCache(maxsize=2)
    renders: list[str] = []

    def render(name: str):
        return lambda: renders.append(name) or f"<p>{name}</p>"

    assert cache.get("a", render("a")) == "<p>a</p>"
    cache.get("b", render("b"))
    cache.get("a", render("a"))  # a hit: "b" is now the least recently used
    cache.get("c", render("c"))
    assert len(cache) == 2
    cache.get("a", render("a"))
    cache.get("b", render("b"))
    assert renders == ["a", "b", "c", "b"]


def test_a_sync_in_another_worker_reaches_this_one(
    app, app_config, courses_dir, tmp_path, monkeypatch
):
    """Each gunicorn worker holds its own catalog: a sync made in one (the admin page, or the
    CLI) reaches the others' pages within LMS_CATALOG_CHECK_SECONDS."""
    from lms import create_app
    from lms.db import db_session

    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "other-instance"))
    other_worker = create_app({**app_config, "LMS_CATALOG_CHECK_SECONDS": 0})
    try:
        visitor = other_worker.test_client()
        assert FLAGSHIP_TITLE in visitor.get(FLAGSHIP).get_data(as_text=True)

        _retitle(courses_dir, "Racial Justice in Education: a Dialogue, revised")
        assert FLAGSHIP_TITLE in visitor.get(FLAGSHIP).get_data(as_text=True), (
            "no sync yet: the files alone change nothing"
        )
        with app.app_context():
            app.extensions["lms"].catalog.sync(db_session)
            db_session.commit()

        for path in (FLAGSHIP, "/"):
            html = visitor.get(path).get_data(as_text=True)
            assert "a Dialogue, revised" in html and FLAGSHIP_TITLE not in html, path
    finally:
        other_worker.extensions["lms"].database.engine.dispose()


def test_a_rendering_that_a_reload_overtakes_is_never_served(app):
    """With threaded workers a reload can land while a request renders from the old courses:
    that rendering is filed under the old generation, and the next request renders anew."""
    from lms.web.caching import kept

    catalog = app.extensions["lms"].catalog

    def render_while_reloading() -> str:
        catalog.reload()  # another thread, between this request's read of the courses and its store
        return "<p>from the old courses</p>"

    with app.test_request_context("/"):
        assert kept("probe", (), render_while_reloading) == "<p>from the old courses</p>"
        assert (
            kept("probe", (), lambda: "<p>from the new courses</p>")
            == "<p>from the new courses</p>"
        )
