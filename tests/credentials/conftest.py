"""Fixtures for the credential tests: a certificate issued through the routes, the Node verifier."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cohorts import client_for, completed_enrollment

VERIFIER = Path(__file__).with_name("verifier")


def ensure_verifier() -> Path:
    """Install the verifier's npm packages (package-lock.json) if they are missing; skip the
    test only when Node.js or npm are not on this machine."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(
            "Node.js and npm are needed for the independent verifier (tests/credentials/verifier)"
        )
    if not (VERIFIER / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=VERIFIER,
            check=True,
            timeout=600,
        )
    return Path(node)


@pytest.fixture(scope="session")
def node_verify():
    """``node_verify(credential, documents)`` -> the verifier's verdict (a dict)."""
    node = ensure_verifier()

    def run(credential: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
        completed = subprocess.run(
            [str(node), "verify.mjs"],
            cwd=VERIFIER,
            input=json.dumps({"credential": credential, "documents": documents}),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)

    return run


@pytest.fixture
def issued(app, make_user):
    """A learner with a certificate issued through the facilitator's roster button; the jobs
    (signing) have run. Returns a namespace of the people, clients and the certificate code."""
    from sqlalchemy import select

    from lms.certificates.models import Certificate
    from lms.db import db_session
    from lms.jobs import wait_for_jobs

    def issue(**learner: Any) -> Any:
        facilitator = make_user("facilitator", display_name="Fran Facilitator")
        person = make_user(**{"display_name": "Ana Learner", **learner})
        cohort_id, enrollment_id = completed_enrollment(app, facilitator, person)
        staff = client_for(app, facilitator)
        response = staff.post(
            f"/facilitate/cohorts/{cohort_id}/certificates/issue",
            data={"enrollment_id": enrollment_id},
        )
        assert response.status_code == 303
        wait_for_jobs(app)
        with app.app_context():
            code = db_session.scalar(
                select(Certificate.code).where(
                    Certificate.enrollment_id == enrollment_id, Certificate.revoked_at.is_(None)
                )
            )
        assert code
        return type(
            "Issued",
            (),
            {
                "learner": person,
                "facilitator": facilitator,
                "client": client_for(app, person),
                "code": code,
                "cohort_id": cohort_id,
                "enrollment_id": enrollment_id,
            },
        )

    return issue
