"""``flask lms mail ...``: the scheduler of reminders and digests, and the list of deliveries."""

from __future__ import annotations

import threading

import click
from flask import current_app
from flask.cli import AppGroup

from lms.db import close_session, transaction
from lms.jobs.cli import echo_rows

mail_group = AppGroup(
    "mail", help="Cohort and certificate mail: reminders and digests, deliveries."
)


@mail_group.command("run-due")
def run_due_command() -> None:
    """Queue the reminders and digests due now, once (run it from cron every minute or so).

    Safe with several schedulers at once: each message is a row with a unique key.
    """
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.notifications.schedule import run_due

    with transaction():
        report = run_due()
    click.echo(f"{report.reminders} reminder(s), {report.digests} digest(s) queued")


@mail_group.command("scheduler")
@click.option(
    "--interval",
    type=click.IntRange(5, 3600),
    default=None,
    help="Seconds between runs (default LMS_SCHEDULER_SECONDS).",
)
def scheduler_command(interval: int | None) -> None:
    """Run `run-due` every --interval seconds until stopped (one or more per deployment)."""
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.notifications.schedule import run_due

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    seconds = interval or int(app.config["LMS_SCHEDULER_SECONDS"])
    stop = threading.Event()
    click.echo(f"Looking for due reminders and digests every {seconds} s (Ctrl+C stops)")
    try:
        while not stop.is_set():
            try:
                with transaction():
                    report = run_due()
                if report.reminders or report.digests:
                    click.echo(f"{report.reminders} reminder(s), {report.digests} digest(s) queued")
            except Exception:  # a database hiccup: log it and try again next round
                app.logger.exception("The mail scheduler's run failed")
            finally:
                close_session()
            stop.wait(seconds)
    except KeyboardInterrupt:
        pass


@mail_group.command("deliveries")
@click.option(
    "--status",
    type=click.Choice(["queued", "sent", "failed", "skipped"]),
    help="Only messages in this state.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def deliveries_command(status: str | None, limit: int) -> None:
    """Messages, newest first: id, state, attempts, kind, to, cohort, last error."""
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.notifications.models import DeliveryStatus
    from lms.notifications.services import deliveries  # lazy, as above

    rows, total = deliveries(status=DeliveryStatus(status) if status else None, size=limit)
    echo_rows(
        rows,
        total,
        "message(s)",
        lambda row: [
            f"{row.id:>7}",
            f"{row.status.value:<7}",
            f"{row.attempts}",
            f"{row.kind:<19}",
            row.to_address,
            f"{row.cohort_id or '-'}",
        ],
    )
