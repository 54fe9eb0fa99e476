"""A page form sent twice (a double tap, the back button, a re-sent request, two posts racing) is recorded once,
and every successful post answers 303 with the page that shows its result (docs/rules.md, "Page forms").

Each test reads the form off the page a browser would have, so the submission id is the one the page issued.
"""

from __future__ import annotations

import re
import threading
import time

from sqlmodel import func, select

from cellchain.core import db
from cellchain.core.submissions.models import FormSubmission
from cellchain.manufacturing import bags as bag_operations
from cellchain.manufacturing.models import Bag
from cellchain.quality.models import QcResult
from cellchain.trial.models import Allocation
from cellchain.ward.models import BedsideCheck, CustodyEvent, Infusion
from tests.conftest import PASSWORD, AuthActions
from tests.factories import labels as label_factory
from tests.factories import materials, ward
from tests.factories import trial as trial_factory
from tests.factories.qc import SAMPLED_FORM, make_lot
from tests.factories.security import audit_count
from tests.factories.trial import randomized

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="(csrf_token|submission_id)" value="([^"]+)">')


def rendered_form(client, page_url: str, action: str, query: dict | None = None) -> dict[str, str]:
    """The CSRF token and submission id of the form on ``page_url`` that posts to ``action``, as rendered."""
    page = client.get(page_url, query_string=query)
    assert page.status_code == 200, page.status_code
    for form in _FORM.findall(page.get_data(as_text=True)):
        if f'action="{action}"' in form and 'method="post"' in form:
            return dict(_HIDDEN.findall(form))
    raise AssertionError(f"no form posting to {action} on {page_url}")


def count(app, statement) -> int:
    with app.app_context():
        return db.session().exec(statement).one()


def audit_entries(app) -> int:
    with app.app_context():
        return audit_count(db.session())


def post_twice(client, url: str, data: dict) -> tuple:
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    return first, second


def assert_second_shows_the_first(client, first, second) -> None:
    assert first.status_code == 303, first.get_data(as_text=True)[:2000]
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already sent" in shown and "nothing was recorded again" in shown


def test_placebo_fill_sent_twice_fills_its_bags_once(app, client, auth):
    materials.saline(app, "NSTWICE1")
    auth.login("lab")
    form = rendered_form(client, "/lab/placebo", "/lab/placebo")
    data = {**form, "count": "3", "volume_ml": "50", "saline_lot": "NSTWICE1"}
    first, second = post_twice(client, "/lab/placebo", data)
    assert count(app, select(func.count()).select_from(Bag).where(Bag.saline_lot == "NSTWICE1")) == 3
    assert_second_shows_the_first(client, first, second)


def test_a_repeated_post_writes_no_audit_entry_and_keeps_who_sent_it(app, client, auth):
    materials.saline(app, "NSTWICE2")
    auth.login("lab")
    form = rendered_form(client, "/lab/placebo", "/lab/placebo")
    data = {**form, "count": "1", "volume_ml": "50", "saline_lot": "NSTWICE2"}
    first = client.post("/lab/placebo", data=data)
    entries = audit_entries(app)
    second = client.post("/lab/placebo", data=data)
    assert second.status_code == 303 and audit_entries(app) == entries
    with app.app_context():
        used = db.session().exec(select(FormSubmission).where(
            FormSubmission.submission_id == form["submission_id"])).one()
        assert used.endpoint == "lab.fill_placebo" and used.result_location == first.headers["Location"]
        assert used.user_id == ward.user(db.session(), "lab").id


def test_a_form_without_its_submission_id_is_refused_and_writes_nothing(app, client, auth):
    auth.login("lab")
    form = rendered_form(client, "/lab/placebo", "/lab/placebo")
    refused = client.post("/lab/placebo", data={"csrf_token": form["csrf_token"], "count": "1", "volume_ml": "50",
                                                "saline_lot": "NS-NO-ID"})
    assert refused.status_code == 400 and "submission_id" in refused.get_data(as_text=True)
    assert count(app, select(func.count()).select_from(Bag).where(Bag.saline_lot == "NS-NO-ID")) == 0
    again = rendered_form(client, "/lab/placebo", "/lab/placebo")
    assert again["submission_id"] != form["submission_id"]  # every rendered form gets its own id


def test_another_persons_post_of_a_used_id_is_refused_and_writes_nothing(app, client, auth):
    materials.saline(app, "NSSTOLEN")
    auth.login("lab")
    form = rendered_form(client, "/lab/placebo", "/lab/placebo")
    data = {**form, "count": "1", "volume_ml": "50", "saline_lot": "NSSTOLEN"}
    assert client.post("/lab/placebo", data=data).status_code == 303
    other = app.test_client()
    colleague = AuthActions(other)
    colleague.login("lab2")
    reused = colleague.post("/lab/placebo", {**data, "csrf_token": colleague.csrf()})
    assert reused.status_code == 409 and "submission_reused" in reused.get_data(as_text=True)
    assert count(app, select(func.count()).select_from(Bag).where(Bag.saline_lot == "NSSTOLEN")) == 1


def test_a_refused_post_leaves_its_id_unused_so_the_corrected_form_is_recorded(app, client, auth):
    materials.saline(app, "NSFIX")
    auth.login("lab")
    form = rendered_form(client, "/lab/placebo", "/lab/placebo")
    refused = client.post("/lab/placebo", data={**form, "count": "two", "volume_ml": "50", "saline_lot": "NSFIX"})
    assert refused.status_code == 400
    fixed = client.post("/lab/placebo", data={**form, "count": "2", "volume_ml": "50", "saline_lot": "NSFIX"})
    assert fixed.status_code == 303
    assert count(app, select(func.count()).select_from(Bag).where(Bag.saline_lot == "NSFIX")) == 2


def test_dispatch_sent_twice_dispatches_the_container_once(app, client, auth):
    with app.app_context():
        session = db.session()
        first_bag, second_bag = (ward.bag(session, division=f"{letter}0") for letter in "AB")
        codes = [first_bag.bag_code, second_bag.bag_code]
        db.commit()
    auth.login("lab")
    form = rendered_form(client, "/handover/dispatch", "/handover/dispatch", {"bag": codes})
    data = {**form, "bag": codes, "ship_to": "Ward 5", "location": "Cell processing lab, dispatch",
            "temperature_c": "5", "handed_over_by": "Li Wei", "received_by": "Courier Wu"}
    first, second = post_twice(client, "/handover/dispatch", data)
    dispatched = select(func.count()).select_from(CustodyEvent).where(CustodyEvent.event == "dispatched")
    assert count(app, dispatched) == 2
    assert_second_shows_the_first(client, first, second)


def test_receive_on_the_ward_sent_twice_receives_the_bag_once(app, client, auth):
    with app.app_context():
        session = db.session()
        bag = ward.to_ward(session, ward.bag(session), receive=False)
        db.commit()
    auth.login("nurse")
    form = rendered_form(client, "/ward/", "/ward/receive")
    data = {**form, "scan": ward.bag_2d(bag), "temperature_c": "5.5", "location": "Ward 5", "condition": "intact"}
    first, second = post_twice(client, "/ward/receive", data)
    received = select(func.count()).select_from(CustodyEvent).where(CustodyEvent.item_id == bag.id,
                                                                   CustodyEvent.event == "received_at_ward")
    assert count(app, received) == 1
    assert_second_shows_the_first(client, first, second)


def _checked(app, client, auth) -> tuple[ward.Bedside, str]:
    """A bedside ready to start, checked through the page: the scene and the recorded check's page."""
    with app.app_context():
        made = ward.bedside_ready(db.session())
        db.commit()
    auth.login("nurse")
    form = rendered_form(client, "/ward/bedside", "/ward/bedside/check", {"scan": made.wristband})
    checked = client.post("/ward/bedside/check", data={**form, "wristband": made.wristband, "scan": made.bag_scan})
    assert checked.status_code == 303 and "/ward/bedside/checks/" in checked.headers["Location"]
    return made, checked.headers["Location"]


def _start_data(made: ward.Bedside, form: dict) -> dict:
    return {**form, "wristband": made.wristband, "bag_part": [made.bag_scan], "ultrasound_monitored": "yes",
            "signature_username": "nurse2", "signature_password": PASSWORD, "signature_meaning": "verified"}


def test_infusion_start_sent_twice_starts_one_infusion(app, client, auth):
    made, check_page = _checked(app, client, auth)
    form = rendered_form(client, check_page, "/ward/infusions")
    first, second = post_twice(client, "/ward/infusions", _start_data(made, form))
    assert count(app, select(func.count()).select_from(Infusion).where(Infusion.bag_id == made.bag.id)) == 1
    # The repeat was not a refused start either: no second attempt at the bedside was recorded for it.
    starts = select(func.count()).select_from(BedsideCheck).where(BedsideCheck.purpose == "start")
    assert count(app, starts) == 1
    assert_second_shows_the_first(client, first, second)


def test_going_back_after_the_bedside_check_and_the_start_is_a_get_of_the_recorded_check(app, client, auth):
    made, check_page = _checked(app, client, auth)
    shown = client.get(check_page)  # what the browser shows after the check, and what going back returns to
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "ALL CHECKS PASSED" in page and 'data-check="right_subject"' in page
    assert count(app, select(func.count()).select_from(BedsideCheck)) == 1  # reading it checked nothing again
    started = client.post("/ward/infusions", data=_start_data(made, rendered_form(client, check_page,
                                                                                   "/ward/infusions")))
    assert started.status_code == 303 and "/ward/infusions/" in started.headers["Location"]
    back = client.get(check_page).get_data(as_text=True)
    assert 'data-testid="infused"' in back and 'action="/ward/infusions"' not in back


def test_a_half_scanned_bag_asks_for_the_rest_on_a_get_page(app, client, auth):
    with app.app_context():
        made = ward.bedside_ready(db.session())
        db.commit()
    auth.login("nurse")
    din, _product = ward.linear_scans(made.bag)
    asked = auth.post("/ward/bedside/check", {"wristband": made.wristband, "scan": din})
    assert asked.status_code == 303 and "bag_part=" in asked.headers["Location"]
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Now scan the bag&#39;s product code barcode." in page and 'name="bag_part"' in page
    assert count(app, select(func.count()).select_from(BedsideCheck)) == 0


def test_qc_result_sent_twice_is_recorded_once(app, client, auth):
    with app.app_context():
        lot_id = make_lot(db.session()).lot_number
        db.commit()
    auth.login("qc")
    url = f"/qc/lots/{lot_id}/results"
    form = rendered_form(client, f"/qc/lots/{lot_id}", url)
    first, second = post_twice(client, url, {**form, **SAMPLED_FORM, "test": "viability", "value": "93.5"})
    with app.app_context():
        rows = db.session().exec(select(QcResult).where(QcResult.test_code == "viability")).all()
        assert len([r for r in rows if r.value == "93.5"]) == 1
    assert_second_shows_the_first(client, first, second)


def test_allocation_sent_twice_allocates_the_bag_once(app, client, auth, api):
    subject = randomized(api)
    make_bag = trial_factory.ucmsc_bag if subject["arm"] == "A" else trial_factory.placebo_bag
    with app.app_context():
        bag_code = make_bag(db.session()).bag_code
        db.commit()
    visits = api.get(f"/api/v1/subjects/{subject['subject_id']}/visits", as_="coordinator").get_json()["visits"]
    visit_id = next(v["visit_id"] for v in visits if (v["week"], v["kind"]) == (0, "infusion"))
    auth.login("coordinator")
    url = f"/trial/visits/{visit_id}/allocation"
    form = rendered_form(client, f"/trial/subjects/{subject['subject_id']}", url)
    first, second = post_twice(client, url, {**form, "scan": bag_code, "weight_kg": "70"})
    assert count(app, select(func.count()).select_from(Allocation).where(Allocation.visit_id == visit_id)) == 1
    assert_second_shows_the_first(client, first, second)


def test_two_posts_of_one_form_racing_write_once_and_neither_is_a_500(app, auth, monkeypatch):
    """Both posts reach the server together (two workers): the first holds its transaction open while the second
    claims the same id. On PostgreSQL the second's insert waits on the first's unique entry, then finds it; on
    SQLite the second waits for the one writer. Either way one fill, and the second sees the first's result."""
    materials.saline(app, "NSRACE")
    browsers = []
    for _ in range(2):
        browser = app.test_client()
        AuthActions(browser).login("lab")
        browsers.append(browser)
    form = rendered_form(browsers[0], "/lab/placebo", "/lab/placebo")
    data = {**form, "count": "2", "volume_ml": "50", "saline_lot": "NSRACE"}
    data2 = {**data, "csrf_token": rendered_form(browsers[1], "/lab/placebo", "/lab/placebo")["csrf_token"]}
    real_fill = bag_operations.fill_placebo

    def slow_fill(*args, **kwargs):
        filled = real_fill(*args, **kwargs)
        time.sleep(0.5)  # the write is done, its transaction still open: the other post arrives now
        return filled

    monkeypatch.setattr(bag_operations, "fill_placebo", slow_fill)
    start, answers = threading.Barrier(2), {}

    def send(n: int, body: dict) -> None:
        start.wait()
        try:
            answers[n] = browsers[n].post("/lab/placebo", data=body)
        except Exception as error:  # under TESTING an unhandled error is raised: that would be the 500
            answers[n] = error

    threads = [threading.Thread(target=send, args=(n, body)) for n, body in enumerate((data, data2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert count(app, select(func.count()).select_from(Bag).where(Bag.saline_lot == "NSRACE")) == 2
    statuses = sorted(getattr(a, "status_code", 500) for a in answers.values())
    assert statuses in ([303, 303], [303, 409]), answers
    locations = {a.headers["Location"] for a in answers.values() if a.status_code == 303}
    assert len(locations) == 1
    assert count(app, select(func.count()).select_from(FormSubmission).where(
        FormSubmission.submission_id == form["submission_id"])) == 1


def test_a_label_print_sent_twice_prints_once_and_the_repeat_opens_the_print_page(app, client, auth):
    with app.app_context():
        lot_id = label_factory.lot(db.session()).lot_number
        db.commit()
    auth.login("lab")
    page = f"/labels/print/vessel/{lot_id}"
    form = rendered_form(client, page, page)
    data = {**form, "passage": "1", "vessels": "2", "format": "zpl"}
    printed, again = post_twice(client, page, data)
    assert printed.status_code == 200 and printed.get_data(as_text=True).count("^XA") == 2
    with app.app_context():
        assert len(db.session().exec(label_factory.select_prints()).all()) == 2
    assert again.status_code == 303 and again.headers["Location"].endswith(page)
    assert "already sent" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_only_a_nurse_opens_a_recorded_bedside_check(app, client, auth):
    _made, check_page = _checked(app, client, auth)
    for username in ("lab", "coordinator", "qa", "auditor"):
        other = app.test_client()
        AuthActions(other).login(username)
        assert other.get(check_page).status_code == 403, username
    nurse2 = app.test_client()
    AuthActions(nurse2).login("nurse2")
    assert nurse2.get(check_page).status_code == 200
    assert nurse2.get("/ward/bedside/checks/999999").status_code == 404
