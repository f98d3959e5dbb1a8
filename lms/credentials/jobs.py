"""Jobs of the credentials area: signing runs after the issuing transaction has committed."""

from __future__ import annotations

from typing import Any

from lms.credentials import services
from lms.credentials.models import Credential
from lms.db import db_session
from lms.jobs import job


@job(max_attempts=5)
def sign_credential(credential_id: int) -> dict[str, Any] | None:
    """Sign a certificate's credential (idempotent: a signed one is left as it is)."""
    credential = db_session.get(Credential, credential_id)
    if credential is None:  # the certificate was deleted with its account since
        return None
    return {"signed": services.sign(credential)}


@job(max_attempts=5)
def publish_status_list(list_number: int) -> dict[str, Any]:
    """Publish status list ``list_number`` again, after a revocation or a replacement."""
    row = services.publish_status_list(list_number)
    return {"list": row.id}
