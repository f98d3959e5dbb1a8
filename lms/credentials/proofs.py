"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite, and the Bitstring Status List.

Pure functions: no Flask, no database. The steps are those of W3C "Data Integrity EdDSA
Cryptosuites v1.0" (section 3.2): the unsecured document and the proof options (with the
document's ``@context``) are each canonicalized with RDF Dataset Canonicalization (RDFC-1.0, which
pyld calls URDNA2015), hashed with SHA-256, and the proof hash followed by the document hash is
signed with Ed25519. ``proofValue`` is the signature in base58-btc with the multibase prefix ``z``.

JSON-LD contexts come only from :data:`CONTEXTS` (files shipped in ``contexts/``) or from an extra
mapping the caller passes: a document that names any other context is refused, never fetched.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

CONTEXTS_DIR = Path(__file__).with_name("contexts")

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

# URL -> file in contexts/ (see contexts/README.md for where each comes from)
CONTEXTS: dict[str, str] = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
    DID_V1: "did-v1.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
}

CRYPTOSUITE = "eddsa-rdfc-2022"
# Multicodec prefix of an Ed25519 public key (0xed, varint-encoded) in a Multikey.
ED25519_PUB_PREFIX = b"\xed\x01"
# W3C Bitstring Status List: at least 16 KiB (131,072 entries) per list, for herd privacy.
STATUS_LIST_SIZE = 131_072


class ProofError(ValueError):
    """A document that cannot be signed or checked (unknown context, malformed proof...)."""


class UnknownContextError(ProofError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"unknown JSON-LD context {url[:200]!r}: only the contexts shipped with the engine are used"
        )
        self.url = url


# -- JSON-LD ------------------------------------------------------------------------------------


@cache
def shipped_context(url: str) -> dict[str, Any]:
    """The parsed context file for ``url`` (read once per process: the files never change)."""
    name = CONTEXTS.get(url)
    if name is None:
        raise UnknownContextError(url)
    return json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))


Loader = Callable[[str, dict[str, Any]], dict[str, Any]]


def document_loader(extra: Mapping[str, Mapping[str, Any]] | None = None) -> Loader:
    """A pyld document loader that serves the shipped contexts (and ``extra``), nothing else."""

    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if extra is not None and url in extra:
            document: Any = copy.deepcopy(dict(extra[url]))
        else:
            document = shipped_context(url)
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": document,
        }

    return load


def canonize(document: Mapping[str, Any], loader: Loader) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document."""
    try:
        return jsonld.normalize(
            dict(document),
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader},
        )
    except jsonld.JsonLdError as error:
        cause: BaseException | None = error
        while cause is not None:  # pyld wraps the loader's error: report the context it refused
            if isinstance(cause, UnknownContextError):
                raise UnknownContextError(cause.url) from error
            cause = cause.__cause__ or getattr(cause, "cause", None)
        raise ProofError(f"the document is not valid JSON-LD: {error}") from error


# -- keys ---------------------------------------------------------------------------------------


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    """The Multikey form of an Ed25519 public key: ``z6Mk...``."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + raw).decode("ascii")


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    if not value.startswith("z"):
        raise ProofError("a Multikey public key is base58-btc encoded (it starts with 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as error:
        raise ProofError("the public key is not valid base58") from error
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise ProofError("the public key is not an Ed25519 Multikey")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


# -- proofs -------------------------------------------------------------------------------------


def xsd_datetime(moment: datetime) -> str:
    """``2026-12-01T10:00:00Z``: UTC, whole seconds, as credentials write dates."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_data(
    unsecured: Mapping[str, Any], proof_options: Mapping[str, Any], loader: Loader
) -> bytes:
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    config["@context"] = unsecured["@context"]
    proof_hash = hashlib.sha256(canonize(config, loader).encode("utf-8")).digest()
    document_hash = hashlib.sha256(canonize(unsecured, loader).encode("utf-8")).digest()
    return proof_hash + document_hash


def proof_options(verification_method: str, created: datetime | str) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "created": created if isinstance(created, str) else xsd_datetime(created),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    options: Mapping[str, Any],
    loader: Loader,
) -> dict[str, Any]:
    """``document`` with a ``proof`` (a ``DataIntegrityProof``) made with ``private_key``."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if "@context" not in unsecured:
        raise ProofError("the document has no @context")
    signature = private_key.sign(_hash_data(unsecured, options, loader))
    proof = {**options, "proofValue": "z" + base58.b58encode(signature).decode("ascii")}
    return {**unsecured, "proof": proof}


@dataclass(frozen=True)
class ProofCheck:
    verified: bool
    verification_method: str = ""
    created: str = ""
    problem: str = ""  # why not, in English for logs; views say it in the reader's language


def verify(
    document: Mapping[str, Any],
    public_key_for: Callable[[str], Ed25519PublicKey | None],
    loader: Loader,
) -> ProofCheck:
    """Check ``document``'s single ``eddsa-rdfc-2022`` proof; ``public_key_for`` maps a
    verification method id to its key (None: not a key this verifier trusts)."""
    proof = document.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        return ProofCheck(False, problem="no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return ProofCheck(False, problem="not an eddsa-rdfc-2022 DataIntegrityProof")
    if proof.get("proofPurpose") != "assertionMethod":
        return ProofCheck(False, problem="the proof's purpose is not assertionMethod")
    method = proof.get("verificationMethod")
    value = proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        return ProofCheck(False, problem="malformed proof")
    key = public_key_for(method)
    if key is None:
        return ProofCheck(False, verification_method=method, problem="unknown verification method")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        return ProofCheck(False, verification_method=method, problem="proofValue is not base58")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" not in unsecured:
        return ProofCheck(False, verification_method=method, problem="no @context")
    try:
        key.verify(signature, _hash_data(unsecured, proof, loader))
    except InvalidSignature:
        return ProofCheck(
            False,
            verification_method=method,
            created=str(proof.get("created", "")),
            problem="the signature does not match the document",
        )
    return ProofCheck(True, verification_method=method, created=str(proof.get("created", "")))


# -- Bitstring Status List ------------------------------------------------------------------------


def encode_status_list(set_bits: Iterable[int], size: int = STATUS_LIST_SIZE) -> str:
    """``encodedList``: the bitstring (bit 0 is the first byte's most significant bit),
    GZIP-compressed, base64url without padding, multibase prefix ``u``."""
    bits = bytearray(size // 8)
    for index in set_bits:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} outside the list")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always encodes to the same text
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_status_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ProofError("encodedList must be multibase base64url (prefix 'u')")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def status_bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
