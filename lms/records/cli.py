"""``flask lms reports credits``: the office's PD credit export as a file (lms.records.credits).

Only click is imported here; the export code loads when the command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext


@click.command("credits")
@click.option(
    "--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="File to write ('-' for standard output, CSV only).",
)
@click.option("--course", default="", help="Course slug.")
@click.option("--path", "learning_path", default="", help="live, recording or self_paced.")
@click.option("--cohort", default="", help="Cohort number.")
@click.option(
    "--facilitator",
    default="",
    help="A facilitator's email address or user number: their cohorts' rows.",
)
@click.option(
    "--from", "date_from", default="", help="First completion day, YYYY-MM-DD (included)."
)
@click.option("--to", "date_to", default="", help="Last completion day, YYYY-MM-DD (included).")
@click.option("--affiliate", default="", help="Affiliate or state (whole value, any case).")
@click.option(
    "--audience-role", default="", help="Audience role id, e.g. education-support-professional."
)
@click.option(
    "--certificate-status", default="", help="valid, revoked, replaced, none or not_available."
)
@click.option(
    "--timezone",
    "time_zone",
    default=None,
    help="Time zone the dates are days in (default: LMS_DEFAULT_TIMEZONE).",
)
@click.option(
    "--locale",
    default=None,
    help="Language of the column names and labels (default: LMS_DEFAULT_LOCALE).",
)
@with_appcontext
def credits_command(
    file_format: str,
    output: Path,
    learning_path: str,
    date_from: str,
    date_to: str,
    time_zone: str | None,
    locale: str | None,
    **options: str,
) -> None:
    """Write PD credit for a period: one row per person per completed activity."""
    from flask import current_app, g

    from lms.records import credits
    from lms.reports import exports
    from lms.reports.filters import CompletionFilters, FilterError
    from lms.reports.queries import ReportScope

    if locale:
        if locale not in current_app.config["LMS_LANGUAGES"]:
            raise click.BadParameter(
                f"choose one of {', '.join(current_app.config['LMS_LANGUAGES'])}",
                param_hint="--locale",
            )
        g._lms_locale = locale
    args = {
        **options,
        "path": learning_path,
        "from": date_from,
        "to": date_to,
        "dates": "completed",
    }
    try:
        filters = CompletionFilters.parse(
            args, time_zone=time_zone or current_app.config["LMS_DEFAULT_TIMEZONE"]
        )
    except FilterError as error:
        names = {"from": "--from", "to": "--to", "timezone": "--timezone"}
        raise click.UsageError(
            "\n".join(
                f"{names.get(name, '--' + name.replace('_', '-'))}: {message}"
                for name, message in error.errors.items()
            )
        ) from None
    scope = ReportScope.everything()
    if str(output) == "-":
        if file_format != "csv":
            raise click.BadParameter("XLSX needs a file name", param_hint="-o")
        for chunk in credits.credit_csv(filters, scope):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        if file_format == "csv":
            with open(partial, "wb") as handle:
                for chunk in credits.credit_csv(filters, scope):
                    handle.write(chunk)
        else:
            credits.credit_xlsx(filters, scope, str(partial))
        partial.replace(output)
    finally:
        exports.remove_quietly(str(partial))
    click.echo(f"Wrote {output}", err=True)
