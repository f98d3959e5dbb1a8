"""Open Badges 3.0 credentials issued through the real routes, checked by our code and by an
independent verifier (Digital Bazaar's @digitalbazaar/vc under Node.js)."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import stat
from datetime import date

from sqlalchemy import func, select

from tests.helpers.cohorts import client_for, submit_reflections
from tests.helpers.credentials import public_documents


def download(client, code: str) -> dict:
    response = client.get(f"/certificates/{code}/credential.json")
    assert response.status_code == 200, response.status_code
    assert "attachment" in response.headers["Content-Disposition"]
    return json.loads(response.get_data(as_text=True))


def check_page(client, text: str, email: str = "") -> str:
    response = client.post("/credentials/verify", data={"credential": text, "email": email})
    return response.get_data(as_text=True)


def test_issued_credential_verifies_independently_and_a_change_is_rejected(
    app, issued, node_verify
):
    person = issued(email="ana.learner@example.org")
    credential = download(person.client, person.code)

    # What it says: OB 3.0 on VC 2.0, the course and its hours, a hashed email, no plain address.
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == "did:web:lms.test:credentials:issuer"
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == "A Dialogue with ESPs about Racial Justice in Education"
    assert (
        achievement["creditsAvailable"] == 1.0
        and "clock hours" in achievement["criteria"]["narrative"]
    )
    assert "Fran Facilitator" in credential["evidence"][0]["narrative"]
    identity = credential["credentialSubject"]["identifier"][0]
    assert identity["type"] == "IdentityObject" and identity["hashed"] is True
    assert "example.org" not in json.dumps(credential).lower().replace("https://lms.test", "")
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"

    documents = public_documents(app.test_client(), credential)
    verdict = node_verify(credential, documents)
    assert verdict == {"verified": True, "error": "", "statusVerified": True, "revoked": False}, (
        verdict
    )

    for change in (
        lambda c: c["credentialSubject"]["achievement"].__setitem__("creditsAvailable", 10.0),
        lambda c: c["credentialSubject"]["achievement"].__setitem__("name", "Another course"),
        lambda c: c["issuer"].__setitem__("name", "Someone else"),
    ):
        tampered = copy.deepcopy(credential)
        change(tampered)
        verdict = node_verify(tampered, documents)
        assert verdict["verified"] is False, verdict

    # Our own checker agrees, and confirms whose it is by the email address only.
    page = check_page(app.test_client(), json.dumps(credential), email=" Ana.Learner@Example.org ")
    assert "The signature is ours and the credential is valid." in page
    assert "The email address you gave matches the credential." in page
    page = check_page(app.test_client(), json.dumps(credential), email="someone@example.org")
    assert "does not match the credential" in page
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["creditsEarned"] = 40.0
    assert "The signature does not match" in check_page(app.test_client(), json.dumps(tampered))


def test_revoked_and_replaced_credentials_are_marked_in_the_status_list(
    app, issued, make_user, node_verify
):
    from lms.jobs import wait_for_jobs

    admin = client_for(app, make_user("admin"))
    first, second = issued(), issued()
    revoked = download(first.client, first.code)
    replaced = download(second.client, second.code)

    assert (
        admin.post(
            f"/certificates/{first.code}/revoke", data={"reason": "Recorded for the wrong person."}
        ).status_code
        == 303
    )
    assert admin.post(f"/certificates/{second.code}/reissue").status_code == 303
    wait_for_jobs(app)

    for credential in (revoked, replaced):
        verdict = node_verify(credential, public_documents(app.test_client(), credential))
        assert verdict["statusVerified"] is True and verdict["revoked"] is True, verdict
    assert "was revoked and is no longer valid" in check_page(
        app.test_client(), json.dumps(revoked)
    )
    assert "was replaced by a newer one" in check_page(app.test_client(), json.dumps(replaced))

    # The replacement has a credential of its own, valid.
    page = second.client.get("/me").get_data(as_text=True)
    new_code = next(
        code
        for code in re.findall(r"/certificates/([A-Z0-9-]{19})/credential", page)
        if code != second.code
    )
    fresh = download(second.client, new_code)
    verdict = node_verify(fresh, public_documents(app.test_client(), fresh))
    assert verdict == {"verified": True, "error": "", "statusVerified": True, "revoked": False}, (
        verdict
    )
    assert (
        fresh["credentialStatus"]["statusListIndex"]
        != replaced["credentialStatus"]["statusListIndex"]
    )

    # The public verification page says so too; the learner can no longer download a revoked one.
    assert "marks it as revoked" in app.test_client().get(f"/verify/{first.code}").get_data(
        as_text=True
    )
    assert first.client.get(f"/certificates/{first.code}/credential.json").status_code == 404


def test_key_rotation_keeps_old_credentials_verifiable(app, issued, runner, node_verify):
    from lms.jobs import wait_for_jobs

    before = issued()
    old = download(before.client, before.code)
    key_dir = os.path.join(app.instance_path, "credential-keys")
    key_file = os.path.join(key_dir, "signing-key.pem")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600, (
        "the private key is readable by its owner only"
    )

    result = runner.invoke(args=["lms", "credentials", "rotate-key"])
    assert result.exit_code == 0, result.output
    after = issued()
    wait_for_jobs(app)
    new = download(after.client, after.code)
    assert new["proof"]["verificationMethod"] != old["proof"]["verificationMethod"]

    did = app.test_client().get("/credentials/issuer/did.json").get_json(force=True)
    methods = [method["id"] for method in did["verificationMethod"]]
    assert (
        old["proof"]["verificationMethod"] in methods
        and new["proof"]["verificationMethod"] in methods
    )
    assert set(did["assertionMethod"]) == set(methods)
    for credential in (old, new):
        verdict = node_verify(credential, public_documents(app.test_client(), credential))
        assert verdict["verified"] is True and verdict["revoked"] is False, verdict
    assert "The signature is ours and the credential is valid." in check_page(
        app.test_client(), json.dumps(old)
    )
    assert len(os.listdir(os.path.join(key_dir, "retired"))) == 1


def test_a_recording_enrollment_gets_no_credential(app, make_user, db):
    from lms.certificates.eligibility import RecordingNotCertifiedError
    from lms.certificates.models import Certificate
    from lms.courses.models import Course
    from lms.credentials import services
    from lms.credentials.models import Credential
    from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath

    learner = make_user()
    client = client_for(app, learner)
    assert client.post(
        "/courses/esp-racial-justice-dialogue/start", data={"path": "recording"}
    ).status_code in (302, 303)
    enrollment = db.scalar(select(Enrollment).where(Enrollment.user_id == learner.id))
    assert enrollment.path is LearningPath.recording
    submit_reflections(app, enrollment.id)
    page = client.get("/me").get_data(as_text=True)
    assert "/credential" not in page
    assert db.scalar(select(func.count()).select_from(Credential)) == 0

    # Even a certificate row forced onto a recording enrollment is refused a credential.
    course = db.scalar(select(Course).where(Course.slug == "esp-racial-justice-dialogue"))
    enrollment.status = EnrollmentStatus.completed
    forced = Certificate(
        code="AAAA-BBBB-CCCC-DDDD",
        enrollment_id=enrollment.id,
        learner_name="x",
        course_title=course.title,
        hours=1.0,
        session_date=date.today(),
        facilitator_name="",
        organisation="NEA",
        locale="en",
    )
    db.add(forced)
    db.flush()
    try:
        services.ensure_credential(forced)
    except RecordingNotCertifiedError:
        pass
    else:
        raise AssertionError("a recording enrollment got a credential")
    db.rollback()


def test_spanish_learner_gets_spanish_text(app, issued):
    person = issued(locale="es")
    credential = download(person.client, person.code)
    assert credential["name"].startswith("Certificado de finalización")
    assert "horas reloj" in credential["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert credential["credentialSubject"]["achievement"]["inLanguage"] == "es"
    page = person.client.get(f"/certificates/{person.code}/credential").get_data(as_text=True)
    assert "Qué es" in page and "Descargar la credencial (.json)" in page


def test_public_documents_resolve_from_the_engine(app, issued):
    person = issued()
    client = app.test_client()
    credential = download(person.client, person.code)
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ):
        assert url in credential["@context"]
    for name in (
        "credentials-v2.jsonld",
        "ob-v3p0-context-3.0.3.json",
        "did-v1.jsonld",
        "multikey-v1.jsonld",
    ):
        response = client.get(f"/credentials/contexts/{name}")
        assert response.status_code == 200 and "@context" in response.get_json(force=True)
    assert client.get("/credentials/contexts/../config.py").status_code == 404
    profile = client.get("/credentials/issuer.json").get_json(force=True)
    assert profile["id"] == credential["issuer"]["id"] and profile["type"] == ["Profile"]
    status = client.get("/credentials/status/1")
    assert status.status_code == 200 and "max-age=60" in status.headers["Cache-Control"]
    assert status.get_json(force=True)["type"] == [
        "VerifiableCredential",
        "BitstringStatusListCredential",
    ]
    assert client.get("/credentials/status/2").status_code == 404


def test_links_leave_from_the_base_url_not_the_host(app, issued):
    app.config["LMS_BASE_URL"] = "https://courses.example.org/pd"
    person = issued()
    credential = download(person.client, person.code)
    assert credential["issuer"]["id"] == "did:web:courses.example.org:pd:credentials:issuer"
    assert (
        credential["credentialStatus"]["statusListCredential"]
        == "https://courses.example.org/pd/credentials/status/1"
    )
    page = person.client.get(
        f"/certificates/{person.code}/credential", headers={"Host": "lms.test"}
    ).get_data(as_text=True)
    assert "https://courses.example.org/pd/credentials/shared/" in page


def test_wallet_link_and_upload(app, issued):
    person = issued()
    page = person.client.get(f"/certificates/{person.code}/credential").get_data(as_text=True)
    assert "<svg" in page, "a QR code for wallets"
    link = re.search(r'value="https?://lms\.test(/credentials/shared/[^"]+\.json)"', page).group(1)
    shared = app.test_client().get(link)
    assert shared.status_code == 200
    assert json.loads(shared.get_data(as_text=True)) == download(person.client, person.code)
    assert app.test_client().get(link.replace(".json", "x.json")).status_code == 404

    body = shared.get_data()
    response = app.test_client().post(
        "/credentials/verify",
        data={"upload": (io.BytesIO(b"\xef\xbb\xbf" + body), "credential.json")},
        content_type="multipart/form-data",
    )
    assert (
        response.status_code == 200
        and "The signature is ours and the credential is valid." in response.get_data(as_text=True)
    )
    response = app.test_client().post("/credentials/verify", data={"credential": "not json"})
    assert "not valid JSON" in response.get_data(as_text=True)
    assert app.test_client().post("/credentials/verify", data={}).status_code == 422


def test_others_cannot_read_a_learners_credential(app, issued, make_user):
    person = issued()
    stranger = client_for(app, make_user())
    assert stranger.get(f"/certificates/{person.code}/credential").status_code == 404
    assert stranger.get(f"/certificates/{person.code}/credential.json").status_code == 404
    assert (
        client_for(app, person.facilitator)
        .get(f"/certificates/{person.code}/credential.json")
        .status_code
        == 200
    )


def test_a_certificate_from_before_credentials_gets_one_on_first_view(app, issued, db):
    from lms.credentials.models import Credential
    from lms.jobs import wait_for_jobs

    person = issued()
    db.execute(Credential.__table__.delete())
    db.commit()
    page = person.client.get(f"/certificates/{person.code}/credential").get_data(as_text=True)
    assert "being prepared" in page
    wait_for_jobs(app)
    assert "Download the credential" in person.client.get(
        f"/certificates/{person.code}/credential"
    ).get_data(as_text=True)


def test_two_revocations_at_once_both_reach_the_status_list(app, issued, make_user):
    """Each revocation publishes the list again in a job that locks the list's row first, so the
    publication that runs last has read both revocations, whichever order the jobs run in."""
    import threading

    from lms.credentials import proofs
    from lms.jobs import wait_for_jobs

    people = [issued(), issued()]
    credentials = [download(person.client, person.code) for person in people]
    admin = make_user("admin")
    clients = [client_for(app, admin), client_for(app, admin)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def revoke(client, code):
        barrier.wait()
        statuses.append(
            client.post(
                f"/certificates/{code}/revoke", data={"reason": "Duplicate record."}
            ).status_code
        )

    threads = [
        threading.Thread(target=revoke, args=(client, person.code))
        for client, person in zip(clients, people, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [303, 303]
    wait_for_jobs(app)
    status_list = app.test_client().get("/credentials/status/1").get_json(force=True)
    bits = proofs.decode_status_list(status_list["credentialSubject"]["encodedList"])
    assert all(
        proofs.status_bit(bits, int(c["credentialStatus"]["statusListIndex"])) for c in credentials
    )
