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

__all__ = [
    "AuditEvent", "Attendance", "Base", "Certificate", "Cohort", "CohortFacilitator", "Course", "Credential", "CredentialKey",
    "Enrollment", "Job", "Reflection", "SignIn", "StatusList", "StepProgress", "User",
]
