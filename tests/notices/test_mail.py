"""Notices by e-mail: when the site configures SMTP, each notice also goes to its recipient's address,
only after the transaction that raised it commits; a failed send is kept on the notice, never fatal.
A real SMTP server (aiosmtpd) listens on a local port for the test."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from cellchain.core import db
from cellchain.notices.models import Notification
from cellchain.people import accounts
from cellchain.quality import qc
from cellchain.quality.models import Hold
from tests.factories import ward
from tests.factories.qc import SAMPLED

EMAILS = {"qa": "qa@hospital.example", "investigator": "xu.ping@hospital.example"}


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(app) -> Iterator[Inbox]:
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="cellchain@hospital.example")
    yield received
    controller.stop()


def _released_lot(app) -> str:
    with app.app_context():
        session = db.session()
        lot = ward.released_lot(session)
        lot.spec_version = "UCMSC-2"
        session.add(lot)
        ward.bag(session, lot=lot)
        db.commit()
        return lot.lot_number


def _give_addresses(api) -> None:
    for username, address in EMAILS.items():
        user_id = _user_id(api, username)
        response = api.post(f"/api/v1/users/{user_id}/email", as_="admin", json={"email": address})
        assert response.status_code == 200 and response.get_json()["email"] == address


def _user_id(api, username: str) -> int:
    return _user_id_in(api._client.application, username)


def _positive_sterility(api, lot_id: str):
    return api.post(f"/api/v1/lots/{lot_id}/qc-results", as_="qc",
                    json={**SAMPLED, "test": "sterility", "value": "positive"})


def test_a_hold_is_mailed_to_qa_and_the_investigator_after_it_commits(app, api, smtp):
    _give_addresses(api)
    lot_id = _released_lot(app)
    assert _positive_sterility(api, lot_id).status_code == 201
    delivered = {to[0]: message_from_bytes(content) for to, content in smtp.messages}
    assert set(delivered) == set(EMAILS.values())
    mail = delivered[EMAILS["investigator"]]
    assert mail["From"] == "cellchain@hospital.example" and lot_id in mail["Subject"] and "HOLD" in mail["Subject"]
    assert "/qa/holds/" in mail.get_payload(decode=True).decode()
    with app.app_context():
        notices = db.session().exec(select(Notification)).all()
    assert len(notices) == 2 and all(n.mailed_at is not None and n.mail_error is None for n in notices)


def test_a_person_without_an_address_still_finds_the_notice_in_the_inbox(app, api, smtp):
    lot_id = _released_lot(app)
    assert _positive_sterility(api, lot_id).status_code == 201
    assert smtp.messages == []
    assert api.get("/api/v1/inbox", as_="qa").get_json()["unread"] == 1


def test_a_failed_send_is_recorded_on_the_notice_and_the_result_still_stands(app, api):
    _give_addresses(api)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(), SMTP_TIMEOUT_SECONDS=2)  # nobody listens
    lot_id = _released_lot(app)
    response = _positive_sterility(api, lot_id)
    assert response.status_code == 201
    with app.app_context():
        notices = db.session().exec(select(Notification)).all()
        holds = db.session().exec(select(Hold)).all()
    assert len(holds) == 1 and len(notices) == 2
    assert all(n.mailed_at is None and n.mail_error for n in notices)
    inbox = api.get("/api/v1/inbox", as_="qa").get_json()
    assert inbox["notices"][0]["mail_error"]


def test_a_hold_that_is_rolled_back_is_never_mailed(app, api, smtp):
    _give_addresses(api)
    lot_id = _released_lot(app)
    with app.test_request_context():
        session = db.session()
        analyst = accounts.find_user(session, "qc")
        entry = qc.parse_result({**SAMPLED, "test": "sterility", "value": "positive"})
        qc.record_result(session, actor=analyst, lot_number=lot_id, entry=entry)
        assert session.exec(select(Hold)).all() != []
        db.rollback()
    with app.app_context():
        assert db.session().exec(select(Hold)).all() == []
        assert db.session().exec(select(Notification)).all() == []
    assert smtp.messages == []


def test_an_address_must_look_like_one(app, api):
    user_id = _user_id(api, "qa")
    bad = api.post(f"/api/v1/users/{user_id}/email", as_="admin", json={"email": "not an address"})
    assert bad.status_code == 400 and "email" in bad.get_json()["fields"]
    assert api.post(f"/api/v1/users/{user_id}/email", as_="qa", json={"email": "qa@x.example"}).status_code == 403
    cleared = api.post(f"/api/v1/users/{user_id}/email", as_="admin", json={"email": ""})
    assert cleared.status_code == 200 and cleared.get_json()["email"] is None


def test_the_administrator_sets_an_address_on_the_users_page(app, client, auth):
    user_id = _user_id_in(app, "investigator")
    auth.login("admin")
    done = auth.post(f"/admin/users/{user_id}/email", {"email": "xu.ping@hospital.example"}, follow_redirects=True)
    assert done.status_code == 200 and b"xu.ping@hospital.example" in done.data
    refused = auth.post(f"/admin/users/{user_id}/email", {"email": "xu.ping at hospital"})
    assert refused.status_code == 400 and b"email" in refused.data
    with app.app_context():
        assert accounts.find_user(db.session(), "investigator").email == "xu.ping@hospital.example"


def _user_id_in(app, username: str) -> int:
    with app.app_context():
        return accounts.find_user(db.session(), username).id
