"""What a credential verifier fetches from the engine's own URLs."""

from __future__ import annotations

import re
from typing import Any


def public_documents(client, credential: dict[str, Any]) -> dict[str, Any]:
    """What a verifier resolves, fetched from the engine's own URLs: the issuer's DID document
    (did:web -> its did.json) and the status list the credential names."""
    did = credential["issuer"]["id"]
    host, *path = did.removeprefix("did:web:").split(":")
    assert host == "lms.test"
    did_json = client.get("/" + "/".join(path) + "/did.json")
    assert did_json.status_code == 200
    documents = {did: did_json.get_json(force=True)}
    status_url = credential["credentialStatus"]["statusListCredential"]
    status = client.get(re.sub(r"^https?://lms\.test", "", status_url))
    assert status.status_code == 200, status_url
    documents[status_url] = status.get_json(force=True)
    return documents
