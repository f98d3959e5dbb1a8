"""Mail pages: a person's mail settings, one-click unsubscribe, a cohort's mail (reminders, a
message to the roster, what was sent) and the admins' list of deliveries."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from lms.cohorts.services import course_title
from lms.db import parse_id
from lms.forms import ActionForm
from lms.i18n import _, current_locale
from lms.notifications import links, services
from lms.notifications.forms import ReminderForm, RosterMessageForm, SettingsForm, reminder_label
from lms.notifications.models import DeliveryStatus
from lms.routing import AreaBlueprint
from lms.web.guards import managed_cohort_or_404, roles_required

blueprint = AreaBlueprint("lms_notifications", __name__)

services.connect_signals()


@blueprint.record_once
def _exempt_one_click(state: Any) -> None:
    # A mail client posts the one-click unsubscribe (RFC 8058) with no session and no CSRF token:
    # the signed token in the address is what authorises it. Only that POST is exempt.
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(f"{__name__}.unsubscribe_one_click")


KIND_LABELS = {
    "confirmed": lambda: _("Registration confirmed"),
    "waitlisted": lambda: _("Waitlisted"),
    "promoted": lambda: _("Seat from the waitlist"),
    "changed": lambda: _("Session changed"),
    "cancelled": lambda: _("Session cancelled"),
    "withdrawn": lambda: _("Withdrawal"),
    "reminder": lambda: _("Reminder"),
    "message": lambda: _("Facilitator's message"),
    "certificate_issued": lambda: _("Certificate ready"),
    "certificate_revoked": lambda: _("Certificate revoked"),
    "digest": lambda: _("Daily digest"),
}
STATUS_LABELS = {
    DeliveryStatus.queued: lambda: _("Queued"),
    DeliveryStatus.sent: lambda: _("Sent"),
    DeliveryStatus.failed: lambda: _("Failed"),
    DeliveryStatus.skipped: lambda: _("Not needed"),
}


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return label() if label else kind


def status_label(status: DeliveryStatus | None) -> str:
    if status is None:
        return _("Not sent")
    return STATUS_LABELS[status]()


@blueprint.app_context_processor
def _mail_helpers() -> dict[str, Any]:
    return {
        "lms_mail_confirmations": services.confirmation_states,
        "lms_mail_status_label": status_label,
    }


# -- a person's settings ------------------------------------------------------------------------


@blueprint.route("/me/mail", methods=["GET", "POST"])
@login_required
def settings():
    current = services.preference(current_user.id)
    form = SettingsForm(data={"reminders": current.reminders, "digest": current.digest})
    if form.validate_on_submit():
        choices = {"reminders": form.reminders.data}
        if current_user.can_facilitate:
            choices["digest"] = form.digest.data
        services.set_preference(current_user.id, **choices)
        flash(_("Mail settings saved."), "success")
        return redirect(url_for("lms_notifications.settings"), code=303)
    return render_template(
        "lms/notifications/settings.html", form=form
    ), 422 if form.errors else 200


# -- one-click unsubscribe (RFC 8058) -------------------------------------------------------------


def _setting_label(setting: str) -> str:
    return _("reminders before live sessions") if setting == "reminders" else _("the daily digest")


@blueprint.get("/mail/unsubscribe/<token>")
def unsubscribe(token: str):
    found = links.read_unsubscribe_token(token)
    if found is None:
        return render_template("lms/notifications/unsubscribe_invalid.html"), 400
    user, setting = found
    return render_template(
        "lms/notifications/unsubscribe.html",
        token=token,
        setting=_setting_label(setting),
        done=False,
    )


@blueprint.post("/mail/unsubscribe/<token>")
def unsubscribe_one_click(token: str):
    found = links.read_unsubscribe_token(token)
    if found is None:
        return render_template("lms/notifications/unsubscribe_invalid.html"), 400
    user, setting = found
    services.set_preference(user.id, **{setting: False})
    return render_template(
        "lms/notifications/unsubscribe.html",
        token=token,
        setting=_setting_label(setting),
        done=True,
    )


# -- a cohort's mail (its facilitators and admins) ----------------------------------------------------


def _render_cohort_mail(
    cohort: Any, reminder_form: Any = None, message_form: Any = None, status: int = 200
):
    settings_row = services.cohort_mail(cohort.id)
    uses_default = settings_row is None or settings_row.reminder_minutes is None
    if reminder_form is None:
        reminder_form = ReminderForm(
            formdata=None,
            data={"use_default": uses_default, "minutes": services.reminder_minutes(cohort.id)},
        )
    rows, total = services.deliveries(cohort_id=cohort.id, size=200)
    return render_template(
        "lms/notifications/cohort_mail.html",
        cohort=cohort,
        course_title=course_title(cohort, current_locale()),
        reminder_form=reminder_form,
        message_form=message_form or RosterMessageForm(formdata=None),
        defaults=[reminder_label(m) for m in services.default_reminder_minutes()],
        current=[reminder_label(m) for m in services.reminder_minutes(cohort.id)],
        deliveries=rows,
        total=total,
        kind_label=kind_label,
        status_label=status_label,
    ), status


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/mail")
@roles_required("facilitator")
def cohort_mail(cohort_id: int):
    return _render_cohort_mail(managed_cohort_or_404(cohort_id))


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/mail/reminders")
@roles_required("facilitator")
def cohort_reminders(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    form = ReminderForm()
    if not form.validate_on_submit():
        return _render_cohort_mail(cohort, reminder_form=form, status=422)
    try:
        services.set_reminder_minutes(
            current_user, cohort, None if form.use_default.data else list(form.minutes.data or [])
        )
    except services.NotificationError as error:
        form.minutes.errors = [str(error)]
        return _render_cohort_mail(cohort, reminder_form=form, status=422)
    flash(_("Reminders saved."), "success")
    return redirect(url_for("lms_notifications.cohort_mail", cohort_id=cohort.id), code=303)


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/mail/message")
@roles_required("facilitator")
def cohort_message(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    form = RosterMessageForm()
    if not form.validate_on_submit():
        return _render_cohort_mail(cohort, message_form=form, status=422)
    try:
        message = services.send_roster_message(
            current_user, cohort, form.audience.data, form.subject.data, form.body.data
        )
    except services.NotificationError as error:
        target = form[error.field] if error.field and error.field in form else None
        if target is not None:
            target.errors = [*target.errors, str(error)]
        else:
            flash(str(error), "error")
        return _render_cohort_mail(cohort, message_form=form, status=422)
    flash(_("Your message is on its way to %(num)s people.", num=message.recipients), "success")
    return redirect(url_for("lms_notifications.cohort_mail", cohort_id=cohort.id), code=303)


# -- admins: every delivery -------------------------------------------------------------------------


@blueprint.get("/admin/mail")
@roles_required("admin")
def admin_deliveries():
    raw = request.args.get("status", "")
    status = DeliveryStatus(raw) if raw in DeliveryStatus._value2member_map_ else None
    page = parse_id(request.args.get("page")) or 1
    size = int(current_app.config["LMS_PAGE_SIZE"])
    rows, total = services.deliveries(status=status, page=page, size=size)
    return render_template(
        "lms/notifications/admin_deliveries.html",
        deliveries=rows,
        total=total,
        page=page,
        size=size,
        status=raw if status else "",
        statuses=list(DeliveryStatus),
        kind_label=kind_label,
        status_label=status_label,
        action_form=ActionForm(formdata=None),
    )


@blueprint.post("/admin/mail/<lms_id:delivery_id>/retry")
@roles_required("admin")
def retry_delivery(delivery_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.retry_delivery(current_user, delivery_id) is None:
        flash(_("Only a failed message can be sent again."), "error")
    else:
        flash(_("The message is queued again."), "success")
    return redirect(url_for("lms_notifications.admin_deliveries", status="failed"), code=303)
