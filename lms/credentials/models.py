"""Credentials, the issuer's public keys and the published status lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.certificates.models import Certificate
from lms.db import Base, UTCDateTime, utcnow


class CredentialKey(Base):
    """A public key the issuer signs with or once signed with. Only the public half is here:
    every web server publishes every key from this table, whichever machine holds the private
    half (in its instance folder). A retired key signs nothing new but stays published, so the
    credentials it signed stay verifiable."""

    __tablename__ = "lms_credential_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key_multibase: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Credential(Base):
    """The Open Badges 3.0 credential of one certificate.

    The row is made in the transaction that issues the certificate; the signed document is
    written by a job after commit (``document`` is empty until then). Whether it is revoked is
    the certificate's state (revoked or replaced), published in status list ``status_list`` at
    ``status_index``.
    """

    __tablename__ = "lms_credential"
    __table_args__ = (
        UniqueConstraint("status_list", "status_index", name="uq_lms_credential_status_entry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("lms_certificate.id", ondelete="CASCADE"), unique=True
    )
    # The credential's id is urn:uuid:<uuid>: nothing about the person in it.
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # The salt of the subject's hashed email address (IdentityObject).
    salt: Mapped[str] = mapped_column(String(64))
    status_list: Mapped[int] = mapped_column(Integer)
    status_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    document: Mapped[str] = mapped_column(Text, default="")  # the signed JSON, once signed
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_credential_key.id", ondelete="RESTRICT")
    )

    certificate: Mapped[Certificate] = relationship()
    key: Mapped[CredentialKey | None] = relationship()

    @property
    def is_signed(self) -> bool:
        return bool(self.document)


class StatusList(Base):
    """A signed BitstringStatusListCredential as last published (rebuilt by a job on each change)."""

    __tablename__ = "lms_credential_status_list"

    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )  # the list's number
    document: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
