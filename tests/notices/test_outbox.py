"""The mail outbox (docs/rules.md, "Notices"): each notice's mail is a row written with the event, sent after
the commit; a mail the server refuses is kept as failed with its error, tried again later by ``flask
send-mail`` or at once from the outbox page, and never lost. A local SMTP server (aiosmtpd) that first
refuses and then accepts stands in for the site's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from cellchain.core import db
from cellchain.core.types import utcnow
from cellchain.notices import mail
from cellchain.notices.models import Notification, OutboxMail
from cellchain.people import accounts
from cellchain.quality import qc
from tests.factories.qc import SAMPLED
from tests.manufacturing.test_donor_results import _result
from tests.notices.test_mail import _free_port, _positive_sterility, _released_lot, _user_id
from tests.quality.test_holds import _released_lot_with_bags

QA_ADDRESS = "qa@hospital.example"


class FlakyServer:
    """Refuses the first ``refusals`` messages with a temporary error, then accepts."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 mailbox busy, try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def flaky(app) -> Iterator[FlakyServer]:
    server = FlakyServer(refusals=1)
    controller = Controller(server, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="cellchain@hospital.example")
    yield server
    controller.stop()


def _qa_address(api) -> None:
    response = api.post(f"/api/v1/users/{_user_id(api, 'qa')}/email", as_="admin", json={"email": QA_ADDRESS})
    assert response.status_code == 200


def _outbox(app) -> list[OutboxMail]:
    with app.app_context():
        return list(db.session().exec(select(OutboxMail).order_by(OutboxMail.id)))


def _make_due(app) -> None:
    """As if the backoff had passed: the failed mail's next attempt is now due."""
    with app.app_context():
        session = db.session()
        for row in session.exec(select(OutboxMail).where(OutboxMail.status == "failed")):
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
            session.add(row)
        db.commit()


def test_a_refused_mail_is_kept_failed_and_flask_send_mail_delivers_it_once_it_is_due(app, api, flaky):
    _qa_address(api)
    lot_id = _released_lot(app)
    assert _positive_sterility(api, lot_id).status_code == 201  # the hold stands though the server refused
    [row] = _outbox(app)
    assert row.status == "failed" and row.attempts == 1 and "451" in row.last_error and flaky.messages == []
    assert row.next_attempt_at > utcnow()  # backing off: not tried again at once
    runner = app.test_cli_runner()
    early = runner.invoke(args=["send-mail"])
    assert early.exit_code == 0 and "0 mail(s) sent" in early.output and flaky.messages == []
    _make_due(app)
    done = runner.invoke(args=["send-mail"])
    assert done.exit_code == 0, done.output
    assert "1 mail(s) sent" in done.output
    [row] = _outbox(app)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    [(to, content)] = flaky.messages
    assert to == [QA_ADDRESS] and lot_id in message_from_bytes(content)["Subject"]
    with app.app_context():
        notice = db.session().exec(select(Notification).where(Notification.mailed_at.is_not(None))).one()
    assert notice.mail_error is None


def test_send_mail_exits_1_when_a_mail_fails_again(app, api, flaky):
    _qa_address(api)
    flaky.refusals = 2
    assert _positive_sterility(api, _released_lot(app)).status_code == 201
    _make_due(app)
    again = app.test_cli_runner().invoke(args=["send-mail"])
    assert again.exit_code == 1 and "1 failed" in again.output
    [row] = _outbox(app)
    assert row.status == "failed" and row.attempts == 2


def test_qa_sees_a_failed_mail_on_the_outbox_page_and_sends_it_again(app, client, auth, api, flaky):
    _qa_address(api)
    assert _positive_sterility(api, _released_lot(app)).status_code == 201
    [row] = _outbox(app)
    auth.login("qa")
    page = client.get("/inbox/outbox")
    assert page.status_code == 200 and b'data-status="failed"' in page.data and QA_ADDRESS.encode() in page.data
    sent = auth.post(f"/inbox/outbox/{row.id}/retry")
    assert sent.status_code == 303
    assert [r.status for r in _outbox(app)] == ["sent"] and len(flaky.messages) == 1
    assert b"Every mail has been sent" in client.get("/inbox/outbox").data


def test_a_nurse_cannot_open_the_outbox(client, auth):
    auth.login("nurse")
    assert client.get("/inbox/outbox").status_code == 403


def test_a_mail_is_written_with_its_event_and_gone_with_it_when_the_event_rolls_back(app, api, flaky):
    _qa_address(api)
    lot_id = _released_lot(app)
    with app.test_request_context():
        session = db.session()
        entry = qc.parse_result({**SAMPLED, "test": "sterility", "value": "positive"})
        qc.record_result(session, actor=accounts.find_user(session, "qc"), lot_number=lot_id, entry=entry)
        assert len(session.exec(select(OutboxMail)).all()) == 1
        db.rollback()
    assert _outbox(app) == [] and flaky.messages == []


def test_no_mail_server_configured_means_inbox_only_and_no_outbox_rows(app, api):
    _qa_address(api)
    assert _positive_sterility(api, _released_lot(app)).status_code == 201
    assert _outbox(app) == []
    assert api.get("/api/v1/inbox", as_="qa").get_json()["unread"] == 1
    assert "nothing to send" in app.test_cli_runner().invoke(args=["send-mail"]).output


def test_a_late_positive_donor_result_reaches_the_local_mail_server(app, api, flaky):
    _qa_address(api)
    flaky.refusals = 0
    scene = _released_lot_with_bags(app, api)
    assert _result(api, scene.lot_id, test="HIV-1/2", result="positive").status_code == 201
    # QA is mailed twice: the hold on the cord, and the positive result itself
    mails = {message_from_bytes(content)["Subject"]: (to, content) for to, content in flaky.messages}
    assert len(flaky.messages) == 2
    [(to, content)] = [mail for subject, mail in mails.items() if "POSITIVE donor HIV-1/2" in subject]
    message = message_from_bytes(content)
    assert to == [QA_ADDRESS] and scene.lot_id in message["Subject"]
    assert f"/lab/collections/{scene.lot_id}" in message.get_payload(decode=True).decode()


def test_a_failed_mail_waits_longer_after_each_attempt_up_to_six_hours():
    assert [mail.backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert mail.backoff(30) == timedelta(hours=6)
