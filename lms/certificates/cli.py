"""``flask lms certificates ...``: issue certificates from the command line (one transaction)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.db import db_session, transaction

certificates_group = AppGroup(
    "certificates", help="Certificates of completion (live sessions only)."
)


@certificates_group.command("issue")
@click.option(
    "--cohort", "cohort_id", type=int, help="Issue to everyone in this cohort who completed."
)
@click.option("--enrollment", "enrollment_id", type=int, help="Issue to one enrollment.")
@click.option(
    "--by", "actor_email", help="Email of the facilitator or admin recorded as issuer (audit log)."
)
def issue_command(
    cohort_id: int | None, enrollment_id: int | None, actor_email: str | None
) -> None:
    """Issue certificates; idempotent (people who have one keep it). Recordings never get one."""
    # lazy (these imports): a command loads its area's code when it runs, not for `lms --help`
    from lms.accounts.services import find_user_by_email
    from lms.certificates.eligibility import CertificateError  # lazy, as above
    from lms.certificates.services import issue_certificate, issue_for_cohort  # lazy, as above

    # lazy, as the import above
    from lms.cohorts.models import Cohort
    from lms.learning.models import Enrollment  # lazy, as above

    if (cohort_id is None) == (enrollment_id is None):
        raise click.UsageError("Give --cohort ID or --enrollment ID.")
    try:
        with transaction():
            actor = None
            if actor_email:
                actor = find_user_by_email(actor_email)
                if actor is None or not actor.can_facilitate:
                    raise click.ClickException(
                        f"{actor_email}: no facilitator or admin with this email"
                    )
            if enrollment_id is not None:
                enrollment = db_session.get(Enrollment, enrollment_id)
                if enrollment is None:
                    raise click.ClickException(f"enrollment {enrollment_id} does not exist")
                result = issue_certificate(enrollment, actor)
                certificate = result.certificate
                state = "issued" if result.created else "exists"
                click.echo(f"{state}  {certificate.code}  {certificate.learner_name}")
                return
            cohort = db_session.get(Cohort, cohort_id)
            if cohort is None:
                raise click.ClickException(f"cohort {cohort_id} does not exist")
            report = issue_for_cohort(cohort, actor)
            for certificate in report.issued:
                click.echo(f"issued  {certificate.code}  {certificate.learner_name}")
            for certificate in report.existing:
                click.echo(f"exists  {certificate.code}  {certificate.learner_name}")
            for enrollment, reason in report.not_eligible:
                click.echo(f"skipped {enrollment.user.email}: {reason}", err=True)
            click.echo(
                f"{len(report.issued)} issued, {len(report.existing)} already issued,"
                f" {len(report.not_eligible)} not eligible"
            )
    except CertificateError as error:
        raise click.ClickException(str(error)) from None
