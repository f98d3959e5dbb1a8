"""The ``flask lms ...`` command group (also the ``lms`` console script).

The CLI is lazy: a command imports the areas' code it uses (accounts, cohorts, the course loader,
the migrations) inside its body, so ``lms --help``, ``flask --help`` and the commands that need
no app (``lms courses check``) do not load the whole engine. What every command shares (the
session, the links, the app's state) is imported here.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from lms.accounts.models import MIN_PASSWORD_LENGTH
from lms.certificates.cli import certificates_group
from lms.credentials.cli import credentials_group
from lms.db import database_state, transaction
from lms.instance import DEFAULT_BASE_URL, ensure_instance_config
from lms.jobs.cli import jobs_group, worker_command
from lms.links import check_base_url
from lms.notifications.cli import mail_group
from lms.records.cli import credits_command
from lms.reports.cli import reports_group
from lms.state import lms_state

lms_group = AppGroup("lms", help="Manage the microcourse engine.")
db_group = AppGroup("db", help="Database schema (Alembic migrations).")
courses_group = AppGroup("courses", help="Course files: check, sync into the database, schema.")
users_group = AppGroup("users", help="People and roles.")
translations_group = AppGroup("translations", help="Message catalogs (wraps pybabel).")
# The areas' groups: each area's command module imports only click and what it shares with the
# other commands; its commands import their code when they run.
reports_group.add_command(credits_command)
for _group in (
    db_group,
    courses_group,
    users_group,
    translations_group,
    certificates_group,
    credentials_group,
    jobs_group,
    worker_command,
    mail_group,
    reports_group,
):
    lms_group.add_command(_group)


def main() -> None:
    """The ``lms`` console script: ``lms courses check`` = ``flask --app lms lms courses check``."""
    # lazy: the app is created only for a command that needs one; and lms.app imports
    # lms.extension, which imports this module to register the group (a cycle at module level)
    from lms.app import create_app

    lms_group.main(obj=ScriptInfo(create_app=lambda: create_app()), prog_name="lms")


# -- set-up -------------------------------------------------------------------------------------


@lms_group.command("setup")
@click.option(
    "--base-url",
    default=None,
    help=f"Where people reach the site: links in mail and certificates start with it (default {DEFAULT_BASE_URL}).",
)
@click.option(
    "--redis-url",
    default=None,
    help="Redis for the job queue (then run `flask lms worker`); without it jobs run in the web process.",
)
def setup_command(base_url: str | None, redis_url: str | None) -> None:
    """First run: instance config (secret key, base URL, trusted hosts), schema, courses, first admin."""
    try:
        base_url = check_base_url(base_url) if base_url else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--base-url") from None
    ensure_instance_config(base_url=base_url, redis_url=redis_url)
    _upgrade()
    _sync_courses(strict=False)
    _create_first_admin()


def _create_first_admin() -> None:
    # lazy: the accounts' services load only when the command runs (see the module's docstring)
    from lms.accounts.services import admins_exist, create_user, generate_password

    if not current_app.config["LMS_CREATE_FIRST_ADMIN"]:
        return
    with transaction():
        if admins_exist():
            return
        password = generate_password()
        user = create_user(
            "admin@example.org", "Administrator", password, is_admin=True, is_facilitator=True
        )
    click.echo("")
    click.echo("An admin account was created. This password is shown only once:")
    click.echo(f"    email:    {user.email}")
    click.echo(f"    password: {password}")
    click.echo("")


# -- database -----------------------------------------------------------------------------------


def _upgrade(revision: str = "head") -> None:
    # lazy: Alembic loads only when the command runs (see the module's docstring)
    from lms import migrations

    migrations.upgrade(database_state().engine, revision)


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Bring the schema up to REVISION (default: the newest)."""
    _upgrade(revision)
    click.echo("Database is up to date.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Step the schema down to REVISION (default: one step)."""
    # lazy: Alembic loads only when the command runs (see the module's docstring)
    from lms import migrations

    migrations.downgrade(database_state().engine, revision)


# -- courses ------------------------------------------------------------------------------------


@courses_group.command("check", with_appcontext=False)
@click.argument("path", required=False, type=click.Path(path_type=Path))
def courses_check(path: Path | None) -> None:
    """Check course files in PATH (a courses folder or one course folder) without touching the database."""
    # lazy: the course loader (pydantic) loads only when the command runs
    from lms.courses.loader import check_courses

    root = path or Path("courses")
    if not root.exists():
        raise click.ClickException(f"{root}: no such folder")
    result = check_courses(root)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for slug in sorted(result.courses):
        click.echo(f"ok  {slug}")
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) in {root}", err=True)
        sys.exit(1)
    if not result.courses:
        click.echo(f"{root}: no course folders (each needs a course.toml)", err=True)
        sys.exit(1)


def _sync_courses(strict: bool = True) -> None:
    with transaction() as session:
        report = lms_state().catalog.sync(session)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    for label, slugs in (
        ("added", report.added),
        ("updated", report.updated),
        ("retired", report.retired),
        ("reactivated", report.reactivated),
    ):
        for slug in slugs:
            click.echo(f"{label:<11} {slug}")
    click.echo(f"{len(report.unchanged)} unchanged, {len(report.problems)} problem(s)")
    if strict and report.problems:
        sys.exit(1)


@courses_group.command("sync")
def courses_sync() -> None:
    """Load course files and bring the course table in line (retires removed courses)."""
    _sync_courses()


@courses_group.command("schema", with_appcontext=False)
def courses_schema() -> None:
    """Print the course file's JSON Schema (for editors)."""
    # lazy: the course schema (pydantic) loads only when the command runs
    from lms.courses.definitions import course_json_schema

    click.echo(json.dumps(course_json_schema(), indent=2, ensure_ascii=False))


# -- users --------------------------------------------------------------------------------------


@users_group.command("create")
@click.option("--email", prompt=True)
@click.option("--name", "display_name", prompt=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["learner", "facilitator", "admin"]),
    default=["learner"],
    show_default=True,
)
@click.option("--password", help="Omit to be asked (or to generate one with --generate-password).")
@click.option("--generate-password", is_flag=True, help="Generate a password and print it once.")
def users_create(
    email: str,
    display_name: str,
    roles: tuple[str, ...],
    password: str | None,
    generate_password: bool,
) -> None:
    """Create a person with the given roles."""
    # lazy: the accounts' services load only when the command runs (see the module's docstring)
    from lms.accounts import services as accounts

    if generate_password:
        password = accounts.generate_password()
    elif not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    try:
        with transaction():
            user = accounts.create_user(
                email,
                display_name,
                password,
                is_facilitator="facilitator" in roles or "admin" in roles,
                is_admin="admin" in roles,
            )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.email} ({', '.join(user.roles)})")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


# -- translations -------------------------------------------------------------------------------

PACKAGE_DIR = Path(__file__).parent


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", *args])


@translations_group.command("extract", with_appcontext=False)
def translations_extract() -> None:
    """Collect every marked string into lms/translations/lms.pot."""
    # From the project's folder, with a relative input: the catalog's locations then read
    # lms/..., the same on every machine (an absolute input writes this machine's paths).
    with contextlib.chdir(PACKAGE_DIR.parent):
        _pybabel(
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "--sort-by-file",
            "--project",
            "lms",
            "-o",
            str(Path(PACKAGE_DIR.name) / "translations" / "lms.pot"),
            PACKAGE_DIR.name,
        )


@translations_group.command("update", with_appcontext=False)
def translations_update() -> None:
    """Merge lms.pot into each language's catalog."""
    _pybabel(
        "update",
        "-i",
        str(PACKAGE_DIR / "translations" / "lms.pot"),
        "-d",
        str(PACKAGE_DIR / "translations"),
        "-D",
        "lms",
        "--no-fuzzy-matching",
        "--ignore-obsolete",  # a message no longer in the code leaves the catalog (git keeps it)
    )


@translations_group.command("compile", with_appcontext=False)
def translations_compile() -> None:
    """Build the .mo files the app reads."""
    _pybabel("compile", "-d", str(PACKAGE_DIR / "translations"), "-D", "lms", "--statistics")


# -- demo ---------------------------------------------------------------------------------------


@lms_group.command("demo")
def demo_command() -> None:
    """Load demo people, two upcoming live cohorts and a few registrations (run after setup)."""
    # lazy: the demo loads the accounts' and cohorts' services (see the module's docstring)
    from lms.demo import load_demo

    with transaction():
        loaded = load_demo()
    if loaded is None:
        click.echo("The demo people exist already; nothing to add.")
        return
    cohorts, created = loaded
    click.echo(f"Demo cohorts: {', '.join(f'#{c.id} {c.title}' for c in cohorts)}")
    click.echo("Demo people (passwords shown once):")
    for email, password in created:
        click.echo(f"    {email:<28} {password}")
