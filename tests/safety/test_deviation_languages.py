"""A deviation the system opens reads in each reader's language: written once as a code and values, worded
when shown (docs/architecture.md, "Languages"); what a person typed stays as typed."""

from __future__ import annotations

from sqlalchemy import text

from cellchain.core import db
from tests.factories import ward
from tests.safety.test_clinical_deviations import REGISTER, START, deviations, scene_with_visit, start_body

REASON = "the subject was readmitted to another hospital"
MISSED_ZH = "周输注访视（窗口期"
MISSED_EN = "infusion visit (window"


def _chooses(app, username: str, language: str) -> None:
    with app.app_context():
        db.session().execute(text("UPDATE users SET language = :language WHERE username = :username"),
                             {"language": language, "username": username})
        db.commit()


def _missed(app, api) -> int:
    scene = scene_with_visit(app)
    marked = api.post(f"/api/v1/visits/{scene.visit.id}/missed", as_="coordinator", json={"reason": REASON})
    assert marked.status_code == 200, marked.get_json()
    return marked.get_json()["clinical_deviation_id"]


def test_a_deviation_opened_by_an_english_reader_reads_chinese_to_a_chinese_investigator(app, api):
    deviation_id = _missed(app, api)
    [row] = deviations(app)
    assert MISSED_EN in row.description and row.description_code == "missed_visit:infusion"
    _chooses(app, "investigator", "zh")
    read = api.get(f"{REGISTER}/{deviation_id}", as_="investigator").get_json()
    assert MISSED_ZH in read["description"] and REASON in read["description"]  # the typed reason as typed
    assert read["description_code"] == "missed_visit:infusion" and read["description_values"]["reason"] == REASON
    assert MISSED_EN in api.get(f"{REGISTER}/{deviation_id}", as_="qa").get_json()["description"]


def test_the_register_page_words_the_deviation_in_the_reader_s_language(app, api, client, auth):
    deviation_id = _missed(app, api)
    _chooses(app, "investigator", "zh")
    auth.login("investigator")
    assert MISSED_ZH in client.get(f"/safety/deviations/{deviation_id}").get_data(as_text=True)
    assert MISSED_ZH in client.get("/safety/deviations").get_data(as_text=True)
    auth.logout()
    auth.login("qa")
    page = client.get(f"/safety/deviations/{deviation_id}").get_data(as_text=True)
    assert MISSED_EN in page and MISSED_ZH not in page


def test_a_bedside_refusal_s_deviation_words_the_refused_check_in_the_reader_s_language(app, api):
    scene = scene_with_visit(app)
    with app.app_context():
        other = ward.subject(db.session())
        db.commit()
        other_wristband = ward.wristband(other)
    assert api.post(START, as_="nurse", json={**start_body(scene), "wristband": other_wristband}).status_code == 409
    [row] = deviations(app)
    assert "WRONG PATIENT" in row.description
    _chooses(app, "investigator", "zh")
    read = api.get(f"{REGISTER}/{row.id}", as_="investigator").get_json()["description"]
    assert "床旁核对拒绝了" in read and "患者错误" in read and "WRONG PATIENT" not in read


def test_a_deviation_a_person_typed_reads_as_typed_in_every_language(app, api):
    scene = scene_with_visit(app)
    typed = "week 0 infusion postponed: intensive care"
    opened = api.post(REGISTER, as_="coordinator", json={"subject_id": scene.subject.subject_code, "kind": "other",
                                                         "description": typed})
    assert opened.status_code == 201, opened.get_json()
    _chooses(app, "investigator", "zh")
    read = api.get(f"{REGISTER}/{opened.get_json()['id']}", as_="investigator").get_json()
    assert (read["description"], read["description_code"]) == (typed, None)
