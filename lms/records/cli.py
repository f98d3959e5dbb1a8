"""``flask lms reports credits``: the office's PD credit export as a file (lms.records.credits).

Only click is imported here; the export code loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.reports.cli import export_filters, export_options, write_export


@click.command("credits")
@export_options
@click.option(
    "--from", "date_from", default="", help="First completion day, YYYY-MM-DD (included)."
)
@click.option("--to", "date_to", default="", help="Last completion day, YYYY-MM-DD (included).")
@with_appcontext
def credits_command(
    file_format: str, output: Path, time_zone: str | None, locale: str | None, **options: str
) -> None:
    """Write PD credit for a period: one row per person per completed activity."""
    # lazy: `lms --help` must not load the export code (a command loads it when it runs)
    from lms.records import credits

    filters, scope = export_filters({**options, "dates": "completed"}, time_zone, locale)

    def write_file(path: str, file_format: str) -> None:
        if file_format == "csv":
            with open(path, "wb") as handle:
                for chunk in credits.credit_csv(filters, scope):
                    handle.write(chunk)
        else:
            credits.credit_xlsx(filters, scope, path)

    write_export(output, file_format, lambda: credits.credit_csv(filters, scope), write_file)
