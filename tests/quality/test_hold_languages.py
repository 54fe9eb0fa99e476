"""A hold raised and a deviation opened by a late out-of-specification result read in each reader's language:
the software writes their cause and description once as a code and values (docs/architecture.md,
"Languages"); a nurse stopped at the bedside reads the hold's cause in hers."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from cellchain.core import db
from cellchain.quality.models import Deviation, Hold
from tests.quality.test_holds import VERIFY, held  # noqa: F401 - the scene of a lot held after release

CAUSE_EN = "after release is positive (limit negative)"
CAUSE_ZH = "放行后结果"
OOS_ZH = "超标结果"


def _chooses(app, username: str, language: str) -> None:
    with app.app_context():
        db.session().execute(text("UPDATE users SET language = :language WHERE username = :username"),
                             {"language": language, "username": username})
        db.commit()


def test_a_hold_raised_by_an_english_reader_s_result_reads_chinese_to_chinese_readers(app, api, held):  # noqa: F811
    with app.app_context():
        hold = db.session().exec(select(Hold)).one()
        deviation = db.session().exec(select(Deviation)).one()
    assert CAUSE_EN in hold.cause and hold.cause_code == "result_after_release"
    assert deviation.description_code == "oos_result" and "OUT OF SPECIFICATION" in deviation.description
    _chooses(app, "qa", "zh")
    shown = api.get(f"/api/v1/holds/{hold.id}", as_="qa").get_json()
    assert CAUSE_ZH in shown["cause"] and shown["cause_code"] == "result_after_release"
    assert OOS_ZH in api.get(f"/api/v1/deviations/{deviation.number}", as_="qa").get_json()["description"]
    english = api.get(f"/api/v1/holds/{hold.id}", as_="investigator").get_json()["cause"]
    assert CAUSE_EN in english and CAUSE_ZH not in english
    _chooses(app, "nurse", "zh")
    scene = held.at_bedside
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan}).get_json()
    assert verify["ok"] is False
    assert any(CAUSE_ZH in check["detail"] for check in verify["checks"] if not check["ok"])


def test_the_hold_and_deviation_pages_word_the_cause_in_the_reader_s_language(app, client, auth, held):  # noqa: F811
    with app.app_context():
        hold = db.session().exec(select(Hold)).one()
        number = db.session().exec(select(Deviation)).one().number
    _chooses(app, "qa", "zh")
    auth.login("qa")
    assert CAUSE_ZH in client.get(f"/qa/holds/{hold.id}").get_data(as_text=True)
    assert OOS_ZH in client.get(f"/qa/deviations/{number}").get_data(as_text=True)
