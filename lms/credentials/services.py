"""Open Badges 3.0 credentials for certificates: made, signed, published, revoked, checked.

- A certificate's issue makes its :class:`Credential` row in the same transaction (the
  ``certificate_issued`` signal) and asks for the ``sign_credential`` job after commit; a
  recording never has a certificate, so never a credential (:func:`ensure_credential` refuses
  one on any other path all the same).
- Revoking or replacing a certificate (``certificate_revoked``) asks for its status list to be
  published again: a W3C Bitstring Status List credential, signed, that verifiers read.
- The issuer is ``did:web`` at ``/credentials/issuer/did.json`` under the mount point, built
  from ``LMS_BASE_URL`` (never the request's Host); its DID document lists every key the engine
  ever signed with (:mod:`lms.credentials.keys`).
- The subject is an ``IdentityObject``: the SHA-256 of the learner's email address and a salt
  of this credential, so the file names nobody to someone who does not already know the address.
- Checking a credential someone pasted or uploaded: ``lms.credentials.checking``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from flask_babel import force_locale, format_date, format_decimal
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.certificates.eligibility import RecordingNotCertifiedError
from lms.certificates.models import Certificate
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.cohorts.locking import lock_row
from lms.cohorts.models import Cohort
from lms.credentials import proofs
from lms.credentials.keys import published_keys, signing_key
from lms.credentials.models import Credential, CredentialKey, StatusList
from lms.db import db_session, utcnow
from lms.i18n import _
from lms.jobs import enqueue
from lms.learning.models import LearningPath
from lms.links import base_url, external_url
from lms.state import lms_state

# An odd multiplier permutes 0..STATUS_LIST_SIZE-1 (a power of two): indexes do not reveal the
# order credentials were issued in, and no counter row is needed to hand them out.
_INDEX_MULTIPLIER = 48_271


# -- identifiers --------------------------------------------------------------------------------


def issuer_did() -> str:
    """``did:web:<host>[%3A<port>]:<path>`` of the DID document's URL (did:web's own mapping)."""
    parts = urlsplit(external_url("lms_credentials.did_document"))
    host = parts.hostname or ""
    if parts.port:
        host += f"%3A{parts.port}"
    path = parts.path.removesuffix("/did.json")
    return ":".join(
        ["did:web", host, *(quote(segment, safe="") for segment in path.split("/") if segment)]
    )


def verification_method_id(key: CredentialKey, did: str | None = None) -> str:
    return f"{did or issuer_did()}#{key.public_key_multibase}"


def status_list_url(list_number: int) -> str:
    return external_url("lms_credentials.status_list", list_number=list_number)


def status_entry_for(certificate_id: int) -> tuple[int, int]:
    """(list number, index) of a certificate's credential: a bijection of the certificate's id."""
    position = certificate_id - 1
    size = proofs.STATUS_LIST_SIZE
    return position // size + 1, (position % size) * _INDEX_MULTIPLIER % size


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash of an email address: ``sha256$`` + hex of SHA-256(address + salt)."""
    normalised = email.strip().lower()
    return "sha256$" + hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()


def loader() -> proofs.Loader:
    return proofs.document_loader()


# -- making the row (in the issuing transaction) ------------------------------------------------


def credential_of(certificate: Certificate) -> Credential | None:
    return db_session.scalar(select(Credential).where(Credential.certificate_id == certificate.id))


def ensure_credential(certificate: Certificate) -> Credential:
    """The certificate's credential row, made now (and its signing asked for) if it has none."""
    if certificate.enrollment.path is not LearningPath.live:
        raise RecordingNotCertifiedError()
    existing = credential_of(certificate)
    if existing is not None:
        return existing
    list_number, index = status_entry_for(certificate.id)
    row = Credential(
        certificate_id=certificate.id,
        uuid=str(uuid.uuid4()),
        salt=secrets.token_hex(16),
        status_list=list_number,
        status_index=index,
        created_at=utcnow(),
        document="",
    )
    try:
        with db_session.begin_nested():
            db_session.add(row)
    except IntegrityError:
        existing = credential_of(certificate)
        if existing is None:
            raise
        return existing  # another request made it first
    # cycle: lms.credentials.jobs runs these services (sign, publish_status_list) and imports
    # them at module level; the services reach the job functions only to enqueue them
    from lms.credentials.jobs import sign_credential

    enqueue(sign_credential, row.id)
    return row


def on_certificate_issued(sender: Any, certificate: Certificate, **extra: Any) -> None:
    ensure_credential(certificate)


def on_certificate_revoked(sender: Any, certificate: Certificate, **extra: Any) -> None:
    credential = credential_of(certificate)
    if credential is None:
        return
    # cycle: lms.credentials.jobs runs these services (sign, publish_status_list) and imports
    # them at module level; the services reach the job functions only to enqueue them
    from lms.credentials.jobs import publish_status_list

    enqueue(publish_status_list, credential.status_list)


def connect_signals(app: Any) -> None:
    """Listen to ``app``'s certificate signals (called when the blueprint is registered on it)."""
    certificate_issued.connect(on_certificate_issued, sender=app, weak=False)
    certificate_revoked.connect(on_certificate_revoked, sender=app, weak=False)


# -- the documents --------------------------------------------------------------------------------


def issuer_profile(did: str | None = None) -> dict[str, Any]:
    return {
        "id": did or issuer_did(),
        "type": ["Profile"],
        "name": str(current_app.config["LMS_ORGANISATION"]),
        "url": base_url() + "/",
    }


def _outcomes(certificate: Certificate) -> tuple[list[str], Any]:
    loaded = lms_state().catalog.get(certificate.enrollment.course.slug)
    if loaded is None:
        return [], None
    return list(loaded.localized("outcomes", certificate.locale) or ()), loaded


def build_credential(credential: Credential) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential, in the learner's language (the certificate's locale)."""
    certificate = credential.certificate
    enrollment = certificate.enrollment
    did = issuer_did()
    list_number, index = credential.status_list, credential.status_index
    outcomes, loaded = _outcomes(certificate)
    hours = float(certificate.hours)
    with force_locale(certificate.locale):
        hours_text = format_decimal(hours)
        session_day = format_date(certificate.session_date, "long")
        minimum = (
            loaded.definition.certificate.minimum_minutes
            if loaded is not None and loaded.definition.certificate
            else None
        )
        criteria = [
            _(
                "Attend the live session (at least %(minutes)s minutes) and submit a "
                "reflection on each of the course's outcomes.",
                minutes=minimum,
            )
            if minimum
            else _(
                "Attend the live session and submit a reflection on each of the course's outcomes."
            ),
        ]
        if outcomes:
            criteria.append(_("Outcomes:"))
            criteria.extend(
                f"{number}. {outcome}" for number, outcome in enumerate(outcomes, start=1)
            )
        credits_note = _(
            "Credits are clock hours: each credit is one hour of live professional learning."
        )
        summary = loaded.localized("summary", certificate.locale) if loaded is not None else ""
        achievement: dict[str, Any] = {
            "id": external_url("lms_courses.course", slug=enrollment.course.slug),
            "type": ["Achievement"],
            "achievementType": "Course",
            "name": certificate.course_title,
            "description": f"{summary}\n\n{credits_note}".strip(),
            "criteria": {"narrative": "\n\n".join([*criteria, credits_note])},
            "creditsAvailable": hours,
            "inLanguage": certificate.locale,
            "creator": issuer_profile(did),
        }
        subject: dict[str, Any] = {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(enrollment.user.email, credential.salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": credential.salt,
                }
            ],
            "achievement": achievement,
            "creditsEarned": hours,
        }

        cohort = (
            db_session.get(Cohort, enrollment.cohort_id)
            if enrollment.cohort_id is not None
            else None
        )
        if cohort is not None:
            subject["activityStartDate"] = proofs.xsd_datetime(cohort.starts_at)
            subject["activityEndDate"] = proofs.xsd_datetime(
                cohort.starts_at + timedelta(minutes=cohort.minutes)
            )
        evidence_text = (
            _(
                "Attended the live session on %(date)s, facilitated by %(facilitator)s.",
                date=session_day,
                facilitator=certificate.facilitator_name,
            )
            if certificate.facilitator_name
            else _("Attended the live session on %(date)s.", date=session_day)
        )
        document: dict[str, Any] = {
            "@context": [proofs.VC_V2, proofs.OB_V3],
            "id": f"urn:uuid:{credential.uuid}",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": _("Certificate of completion: %(course)s", course=certificate.course_title),
            "description": _(
                "%(course)s, live session on %(date)s. Clock hours: %(hours)s.",
                course=certificate.course_title,
                date=session_day,
                hours=hours_text,
            ),
            "issuer": issuer_profile(did),
            "validFrom": proofs.xsd_datetime(certificate.issued_at),
            "awardedDate": proofs.xsd_datetime(certificate.issued_at),
            "credentialSubject": subject,
            "evidence": [
                {
                    "type": ["Evidence"],
                    "name": _("Live session attendance"),
                    "narrative": evidence_text,
                }
            ],
            "credentialStatus": {
                "id": f"{status_list_url(list_number)}#{index}",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": str(index),
                "statusListCredential": status_list_url(list_number),
            },
        }
    return document


def sign_document(document: dict[str, Any]) -> tuple[dict[str, Any], CredentialKey]:
    key = signing_key()
    options = proofs.proof_options(verification_method_id(key.row), utcnow())
    return proofs.sign(document, key.private_key, options, loader()), key.row


def sign(credential: Credential) -> bool:
    """Sign the credential unless it is signed already; True if it was signed now."""
    if credential.is_signed:
        return False
    signed, key = sign_document(build_credential(credential))
    credential.document = json.dumps(signed, ensure_ascii=False, indent=2)
    credential.signed_at = utcnow()
    credential.key_id = key.id
    db_session.flush()
    if db_session.get(StatusList, credential.status_list) is None:
        publish_status_list(credential.status_list)
    return True


def revoked_indexes(list_number: int) -> list[int]:
    return list(
        db_session.scalars(
            select(Credential.status_index)
            .join(Certificate, Credential.certificate_id == Certificate.id)
            .where(Credential.status_list == list_number, Certificate.revoked_at.is_not(None))
        )
    )


def publish_status_list(list_number: int) -> StatusList:
    """Build and sign status list ``list_number`` from the certificates' states now.

    The list's row is locked first, so two publications in a row cannot finish in the wrong
    order: the second reads after the first has committed.
    """
    if db_session.get(StatusList, list_number) is None:
        try:
            with db_session.begin_nested():
                db_session.add(StatusList(id=list_number, document=""))
        except IntegrityError:
            pass  # made by another job at the same moment
    lock_row(StatusList, list_number)
    row = db_session.get(StatusList, list_number, populate_existing=True)
    assert row is not None
    url = status_list_url(list_number)
    now = utcnow()
    document = {
        "@context": [proofs.VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": proofs.xsd_datetime(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": proofs.encode_status_list(revoked_indexes(list_number)),
        },
    }
    signed, _key = sign_document(document)
    row.document = json.dumps(signed, ensure_ascii=False)
    row.published_at = now
    db_session.flush()
    return row


def did_document() -> dict[str, Any]:
    did = issuer_did()
    methods = [
        {
            "id": verification_method_id(key, did),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_key_multibase,
        }
        for key in published_keys()
    ]
    return {
        "@context": [proofs.DID_V1, proofs.MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
