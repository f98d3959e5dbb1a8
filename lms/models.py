"""Imports every model so the metadata is complete (for Alembic and for tests)."""

from lms.accounts.models import SignIn, User
from lms.audit.models import AuditEvent
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.credentials.models import Credential, CredentialKey, StatusList
from lms.db import Base
from lms.jobs.models import Job
from lms.learning.models import Enrollment, Reflection, StepProgress
from lms.notifications.models import CohortMail, CohortMessage, MailDelivery, MailPreference
from lms.records.models import EvaluationAnswer, EvaluationSubmission, Transcript

__all__ = [
    "AuditEvent",
    "Attendance",
    "Base",
    "Certificate",
    "Cohort",
    "CohortFacilitator",
    "CohortMail",
    "CohortMessage",
    "Course",
    "Credential",
    "CredentialKey",
    "Enrollment",
    "EvaluationAnswer",
    "EvaluationSubmission",
    "Job",
    "MailDelivery",
    "MailPreference",
    "Reflection",
    "SignIn",
    "StatusList",
    "StepProgress",
    "Transcript",
    "User",
]
