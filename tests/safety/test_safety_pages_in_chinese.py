"""An investigator who reads Chinese records and reads adverse events in Chinese (docs/architecture.md,
"Languages")."""

from __future__ import annotations

from sqlmodel import select

from cellchain.core import db
from cellchain.safety.models import AdverseEvent
from tests.factories import safety
from tests.safety.test_safety_pages import FORM


def test_an_investigator_reading_chinese_records_and_reads_an_event_in_chinese(app, auth):
    code = safety.subject_code(app)
    auth.login("investigator")
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    form = auth._client.get(f"/safety/subjects/{code}/new").get_data(as_text=True)
    assert "新建不良事件" in form and "急性排斥反应（特别关注事件）" in form and "Category" not in form
    refused = auth.post(f"/safety/subjects/{code}/events", data={**FORM, "onset_on": "2999-01-01"})
    assert refused.status_code in (400, 409) and "在将来" in refused.get_data(as_text=True)
    made = auth.post(f"/safety/subjects/{code}/events", data={**FORM, "onset_on": safety.today().isoformat()})
    assert made.status_code == 303, made.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session().exec(select(AdverseEvent)).one()
    page = auth._client.get(f"/safety/events/{event.id}").get_data(as_text=True)
    assert "不良事件" in page and "严重" in page and "需要住院治疗或延长住院时间" in page
    assert "确认：评估该事件并签名" in page and "SERIOUS" not in page
    listing = auth._client.get("/safety/").get_data(as_text=True)
    assert "按组别汇总" in listing and "列表" in listing
    assert auth._client.get("/safety/listing.pdf").status_code == 200
