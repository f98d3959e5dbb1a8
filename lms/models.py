"""Imports every model so the metadata is complete (for Alembic and for tests)."""

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.db import Base
from lms.learning.models import Enrollment, Reflection, StepProgress
from lms.records.models import EvaluationAnswer, EvaluationSubmission, Transcript
from lms.stamps import Stamp

__all__ = [
    "AuditEvent", "Attendance", "Base", "Certificate", "Cohort", "CohortFacilitator", "Course",
    "Enrollment", "EvaluationAnswer", "EvaluationSubmission", "Reflection", "Stamp", "StepProgress", "Transcript", "User",
]
