"""The bedside page checks a bag with the same work as the API's check: the wristband is read once."""

from __future__ import annotations

import re

from cellchain.core import db
from tests.factories import ward
from tests.factories.queries import counting

SUBJECTS = re.compile(r"\bFROM subjects\b|\bJOIN subjects\b", re.I)


def test_a_bedside_check_on_the_page_reads_the_subject_once_and_records_one_attempt(app, auth):
    with app.app_context():
        made = ward.bedside_ready(db.session())
        db.commit()
    auth.login("nurse")
    token = auth.csrf()
    with counting(app) as seen:
        posted = auth.post("/ward/bedside/check", {"wristband": made.wristband, "scan": made.bag_scan,
                                                   "csrf_token": token})
    page = auth._client.get(posted.headers["Location"])
    assert page.status_code == 200 and 'data-check="right_subject"' in page.get_data(as_text=True)
    assert len([s for s in seen if SUBJECTS.search(s)]) == 1, seen
    assert len([s for s in seen if s.lstrip().upper().startswith("INSERT INTO BEDSIDE_CHECKS")]) == 1, seen
