"""A co-signature field is no password oracle and no lock-out tool (issue 17, attack 4): a nurse typing guesses
of another person's password as the infusion's "verifier" is counted and throttled herself, QA is told, and
the other account is never locked."""

from __future__ import annotations

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.notices.models import Notification
from cellchain.people import accounts
from cellchain.ward.models import Infusion
from tests.conftest import signature
from tests.factories import api_document, ward

START = "/api/v1/infusions"


def _scene(app) -> ward.Bedside:
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
        return scene


def _start(api, scene: ward.Bedside, verifier: dict):
    return api.post(START, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan,
                                              "verifier": verifier, "ultrasound_monitored": True})


def _account(app, username: str):
    with app.app_context():
        user = accounts.find_user(db.session(), username)
        return user.failed_logins, user.is_locked


def test_guessing_qa_password_as_verifier_never_locks_qa(app, api):
    scene = _scene(app)
    for guess in ("password1", "qa-password", "letmein", "Winter2026", "hospital", "cellchain", "qa"):
        response = _start(api, scene, signature("qa", "verified", password=guess))
        assert response.status_code in (401, 429)
    assert _account(app, "qa") == (0, False)
    assert _account(app, "admin") == (0, False)
    assert api.token("qa")  # QA still logs in


def test_a_nurse_guessing_a_colleague_password_is_throttled_even_when_she_then_guesses_right(app, api):
    scene = _scene(app)
    limit = app.config["SIGNATURE_THROTTLE_FAILURES"]
    answers = [_start(api, scene, signature("admin", "verified", password=f"guess-{n}")).status_code
               for n in range(limit)]
    assert answers == [401] * limit
    right = _start(api, scene, signature("nurse2", "verified"))
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0
    assert "other people's signatures" in right.get_json()["error"]
    api_document.assert_documented(api_document.load(api._client), "POST", "/infusions", right)
    with app.app_context():
        assert db.session().exec(select(Infusion)).first() is None
    # the throttle counts against the typist only: nurse2 still starts infusions with nurse's signature
    assert _account(app, "nurse2") == (0, False) and _account(app, "nurse") == (0, False)


def test_a_wrong_password_and_an_unknown_name_answer_alike_for_a_co_signer(app, api):
    scene = _scene(app)
    wrong = _start(api, scene, signature("nurse2", "verified", password="not-her-password"))
    unknown = _start(api, scene, signature("no-such-nurse", "verified", password="not-her-password"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()


def test_qa_is_told_of_a_wrong_co_signature_password_and_it_is_audited_against_the_typist(app, api):
    scene = _scene(app)
    assert _start(api, scene, signature("admin", "verified", password="guess")).status_code == 401
    with app.app_context():
        session = db.session()
        qa = accounts.find_user(session, "qa")
        nurse = accounts.find_user(session, "nurse")
        notices = session.exec(select(Notification).where(Notification.kind == "signature_failed")).all()
        assert {n.recipient_id for n in notices} == {qa.id}
        assert "nurse" in notices[0].subject and "'admin' is not locked" in notices[0].body
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "cosignature_failed")).one()
        assert entry.record_type == "user" and entry.record_id == str(nurse.id)
        assert not session.exec(select(AuditEntry).where(AuditEntry.action == "signature_failed")).all()

