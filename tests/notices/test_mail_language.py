"""A notice is worded for its recipient: a person who reads Chinese gets the notice and its e-mail in
Chinese, whatever language the person who raised it reads (docs/architecture.md, "Languages")."""

from __future__ import annotations

from email import message_from_bytes
from email.header import decode_header, make_header

from sqlmodel import select

from cellchain.core import db
from cellchain.notices import mail
from cellchain.notices.models import Notification
from cellchain.people import accounts
from tests.conftest import signature
from tests.factories import ward
from tests.notices import test_mail

smtp = test_mail.smtp  # the local SMTP server the mail tests listen with


def _qa_reads(app, language: str | None, email: str) -> None:
    with app.app_context():
        qa = accounts.find_user(db.session(), "qa")
        qa.email, qa.language = email, language
        db.session().add(qa)
        db.commit()


def _wrong_co_signature(app, api) -> None:
    with app.app_context():
        scene = ward.bedside_ready(db.session())
        db.commit()
    response = api.post("/api/v1/infusions", as_="nurse",
                        json={"wristband": scene.wristband, "bag": scene.bag_scan, "ultrasound_monitored": True,
                              "verifier": signature("admin", "verified", password="guess")})
    assert response.status_code == 401


def _mail(app, smtp) -> tuple[str, str]:
    """The one mail sent, as the site's scheduler sends the outbox (``flask send-mail``): the notice of a wrong
    co-signature is written after the refused request, so its mail waits for the next send."""
    with app.app_context():
        mail.send_due(db.session(), mail.SmtpSettings.from_config(app.config))
        db.commit()
    assert len(smtp.messages) == 1
    sent = message_from_bytes(smtp.messages[0][1])
    return str(make_header(decode_header(sent["Subject"]))), sent.get_payload(decode=True).decode()


def test_qa_who_reads_chinese_is_mailed_the_wrong_co_signature_notice_in_chinese(app, api, smtp):
    _qa_reads(app, "zh", "qa@hospital.example")
    _wrong_co_signature(app, api)
    subject, body = _mail(app, smtp)
    assert subject == "nurse 在共同签名中输入了错误的密码"
    assert "“admin”未被锁定" in body and "not locked" not in body
    with app.app_context():
        notice = db.session().exec(select(Notification).where(Notification.kind == "signature_failed")).one()
        assert notice.subject == subject


def test_the_same_notice_is_in_english_for_qa_who_reads_english(app, api, smtp):
    app.config["DEFAULT_LANGUAGE"] = "zh"
    _qa_reads(app, "en", "qa@hospital.example")
    _wrong_co_signature(app, api)
    subject, body = _mail(app, smtp)
    assert subject == "Wrong password in a co-signature typed by nurse"
    assert "'admin' is not locked" in body


def test_a_hold_is_mailed_in_chinese_to_the_investigator_who_reads_chinese_and_in_english_to_qa(app, api, smtp):
    test_mail._give_addresses(api)
    with app.app_context():
        investigator = accounts.find_user(db.session(), "investigator")
        investigator.language = "zh"
        db.session().add(investigator)
        db.commit()
    lot_id = test_mail._released_lot(app)
    assert test_mail._positive_sterility(api, lot_id).status_code == 201
    delivered = {to[0]: message_from_bytes(content) for to, content in smtp.messages}
    chinese = delivered[test_mail.EMAILS["investigator"]]
    english = delivered[test_mail.EMAILS["qa"]]
    assert str(make_header(decode_header(chinese["Subject"]))) == f"已放行批次 {lot_id} 被暂扣：sterility 超出质量标准"
    assert "请在 cellchain 中打开：/qa/holds/" in chinese.get_payload(decode=True).decode()
    assert english["Subject"] == f"HOLD on released lot {lot_id}: sterility out of specification"
    assert "Open it in cellchain at /qa/holds/" in english.get_payload(decode=True).decode()
