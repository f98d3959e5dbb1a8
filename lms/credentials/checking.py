"""Checking an Open Badges credential someone pasted or uploaded (the credentials' check page):
its proof against the keys this site published, whether it is this site's and still valid,
and whether it belongs to an email address the person gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.credentials import proofs
from lms.credentials.keys import published_keys
from lms.credentials.models import Credential
from lms.credentials.services import identity_hash, issuer_did, loader, verification_method_id
from lms.db import db_session
from lms.i18n import _


@dataclass
class CredentialCheck:
    """What checking a credential found. ``state``: ``valid``, ``revoked``, ``replaced``,
    ``tampered`` (signed by us but changed since), ``not_ours``, ``unreadable``, ``unknown``
    (signed by us, but the certificate is gone: an account deleted)."""

    state: str
    message: str = ""
    document: dict[str, Any] = field(default_factory=dict)
    certificate: Certificate | None = None
    email_matches: bool | None = None

    @property
    def signature_ok(self) -> bool:
        return self.state in ("valid", "revoked", "replaced", "unknown")

    def facts(self) -> dict[str, Any]:
        subject = self.document.get("credentialSubject") or {}
        achievement = subject.get("achievement") or {}
        evidence = self.document.get("evidence") or [{}]
        issuer = self.document.get("issuer") or {}
        return {
            "course": achievement.get("name", ""),
            "hours": achievement.get("creditsAvailable"),
            "issuer": issuer.get("name", "") if isinstance(issuer, dict) else "",
            "valid_from": self.document.get("validFrom", ""),
            "evidence": evidence[0].get("narrative", "")
            if isinstance(evidence, list) and evidence and isinstance(evidence[0], dict)
            else "",
        }


def _public_key_for(did: str) -> Any:
    keys = {verification_method_id(key, did): key.public_key_multibase for key in published_keys()}

    def lookup(method: str) -> Ed25519PublicKey | None:
        multibase = keys.get(method)
        return proofs.public_key_from_multibase(multibase) if multibase else None

    return lookup


def check_credential(text: str, email: str = "") -> CredentialCheck:
    try:
        document = json.loads(text)
    except ValueError:
        return CredentialCheck(
            "unreadable", _("This is not a credential file: it is not valid JSON.")
        )
    types = document.get("type") if isinstance(document, dict) else None
    if not isinstance(types, list) or "OpenBadgeCredential" not in types:
        return CredentialCheck("unreadable", _("This is not an Open Badges credential."))
    did = issuer_did()
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != did:
        return CredentialCheck(
            "not_ours",
            _(
                "This credential was not issued by this site, so it cannot be checked here. "
                "Use a verifier that supports Open Badges 3.0."
            ),
            document,
        )
    try:
        result = proofs.verify(document, _public_key_for(did), loader())
    except proofs.ProofError:
        result = proofs.ProofCheck(False, problem="unreadable")
    if not result.verified:
        return CredentialCheck(
            "tampered",
            _(
                "The signature does not match: this file was changed after it was issued, or "
                "it was not signed by us. Do not trust what it says."
            ),
            document,
        )
    credential_id = str(document.get("id", "")).removeprefix("urn:uuid:")
    row = db_session.scalar(select(Credential).where(Credential.uuid == credential_id))
    check = CredentialCheck(
        "unknown",
        _("The signature is ours, but we no longer hold the certificate it belongs to."),
        document,
    )
    if row is not None:
        certificate = row.certificate
        check.certificate = certificate
        if certificate.revoked_at is None:
            check.state, check.message = (
                "valid",
                _("The signature is ours and the credential is valid."),
            )
        elif certificate.replaced_by_id is not None:
            check.state, check.message = (
                "replaced",
                _("The signature is ours, but this credential was replaced by a newer one."),
            )
        else:
            check.state, check.message = (
                "revoked",
                _("The signature is ours, but this credential was revoked and is no longer valid."),
            )
    if email.strip():
        subject = document.get("credentialSubject")
        identities = subject.get("identifier") if isinstance(subject, dict) else None
        check.email_matches = isinstance(identities, list) and any(
            isinstance(identity, dict)
            and identity.get("identityHash") == identity_hash(email, str(identity.get("salt", "")))
            for identity in identities
        )
    return check
