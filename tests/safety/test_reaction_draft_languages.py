"""An adverse event drafted from a bedside reaction reads in each reader's language: its description is kept as
a code and values (the nurse's words as typed, the severity's code, the onset on the site's clock) and worded
when shown, while the sentence as worded for the nurse stays what the trail and the signature bind
(docs/architecture.md, "Languages")."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.safety.models import AdverseEvent
from tests.conftest import PASSWORD
from tests.factories import safety
from tests.factories.safety import EVENTS
from tests.safety.test_deviation_languages import _chooses

TYPED = "寒战、发热"  # the nurse's own words, as typed
ONSET = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 on the site's clock (UTC+08:00)
ZH = "护士在输注"
EN = "Recorded by the nurse at the end of infusion"


def _drafted(app, api, *, nurse_language: str, description: str = TYPED) -> AdverseEvent:
    _chooses(app, "nurse", nurse_language)
    reaction = {"description": description, "severity": "life_threatening", "onset_at": ONSET.isoformat()}
    _, _, done = safety.infused(app, api, reactions=[reaction])
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        return db.session().exec(select(AdverseEvent)).one()


def _read(api, event_id: int, as_: str, language: str | None = None) -> dict:
    headers = {**api.headers(as_), **({"Accept-Language": language} if language else {})}
    answer = api._client.get(f"{EVENTS}/{event_id}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _entries(app, event_id: int) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session().exec(select(AuditEntry).where(AuditEntry.record_type == "adverse_event",
                                                               AuditEntry.record_id == str(event_id))
                                      .order_by(AuditEntry.seq)))


def test_a_reaction_a_nurse_records_in_chinese_reads_in_english_to_an_english_investigator(app, api, auth):
    draft = _drafted(app, api, nurse_language="zh")
    assert draft.description.startswith(ZH) and "危及生命" in draft.description
    assert "2026-11-26 12:00 UTC+08:00" in draft.description and "T04:00" not in draft.description
    assert draft.description_code == "reaction_draft:onset"
    assert draft.description_values == {"infusion_id": draft.infusion_id, "description": TYPED,
                                        "severity": "life_threatening", "onset": "2026-11-26 12:00 UTC+08:00"}
    english = (f"{EN} {draft.infusion_id}: {TYPED} (severity life-threatening, onset 2026-11-26 12:00 "
               "UTC+08:00).")
    read = _read(api, draft.id, "investigator", "en")
    assert read["description"] == english
    assert (read["description_code"], read["description_values"]["severity"]) == ("reaction_draft:onset",
                                                                                  "life_threatening")
    assert _read(api, draft.id, "investigator", "zh")["description"] == draft.description
    assert _read(api, draft.id, "investigator")["description"] == english  # the investigator's own language
    listed = api._client.get(f"{EVENTS}?status=draft", headers={**api.headers("qa"), "Accept-Language": "en"})
    assert [e["description"] for e in listed.get_json()["adverse_events"]] == [english]
    auth.login("investigator")
    page = auth._client.get(f"/safety/events/{draft.id}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert f'data-testid="event-description">{english}</dd>' in page
    assert f'<textarea name="description" rows="3">{english}</textarea>' in page  # the assessment form too
    assert ZH not in page


def test_a_reaction_a_nurse_records_in_english_reads_in_chinese_to_a_chinese_investigator(app, api, auth):
    draft = _drafted(app, api, nurse_language="en", description="chills and rigors")
    assert draft.description.startswith(EN) and "life-threatening" in draft.description
    chinese = (f"{ZH} {draft.infusion_id} 结束时记录：chills and rigors（严重程度 危及生命，发生于 2026-11-26 "
               "12:00 UTC+08:00）。")
    assert _read(api, draft.id, "investigator", "zh-CN")["description"] == chinese
    assert _read(api, draft.id, "investigator", "en")["description"] == draft.description
    _chooses(app, "investigator", "zh")
    assert _read(api, draft.id, "investigator")["description"] == chinese
    auth.login("investigator")
    page = auth._client.get(f"/safety/events/{draft.id}").get_data(as_text=True)
    assert f'data-testid="event-description">{chinese}</dd>' in page and EN not in page


def test_a_reaction_without_an_onset_reads_without_one(app, api):
    _chooses(app, "nurse", "zh")
    _, infusion_id, done = safety.infused(app, api, reactions=[{"description": "rash", "severity": "mild"}])
    assert done.status_code == 200, done.get_json()
    with app.app_context():
        draft = db.session().exec(select(AdverseEvent)).one()
    assert draft.description_code == "reaction_draft" and "onset" not in draft.description_values
    assert _read(api, draft.id, "qa", "en")["description"] == f"{EN} {infusion_id}: rash (severity mild)."


def test_a_draft_written_before_the_codes_reads_as_stored_in_every_language(app, api, auth):
    draft = _drafted(app, api, nurse_language="zh")
    with app.app_context():
        db.session().execute(text("UPDATE adverse_events SET description_code = NULL, description_values = NULL"))
        db.commit()
    for language in ("en", "zh"):
        read = _read(api, draft.id, "investigator", language)
        assert (read["description"], read["description_code"]) == (draft.description, None)
    auth.login("investigator")
    page = auth._client.get(f"/safety/events/{draft.id}").get_data(as_text=True)
    assert f'data-testid="event-description">{draft.description}</dd>' in page


def test_the_trail_and_the_signature_bind_the_sentence_as_the_nurse_read_it(app, api, auth):
    draft = _drafted(app, api, nurse_language="zh")
    [drafted] = _entries(app, draft.id)
    new = json.loads(drafted.new_values)
    assert (new["description"], new["description_code"]) == (draft.description, "reaction_draft:onset")
    # The English investigator assesses on the page, sending the description back as the form showed it.
    auth.login("investigator")
    english = _read(api, draft.id, "investigator", "en")["description"]
    form = {"term": TYPED, "category": "infusion_reaction", "description": english, "grade": "1",
            "seriousness": [], "causality": "probable", "expectedness": "expected", "action_taken": "not_changed",
            "outcome": "recovered", "onset_on": safety.today().isoformat(),
            "resolved_on": safety.today().isoformat(), "biopsy_proven": "", "rejection_treatment": "",
            "infusion_id": str(draft.infusion_id)}
    assert auth.post(f"/safety/events/{draft.id}/amend", data=form).status_code == 303
    assert auth.post(f"/safety/events/{draft.id}/confirm", data={
        "signature_username": "investigator", "signature_password": PASSWORD,
        "signature_meaning": "approved"}).status_code == 303
    with app.app_context():
        event = db.session().get(AdverseEvent, draft.id)
        assert (event.status, event.description, event.description_code) == (
            "confirmed", draft.description, "reaction_draft:onset")
    amended = json.loads(_entries(app, draft.id)[1].new_values)
    assert "description" not in amended and "description_code" not in amended
    for language in ("en", "zh"):  # the signed record is unchanged whichever language reads it
        read = _read(api, draft.id, "investigator", language)
        assert read["signature_matches"] is True and read["versions"][-1]["values"]["description"] == \
            draft.description


def test_a_description_the_investigator_retypes_reads_as_typed_for_everyone(app, api):
    draft = _drafted(app, api, nurse_language="zh")
    typed = "rigors 20 minutes after the start, settled with pethidine"
    amended = api.post(f"{EVENTS}/{draft.id}/amend", as_="investigator", json={"description": typed})
    assert amended.status_code == 200, amended.get_json()
    for language in ("en", "zh"):
        read = _read(api, draft.id, "investigator", language)
        assert (read["description"], read["description_code"], read["description_values"]) == (typed, None, None)
    entry = _entries(app, draft.id)[-1]
    assert json.loads(entry.old_values)["description"] == draft.description
    assert json.loads(entry.old_values)["description_code"] == "reaction_draft:onset"
    assert json.loads(entry.new_values)["description_code"] is None


def test_an_unchanged_draft_sent_back_in_the_reader_s_language_keeps_its_code_through_the_api(app, api):
    draft = _drafted(app, api, nurse_language="zh")
    english = _read(api, draft.id, "investigator", "en")["description"]
    answer = api._client.post(f"{EVENTS}/{draft.id}/amend", json={"description": english, "grade": 2},
                              headers={**api.headers("investigator"), "Accept-Language": "en"})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["description"], answer.get_json()["description_code"]) == (english,
                                                                                         "reaction_draft:onset")
    with app.app_context():
        assert db.session().get(AdverseEvent, draft.id).description == draft.description


def test_an_onset_reads_the_same_clock_for_every_reader(app, api):
    onset = datetime.now(UTC) - timedelta(minutes=5)
    _chooses(app, "nurse", "en")
    _, _, done = safety.infused(app, api, reactions=[{"description": "flushing", "severity": "moderate",
                                                      "onset_at": onset.isoformat()}])
    assert done.status_code == 200
    with app.app_context():
        draft = db.session().exec(select(AdverseEvent)).one()
    shown = draft.description_values["onset"]
    assert shown.endswith("UTC+08:00")
    assert shown in _read(api, draft.id, "investigator", "zh")["description"]
    assert shown in _read(api, draft.id, "investigator", "en")["description"]
