"""Browser tests: the app served on localhost, driven by Playwright through Debian's Chromium.

Nothing here is imported by ``make test``: without Playwright installed this folder's tests are
not collected, and with it they are deselected by ``-m "not e2e"`` before any fixture runs.

The server is the real app (``create_app()`` reading an instance ``config.py``) on a fresh
SQLite file, migrated and synced by the app's own CLI, served by werkzeug in a thread.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.e2e.settings import CHROMIUM, PASSWORD, REPO, SCREENSHOTS

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The player starts the recording from a script; a real learner presses play.
    "--autoplay-policy=no-user-gesture-required",
]

if importlib.util.find_spec("playwright") is None:
    # `make test` installs no browser tooling: leave these tests out instead of failing.
    collect_ignore_glob = ["test_*.py"]


@dataclass
class Person:
    email: str
    name: str
    roles: tuple[str, ...]
    password: str = PASSWORD


@dataclass
class LiveServer:
    url: str
    instance: Path
    app: Any
    env: dict[str, str]
    people: dict[str, Person] = field(default_factory=dict)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``flask --app lms lms ARGS`` against this server's instance."""
        return run_cli(self.env, *args)

    def create_person(
        self, key: str, roles: tuple[str, ...] = ("learner",), name: str | None = None
    ) -> Person:
        person = Person(
            email=f"{key}@example.org", name=name or key.replace("-", " ").title(), roles=roles
        )
        role_args = [arg for role in roles for arg in ("--role", role)]
        self.cli(
            "users",
            "create",
            "--email",
            person.email,
            "--name",
            person.name,
            "--password",
            person.password,
            *role_args,
        )
        self.people[key] = person
        return person

    def status(self, path: str) -> int:
        """The HTTP status of an anonymous GET (used to skip journeys whose pages have not landed)."""
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def has_endpoint(self, endpoint: str) -> bool:
        return endpoint in self.app.view_functions

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The path of a route, from the app itself (so form actions are found whatever the URL)."""
        from flask import url_for

        with self.app.test_request_context("/"):
            return url_for(endpoint, **values)

    def db(self, work: Any) -> Any:
        """Run ``work(session)`` in an app context and commit: arrange or check data directly."""
        with self.app.app_context():
            from lms.db import db_session

            result = work(db_session)
            db_session.commit()
            return result


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flask", "--app", "lms", "lms", *args]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    instance = tmp_path_factory.mktemp("e2e-instance")
    database_url = f"sqlite:///{instance / 'lms.sqlite'}"
    # RATELIMIT_ENABLED is Flask-Limiter's own key (not LMS_*), so it goes in the instance config
    # with the rest; the app reads this file exactly as it reads a production instance's.
    (instance / "config.py").write_text(
        "SECRET_KEY = 'e2e-secret-key-not-for-production'\n"
        f"LMS_DATABASE_URL = {database_url!r}\n"
        f"LMS_COURSES_DIR = {str(REPO / 'courses')!r}\n"
        "RATELIMIT_ENABLED = False\n"
        "LMS_MAIL_BACKEND = 'log'\n",
        encoding="utf-8",
    )
    # The outer environment must not point the server at another database (CI exports LMS_*).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LMS_") and key != "SECRET_KEY"
    }
    env.update(
        LMS_INSTANCE_PATH=str(instance),
        SECRET_KEY="e2e-secret-key-not-for-production",
        LMS_DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    run_cli(env, "db", "upgrade")
    run_cli(env, "courses", "sync")

    saved = {
        key: os.environ.pop(key)
        for key in list(os.environ)
        if key.startswith("LMS_") or key == "SECRET_KEY"
    }
    os.environ["LMS_INSTANCE_PATH"] = str(instance)
    try:
        from lms import create_app

        app = create_app()
    finally:
        os.environ.pop("LMS_INSTANCE_PATH", None)
        os.environ.update(saved)
    assert app.config["LMS_DATABASE_URL"] == database_url
    assert app.config["RATELIMIT_ENABLED"] is False

    # E2E_PORT pins the port (a shared machine gives each runner its own range); 0 picks a free one.
    server = make_server("127.0.0.1", int(os.environ.get("E2E_PORT", "0")), app, threaded=True)
    # Links that leave the server (certificate QR codes, mail) come from the configured base URL,
    # as `lms setup --base-url` writes it; the port is known only once the server has one.
    app.config["LMS_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    live = LiveServer(
        url=f"http://127.0.0.1:{server.server_port}", instance=instance, app=app, env=env
    )
    live.create_person("learner-ada", name="Ada Lovelace")
    live.create_person("facilitator-fran", roles=("facilitator",), name="Fran Facilitator")
    live.create_person("admin-ann", roles=("admin",), name="Ann Admin")
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["lms"].database.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); see tests/e2e/README.md"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _new_context(browser: Any, live_server: LiveServer, locale: str) -> Any:
    # The app's CSP stays on: axe is injected with page.evaluate, which CSP does not govern
    # (see tests/e2e/README.md), so these tests also prove the pages work under the real policy.
    context = browser.new_context(
        base_url=live_server.url,
        locale=locale,
        timezone_id="America/Chicago",
        viewport={"width": 1100, "height": 820},
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def context_factory(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """``context_factory(locale="en-US")`` -> a fresh page in its own browser context (own cookies)."""
    opened: list[tuple[Any, Any, list[str]]] = []

    def factory(locale: str = "en-US") -> Any:
        context = _new_context(browser, live_server, locale)
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(
                    f"console {message.type}: {message.text} at {message.location.get('url', '')}"
                )
                if message.type == "error"
                else None
            ),
        )
        opened.append((context, page, problems))
        return page

    yield factory
    failed = getattr(request.node, "report_call", None)
    for index, (context, page, problems) in enumerate(opened):
        if failed is not None and failed.failed:
            SCREENSHOTS.joinpath("failures").mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
            try:
                page.screenshot(
                    path=str(SCREENSHOTS / "failures" / f"{name}-{index}.png"), full_page=True
                )
            except Exception:  # the page may be gone; the failure itself is what matters
                pass
            if problems:
                print(  # noqa: T201 (shown with the failed test's captured output)
                    f"\nBrowser console for {request.node.name} (page {index}):\n  "
                    + "\n  ".join(problems)
                )
        context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.helpers.e2e.pages import AUDITED

    if AUDITED:
        terminalreporter.write_sep("-", f"axe-core (WCAG 2.x A/AA) checked {len(AUDITED)} page(s)")
        for line in AUDITED:
            terminalreporter.write_line(f"  {line}")


@pytest.fixture
def page(context_factory: Any) -> Any:
    return context_factory()
