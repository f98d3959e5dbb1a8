"""The Open Badges 3.0 implementation guide's Linked Data Proof test vector, signed by our code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lms.credentials import proofs

DATA = Path(__file__).with_name("data")
VECTOR = json.loads((DATA / "ob_v3p0_test_vector.json").read_text(encoding="utf-8"))


@pytest.fixture
def loader():
    extra = {
        url: json.loads((DATA / name).read_text(encoding="utf-8"))
        for url, name in VECTOR["contexts"].items()
    }
    return proofs.document_loader(extra)


def private_key() -> Ed25519PrivateKey:
    # The guide prints the 64-byte secret key (seed + public key); Ed25519 signs from the seed.
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR["private_key_hex"])[:32])


def test_the_fixed_key_is_the_published_multikey():
    key = private_key()
    assert proofs.public_key_multibase(key.public_key()) == VECTOR["public_key_multibase"]
    assert (
        proofs.public_key_from_multibase(VECTOR["public_key_multibase"]).public_bytes_raw().hex()
        == VECTOR["public_key_hex"]
    )


def test_canonical_forms_and_hashes_are_the_published_ones(loader):
    config = {**VECTOR["proof_options"], "@context": VECTOR["document"]["@context"]}
    proof_nquads = proofs.canonize(config, loader)
    assert proof_nquads == VECTOR["proof_canonical"]
    assert hashlib.sha256(proof_nquads.encode()).hexdigest() == VECTOR["proof_hash_hex"]
    assert (
        hashlib.sha256(proofs.canonize(VECTOR["document"], loader).encode()).hexdigest()
        == VECTOR["document_hash_hex"]
    )


def test_signing_the_test_vector_gives_the_published_proof_value(loader):
    signed = proofs.sign(VECTOR["document"], private_key(), VECTOR["proof_options"], loader)
    assert signed["proof"]["proofValue"] == VECTOR["proof_value"]
    assert proofs.verify(
        signed,
        lambda method: (
            private_key().public_key()
            if method == VECTOR["proof_options"]["verificationMethod"]
            else None
        ),
        loader,
    ).verified


def test_the_published_signed_credential_verifies_and_a_change_breaks_it(loader):
    published = {
        **VECTOR["document"],
        "proof": {**VECTOR["proof_options"], "proofValue": VECTOR["proof_value"]},
    }
    key: Ed25519PublicKey = proofs.public_key_from_multibase(VECTOR["public_key_multibase"])
    assert proofs.verify(published, lambda _method: key, loader).verified
    tampered = json.loads(json.dumps(published))
    tampered["credentialSubject"]["achievement"]["name"] = "Teamwork (gold)"
    result = proofs.verify(tampered, lambda _method: key, loader)
    assert not result.verified and "does not match" in result.problem


def test_an_unknown_context_is_refused_not_fetched():
    document = {**VECTOR["document"], "@context": ["https://example.org/not-shipped/v1"]}
    with pytest.raises(proofs.UnknownContextError):
        proofs.canonize(document, proofs.document_loader())


def test_status_list_round_trip():
    encoded = proofs.encode_status_list([0, 7, 8, 131_071])
    bits = proofs.decode_status_list(encoded)
    assert len(bits) == proofs.STATUS_LIST_SIZE // 8
    assert [i for i in (0, 1, 7, 8, 9, 131_070, 131_071) if proofs.status_bit(bits, i)] == [
        0,
        7,
        8,
        131_071,
    ]
    assert bits[0] == 0b1000_0001  # index 0 is the first byte's most significant bit
    assert encoded.startswith("u") and "=" not in encoded
