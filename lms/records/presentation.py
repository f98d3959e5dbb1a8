"""Labels for credit and transcripts, in the current locale: one wording everywhere."""

from __future__ import annotations

from flask_babel import format_decimal

from lms.courses.credit import CREDIT_TYPES, CreditRule, credit_for
from lms.i18n import N_, _, ngettext

# The recording's wording wherever credit is shown (course page, transcript, PDF, exports).
RECORDING_NO_CREDIT = N_("Informational and ungraded: no credit")
NO_CREDIT = N_("No credit")


def amount_text(credit_type: str, amount: float) -> str:
    """ "1 clock hour", "2.5 clock hours", "0.1 CEU"."""
    number = format_decimal(amount)
    count = 1 if amount == 1 else 2
    if credit_type == "clock_hours":
        return ngettext("%(amount)s clock hour", "%(amount)s clock hours", count, amount=number)
    if credit_type == "ceu":
        return ngettext("%(amount)s CEU", "%(amount)s CEUs", count, amount=number)
    kind = CREDIT_TYPES.get(credit_type)
    return f"{number} {kind.label if kind else credit_type}"


def credit_text(credit_type: str | None, amount: float, path: str) -> str:
    """What one completion on ``path`` earned, in words."""
    if path == "recording":
        return _(RECORDING_NO_CREDIT)
    if credit_type is None or amount <= 0:
        return _(NO_CREDIT)
    return amount_text(credit_type, amount)


def course_credit_text(rule: CreditRule | None, path: str) -> str:
    """The course page's line for one path; empty when the course declares no credit."""
    if rule is None and path != "recording":
        return ""
    credit = credit_for(rule, path)
    return credit_text(credit.type if credit else None, credit.amount if credit else 0.0, path)


def credit_type_name(credit_type: str) -> str:
    if credit_type == "clock_hours":
        return _("Clock hours")
    if credit_type == "ceu":
        return _("CEUs")
    kind = CREDIT_TYPES.get(credit_type)
    return kind.label if kind else credit_type


CERTIFICATE_STATUS_LABELS = {
    "valid": lambda: _("Valid"),
    "revoked": lambda: _("Revoked"),
    "replaced": lambda: _("Replaced"),
    "none": lambda: _("None"),
    "not_available": lambda: _("Not available for recordings"),
}


def certificate_status_label(status: str) -> str:
    label = CERTIFICATE_STATUS_LABELS.get(status)
    return label() if label else status
