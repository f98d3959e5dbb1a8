"""Two apps in one process share nothing the engine registers: blueprints, course page
panels, kept pages (a plugin mounted into a host must not reach the host's other apps)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask
from markupsafe import Markup

from lms import LMS
from lms.courses.presentation import register_course_panel
from tests.helpers import COURSES_DIR

FLAGSHIP = "/courses/esp-racial-justice-dialogue"


@pytest.fixture
def two_hosts(database_url, tmp_path):
    hosts = []
    for name in ("first", "second"):
        host = Flask(name, instance_path=str(tmp_path / f"{name}-instance"))
        host.config.update(
            SECRET_KEY=f"{name}-secret",
            TESTING=True,
            SERVER_NAME=f"{name}.test",
            LMS_DATABASE_URL=database_url,
            LMS_COURSES_DIR=str(COURSES_DIR),
            WTF_CSRF_ENABLED=False,
        )
        LMS(host)
        hosts.append(host)
    yield hosts
    for host in hosts:
        host.extensions["lms"].database.engine.dispose()


def test_each_app_has_its_own_blueprints(two_hosts):
    import lms.courses.views

    first, second = two_hosts
    for name in first.extensions["lms"].blueprints:
        assert isinstance(first.blueprints[name], Blueprint)
        assert first.blueprints[name] is not second.blueprints[name], name
    # The module keeps only the declarations: nothing registered on an app is kept there.
    assert not isinstance(lms.courses.views.blueprint, Blueprint)
    # Each app answers with its own engine's pages, error pages included.
    for host in two_hosts:
        client = host.test_client()
        assert client.get("/").status_code == 200
        missing = client.get("/courses/no-such-course")
        assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
        refused = client.get("/?q=a%00b")
        assert refused.status_code == 400 and "NUL character" in refused.get_data(as_text=True)


def test_a_course_panel_belongs_to_the_app_it_was_registered_on(two_hosts):
    first, second = two_hosts

    def host_panel(course: Any) -> str:
        return Markup('<section id="host-panel">Only on the first host</section>')

    register_course_panel(first, host_panel)
    register_course_panel(first, host_panel)  # registering twice shows it once
    assert first.extensions["lms"].course_panels.count(host_panel) == 1
    assert host_panel not in second.extensions["lms"].course_panels
    assert first.extensions["lms"].course_panels is not second.extensions["lms"].course_panels

    assert (
        first.test_client().get(FLAGSHIP).get_data(as_text=True).count("Only on the first host")
        == 1
    )
    page = second.test_client().get(FLAGSHIP).get_data(as_text=True)
    assert "Only on the first host" not in page
    assert "Upcoming live sessions" in page, "the engine's own panels are on both"


def test_each_app_keeps_its_own_pages(two_hosts):
    first, second = two_hosts
    assert first.extensions["lms"].page_cache is not second.extensions["lms"].page_cache
    first.test_client().get("/")
    assert len(first.extensions["lms"].cache("catalog")) == 1
    assert len(second.extensions["lms"].cache("catalog")) == 0
