"""The dashboard reads each kind of evidence once for all the learner's courses, not per course."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from tests.helpers.learning import FLAGSHIP, SELF_PACED, post_segments, start


@contextmanager
def counted_statements(app):
    from lms.db import database_state

    with app.app_context():
        engine = database_state().engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_dashboard_queries_do_not_grow_with_the_courses(app, learner_client):
    first = start(learner_client, FLAGSHIP, "recording")
    post_segments(learner_client, first, [[0, 5]])
    learner_client.get("/me")  # warm: first-request work (catalog load) is not counted
    kept_parts = [
        app.extensions["lms"].cache(kind)
        for kind in ("dashboard-page", "dashboard", "pending-evaluations", "signed-in")
    ]

    def forget() -> None:  # counted as rendered, not as kept (tests/test_page_caches.py)
        for part in kept_parts:
            part.clear()

    forget()
    with counted_statements(app) as one_course:
        page = learner_client.get("/me").get_data(as_text=True)
    assert "A Dialogue with ESPs" in page
    start(learner_client, SELF_PACED, "self_paced")
    forget()
    with counted_statements(app) as two_courses:
        page = learner_client.get("/me").get_data(as_text=True)
    assert len(two_courses) == len(one_course), two_courses
