"""The demo data ``flask lms demo`` loads: four people (a facilitator and three learners), two
upcoming live cohorts and three registrations, the third of them waitlisted.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from lms.accounts.services import create_user, find_user_by_email, generate_password
from lms.cohorts.clock import local_to_utc
from lms.cohorts.models import Cohort
from lms.cohorts.registration import register
from lms.cohorts.scheduling import CohortData, create_cohort

DEMO_PEOPLE = (
    # email, name, role, locale, time zone, audience role
    (
        "facilitator@example.org",
        "Dana Facilitator",
        "facilitator",
        "en",
        "America/New_York",
        "teacher",
    ),
    (
        "ana@example.org",
        "Ana Gómez",
        "learner",
        "es",
        "America/Chicago",
        "education-support-professional",
    ),
    (
        "ben@example.org",
        "Ben Okafor",
        "learner",
        "en",
        "America/Chicago",
        "education-support-professional",
    ),
    ("chloe@example.org", "Chloé Martin", "learner", "en", "America/Los_Angeles", "teacher"),
)


def load_demo() -> tuple[list[Cohort], list[tuple[str, str]]] | None:
    """Add the demo people, cohorts and registrations (the caller commits); the cohorts and each
    new person's address and password, or None when the demo people exist already."""
    created: list[tuple[str, str]] = []
    people = {}
    for email, name, role, locale, zone, audience in DEMO_PEOPLE:
        user = find_user_by_email(email)
        if user is None:
            password = generate_password()
            user = create_user(
                email,
                name,
                password,
                is_facilitator=role == "facilitator",
                locale=locale,
                time_zone=zone,
                audience_role=audience,
                affiliate="Demo State",
            )
            created.append((email, password))
        people[email] = user
    if not created:
        return None
    facilitator = people["facilitator@example.org"]
    next_week = datetime.now().date() + timedelta(days=7)
    cohorts = [
        create_cohort(
            facilitator,
            CohortData(
                course_slug="esp-racial-justice-dialogue",
                title="Evening dialogue",
                time_zone="America/New_York",
                starts_at=local_to_utc(next_week, time(17, 0), "America/New_York"),
                minutes=60,
                capacity=2,
                join_url="https://meet.example.org/esp-dialogue",
                location="Online",
            ),
        ),
        create_cohort(
            facilitator,
            CohortData(
                course_slug="social-justice-training",
                title="Spring training",
                time_zone="America/Chicago",
                starts_at=local_to_utc(
                    next_week + timedelta(days=7), time(10, 0), "America/Chicago"
                ),
                minutes=90,
                capacity=25,
                location="Union hall, room 2",
            ),
        ),
    ]
    for email in ("ana@example.org", "ben@example.org", "chloe@example.org"):
        register(people[email], cohorts[0])  # capacity 2: the third is waitlisted
    return cohorts, created
