"""A notice is worded in its recipient's language (docs/architecture.md, "Languages"): an investigator who
reads Chinese gets a recall's notice in Chinese, QA reading English the same notice in English."""

from __future__ import annotations

from sqlalchemy import update

from cellchain.core import db
from cellchain.people.models import User
from tests.quality import recall_scene
from tests.quality.test_item_holds import _place


def test_a_recall_notice_is_worded_in_each_recipients_language(app, api):
    tree = recall_scene.build(app, api)
    with app.app_context():
        db.session().exec(update(User).where(User.username == "investigator").values(language="zh"))
        db.commit()
    assert _place(api, "bank", tree.mcb, recall=True).status_code == 201
    (chinese,) = api.get("/api/v1/inbox", as_="investigator").get_json()["notices"]
    (english,) = api.get("/api/v1/inbox", as_="qa").get_json()["notices"]
    assert chinese["subject"].startswith(f"召回 细胞库 {tree.mcb}：") and "召回回溯：" in chinese["body"]
    assert "必须通知主治医生" in chinese["body"] and tree.infused.subject.subject_code in chinese["body"]
    assert english["subject"].startswith(f"RECALL of cell bank {tree.mcb}: ")
    assert "RECALL look-back:" in english["body"] and "召回" not in english["body"]
