"""The issuer's Ed25519 signing key: created on first use in the instance folder, rotated on demand.

The private key is a PKCS#8 PEM file, ``<LMS_CREDENTIAL_KEYS_DIR>/signing-key.pem`` (default
``instance/credential-keys/``), readable by its owner only (0600) and never in the repository.
Its public half is registered in ``lms_credential_key`` the first time it signs, so every web
server publishes it in the issuer's DID document. Rotating moves the old file to ``retired/`` and
marks its row retired: it signs nothing new but stays published, so what it signed still verifies.

Machines that sign (job workers) need the same folder, or each makes and registers its own key,
which also verifies: every registered key is published.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.credentials.models import CredentialKey
from lms.credentials.proofs import public_key_multibase
from lms.db import db_session, utcnow

KEY_FILE = "signing-key.pem"


@dataclass(frozen=True)
class SigningKey:
    private_key: Ed25519PrivateKey
    row: CredentialKey

    @property
    def multibase(self) -> str:
        return self.row.public_key_multibase


def keys_dir() -> Path:
    configured = current_app.config.get("LMS_CREDENTIAL_KEYS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "credential-keys"


def _write_new_key(path: Path) -> None:
    """Write a new key to ``path`` unless one is there; atomic: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)  # fails if another process made the key first: theirs wins
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _load(path: Path) -> Ed25519PrivateKey:
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} is not an Ed25519 key")
    return key


def register(private_key: Ed25519PrivateKey) -> CredentialKey:
    """The key's row in ``lms_credential_key``, added if missing (flushed, never committed)."""
    multibase = public_key_multibase(private_key.public_key())
    row = db_session.scalar(
        select(CredentialKey).where(CredentialKey.public_key_multibase == multibase)
    )
    if row is not None:
        return row
    try:
        with db_session.begin_nested():
            row = CredentialKey(public_key_multibase=multibase, created_at=utcnow())
            db_session.add(row)
    except IntegrityError:  # another worker registered it at the same moment
        row = db_session.scalar(
            select(CredentialKey).where(CredentialKey.public_key_multibase == multibase)
        )
        assert row is not None
    return row


def signing_key() -> SigningKey:
    """The current signing key, created in the instance folder on first use."""
    path = keys_dir() / KEY_FILE
    if not path.exists():
        _write_new_key(path)
    private_key = _load(path)
    return SigningKey(private_key, register(private_key))


def rotate() -> tuple[CredentialKey | None, CredentialKey]:
    """A new signing key; the old one is retired (kept published). Returns (old, new) rows."""
    directory = keys_dir()
    path = directory / KEY_FILE
    old_row = None
    if path.exists():
        old_key = _load(path)
        old_row = register(old_key)
        old_row.retired_at = old_row.retired_at or utcnow()
        retired = directory / "retired"
        retired.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.replace(retired / f"{old_row.public_key_multibase}.pem")
    _write_new_key(path)
    new_row = register(_load(path))
    db_session.flush()
    return old_row, new_row


def published_keys() -> list[CredentialKey]:
    return list(db_session.scalars(select(CredentialKey).order_by(CredentialKey.id)))


__all__ = ["SigningKey", "keys_dir", "published_keys", "register", "rotate", "signing_key"]
