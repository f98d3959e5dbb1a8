"""``flask lms reports ...``: the completion report as a file, with the web page's filters, and
the helpers the report commands share (``lms.records.cli`` writes the PD credit export with them).

Only click is imported here; the report code loads when a command runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click
from flask import current_app, g
from flask.cli import AppGroup

reports_group = AppGroup("reports", help="Completion reports as CSV or XLSX files.")

F = Callable[..., Any]


def export_options(command: F) -> F:
    """The options every export command takes: the file, its format, the report page's filters
    that every export shares, the time zone of the dates and the language of the labels."""
    options = (
        click.option(
            "--format",
            "file_format",
            type=click.Choice(["csv", "xlsx"]),
            default="csv",
            show_default=True,
        ),
        click.option(
            "-o",
            "--output",
            required=True,
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
            help="File to write ('-' for standard output, CSV only).",
        ),
        click.option("--course", default="", help="Course slug."),
        click.option("--path", "learning_path", default="", help="live, recording or self_paced."),
        click.option("--cohort", default="", help="Cohort number."),
        click.option(
            "--facilitator",
            default="",
            help="A facilitator's email address or user number: their cohorts' rows.",
        ),
        click.option("--affiliate", default="", help="Affiliate or state (whole value, any case)."),
        click.option(
            "--audience-role",
            default="",
            help="Audience role id, e.g. education-support-professional.",
        ),
        click.option(
            "--certificate-status",
            default="",
            help="valid, revoked, replaced, none or not_available.",
        ),
        click.option(
            "--timezone",
            "time_zone",
            default=None,
            help="Time zone the dates are days in (default: LMS_DEFAULT_TIMEZONE).",
        ),
        click.option(
            "--locale",
            default=None,
            help="Language of the column names and labels (default: LMS_DEFAULT_LOCALE).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def export_filters(options: Mapping[str, str], time_zone: str | None, locale: str | None) -> Any:
    """The filters an export command's ``options`` give and its scope (every row: the command line
    is the office's), after switching the labels to ``locale``. A usage error names the options
    that are wrong."""
    # lazy (these imports): `lms --help` must not load the report code (a command loads it when it runs)
    from lms.reports.filters import CompletionFilters, FilterError
    from lms.reports.queries import ReportScope  # lazy, as above

    if locale:
        if locale not in current_app.config["LMS_LANGUAGES"]:
            raise click.BadParameter(
                f"choose one of {', '.join(current_app.config['LMS_LANGUAGES'])}",
                param_hint="--locale",
            )
        g._lms_locale = locale
    renamed = {"learning_path": "path", "date_from": "from", "date_to": "to"}
    args = {renamed.get(name, name): value for name, value in options.items()}
    try:
        filters = CompletionFilters.parse(
            args, time_zone=time_zone or current_app.config["LMS_DEFAULT_TIMEZONE"]
        )
    except FilterError as error:
        names = {"from": "--from", "to": "--to", "timezone": "--timezone"}
        lines = [
            f"{names.get(name, '--' + name.replace('_', '-'))}: {message}"
            for name, message in error.errors.items()
        ]
        raise click.UsageError("\n".join(lines)) from None
    return filters, ReportScope.everything()


def write_export(
    output: Path,
    file_format: str,
    csv_chunks: Callable[[], Iterable[bytes]],
    write_file: Callable[[str, str], int | None],
) -> None:
    """Write an export to ``output``: CSV chunks to standard output for ``-``, else
    ``write_file(path, file_format)`` (which returns the number of rows, or None if it does not
    count them) at a temporary name beside the output, renamed when complete."""
    # lazy: `lms --help` must not load the report code (a command loads it when it runs)
    from lms.reports.files import remove_quietly

    if str(output) == "-":
        if file_format != "csv":
            raise click.BadParameter("XLSX needs a file name", param_hint="-o")
        for chunk in csv_chunks():
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    # Written beside the output and renamed when complete: a failed export never leaves half a file.
    partial = output.with_name(output.name + ".partial")
    try:
        rows = write_file(str(partial), file_format)
        partial.replace(output)
    finally:
        remove_quietly(str(partial))
    click.echo(f"Wrote {output}" if rows is None else f"Wrote {rows} row(s) to {output}", err=True)


@reports_group.command("completions")
@export_options
@click.option(
    "--status", default="", help="registered, waitlisted, in_progress, completed or withdrawn."
)
@click.option(
    "--dates",
    default="completed",
    type=click.Choice(["completed", "enrolled"]),
    show_default=True,
    help="Which date --from/--to apply to.",
)
@click.option("--from", "date_from", default="", help="First day, YYYY-MM-DD (included).")
@click.option("--to", "date_to", default="", help="Last day, YYYY-MM-DD (included).")
@click.option(
    "--jobs",
    type=click.IntRange(min=1, max=32),
    default=None,
    help="Processes writing a CSV file at once (default: the number of CPUs, at most 4).",
)
def completions(
    file_format: str,
    output: Path,
    time_zone: str | None,
    locale: str | None,
    jobs: int | None,
    **options: str,
) -> None:
    """Write the completion report (one row per enrollment) to a file."""
    # lazy: `lms --help` must not load the report code (a command loads it when it runs)
    from lms.reports import services

    filters, scope = export_filters(options, time_zone, locale)

    def write_file(path: str, file_format: str) -> int:
        if file_format == "csv":
            return services.completion_csv_file(
                filters, scope, path, jobs or min(os.cpu_count() or 1, 4)
            )
        return services.completion_xlsx(filters, scope, path)

    write_export(output, file_format, lambda: services.completion_csv(filters, scope), write_file)
