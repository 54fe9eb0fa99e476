"""Frozen bags: months of frozen shelf life, a recorded thaw that sets hours of shelf life and prints the new
label, and a bedside that takes only that label for a thawed bag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.identifiers.scans import parse_scan
from cellchain.manufacturing.models import Bag, LabelPrint
from cellchain.ward.models import CustodyEvent
from tests.factories import materials, ward
from tests.factories.lab import formulated_lot, in_db, iso

VERIFY = "/api/v1/infusions/verify"
FILL = {"count": 2, "volume_ml": 70, "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A"}


def frozen_bedside(app, *, received_minutes_ago: int = 30) -> ward.Bedside:
    """The all-pass bedside, but with a cryopreserved bag (frozen a day ago, 180 days of frozen shelf life)
    stored, shipped and received on the ward in liquid-nitrogen vapour and allocated, not yet thawed."""
    with app.app_context():
        session = db.session()
        who = ward.subject(session, arm="A")
        frozen_at = datetime.now(UTC) - timedelta(days=1)
        item = ward.bag(session, expires_at=frozen_at + timedelta(days=180))
        item.preservation, item.frozen_at, item.frozen_expires_at = "cryopreserved", frozen_at, item.expires_at
        session.add(item)
        session.flush()
        ward.hand_over(session, item, "stored", minutes_ago=received_minutes_ago + 20, temperature_c=-180.0)
        ward.hand_over(session, item, "dispatched", minutes_ago=received_minutes_ago + 10, temperature_c=-175.0)
        ward.hand_over(session, item, "received_at_ward", by="nurse", minutes_ago=received_minutes_ago,
                       location=ward.WARD, temperature_c=-170.0)
        visit = ward.infusion_visit(session, who)
        scene = ward.Bedside(who, item, visit, ward.allocate(session, item, visit, who))
        db.commit()
        return scene


def checks(response) -> dict[str, dict]:
    assert response.status_code == 200, response.get_json()
    return {c["name"]: c for c in response.get_json()["checks"]}


def failing(response) -> set[str]:
    return {name for name, c in checks(response).items() if not c["ok"]}


def test_a_cryopreserved_fill_makes_bags_that_expire_in_months_not_hours(app, api):
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        lot_id = formulated_lot(session).lot_number
    frozen_at = datetime.now(UTC) - timedelta(hours=2)
    response = api.post(f"/api/v1/lots/{lot_id}/bags", as_="lab",
                        json={**FILL, "preservation": "cryopreserved", "filled_at": iso(frozen_at - timedelta(hours=1)),
                              "frozen_at": iso(frozen_at)})
    assert response.status_code == 201, response.get_json()
    for bag in response.get_json()["bags"]:
        expected = (frozen_at + timedelta(days=180)).replace(second=0, microsecond=0)
        assert bag["preservation"] == "cryopreserved" and bag["thawed_at"] is None
        assert bag["expires_at"] == bag["frozen_expires_at"] == expected.strftime("%Y-%m-%dT%H:%M:00.000000Z")
    fresh = api.post(f"/api/v1/lots/{formulated_lot_id(app)}/bags", as_="lab", json=FILL).get_json()["bags"][0]
    assert fresh["preservation"] == "fresh" and fresh["frozen_expires_at"] is None


def formulated_lot_id(app) -> str:
    with in_db(app) as session:
        materials.released(session, FILL["anticoagulant_lot"])
        return formulated_lot(session).lot_number


def test_thawing_sets_the_thawed_expiry_and_prints_a_new_label_whose_2d_code_carries_it(app, api):
    scene = frozen_bedside(app)
    response = api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="nurse", json={})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    thawed_at = datetime.fromisoformat(body["thawed_at"])
    expected = (thawed_at + timedelta(hours=4)).replace(second=0, microsecond=0)
    assert datetime.fromisoformat(body["expires_at"]) == expected
    assert body["custody_state"] == "at_ward"
    read = parse_scan(body["label_2d"], tz=ward.TZ)
    assert read.fields["bag_id"] == scene.bag.bag_code and read.fields["expires_at"] == expected.astimezone(ward.TZ)
    pdf = api.get(body["label_pdf"], as_="nurse")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    zpl = api.get(body["label_zpl"], as_="nurse")
    assert zpl.status_code == 200 and b"^XA" in zpl.data
    with in_db(app) as session:
        label = session.exec(select(LabelPrint).where(LabelPrint.id == body["label_id"])).one()
        assert label.label_kind == "thawed_bag" and label.item_key == scene.bag.bag_code and not label.reprint
        assert "THAWED" in label.content["storage_temperature"]
        event = session.exec(select(CustodyEvent).where(CustodyEvent.item_type == "bag",
                                                        CustodyEvent.item_id == scene.bag.id)
                             .order_by(CustodyEvent.id.desc())).first()
        assert (event.event, event.from_state, event.to_state) == ("thawed", "at_ward", "at_ward")
        audit = session.exec(select(AuditEntry).where(AuditEntry.record_type == "bag", AuditEntry.action == "thaw",
                                                      AuditEntry.record_id == str(scene.bag.id))).one()
        assert audit.actor == "nurse" and "expires_at" in audit.new_values


def test_a_bag_is_thawed_once_and_a_fresh_bag_never(app, api):
    scene = frozen_bedside(app)
    assert api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="nurse", json={}).status_code == 201
    again = api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="nurse", json={})
    assert again.status_code == 409 and [r["code"] for r in again.get_json()["reasons"]] == ["bag_already_thawed"]
    fresh = ward.bedside_ready  # the all-pass bedside's bag is fresh
    with app.app_context():
        bag = fresh(db.session()).bag
        db.commit()
    refused = api.post(f"/api/v1/bags/{bag.bag_code}/thaw", as_="nurse", json={})
    assert refused.status_code == 409 and [r["code"] for r in refused.get_json()["reasons"]] == ["bag_not_frozen"]


def test_the_bedside_refuses_a_frozen_bag_not_yet_thawed_by_name(app, api):
    scene = frozen_bedside(app)
    response = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    assert failing(response) == {"bag_thawed", "thaw_label_scanned"}
    assert "bag_not_thawed" in checks(response)["bag_thawed"]["detail"]


def test_the_bedside_accepts_the_post_thaw_label_and_refuses_the_frozen_label_and_a_keyed_id(app, api):
    scene = frozen_bedside(app)
    frozen_label = scene.bag_scan
    thawed = api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="nurse", json={}).get_json()
    new_label = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": thawed["label_2d"]})
    assert new_label.get_json()["ok"] is True, failing(new_label)
    old_label = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": frozen_label})
    assert failing(old_label) == {"thaw_label_scanned"}
    assert "thaw_label_required" in checks(old_label)["thaw_label_scanned"]["detail"]
    keyed = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag.bag_code})
    assert failing(keyed) == {"thaw_label_scanned"}
    # the frozen label's expiry and the record's, each on the site's clock with its offset
    assert checks(old_label)["thaw_label_scanned"]["detail"].count(" UTC+08:00") == 2
    started = api.post("/api/v1/infusions", as_="nurse", json={"wristband": scene.wristband, "bag": frozen_label,
                                                                "verifier": {"username": "nurse2",
                                                                             "password": "cellchain-demo",
                                                                             "meaning": "verified"}})
    assert started.status_code == 409
    assert "thaw_label_scanned" in [r["code"] for r in started.get_json()["reasons"]]


def test_a_thawed_bag_past_its_thawed_expiry_is_refused_at_the_bedside(app, api):
    scene = frozen_bedside(app, received_minutes_ago=150)
    app.config["THAWED_SHELF_LIFE_HOURS"] = 2
    thawed_at = datetime.now(UTC) - timedelta(minutes=140)
    thawed = api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="nurse", json={"thawed_at": iso(thawed_at)})
    assert thawed.status_code == 201, thawed.get_json()
    response = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": thawed.get_json()["label_2d"]})
    assert failing(response) == {"not_expired"}
    assert "EXPIRED" in checks(response)["not_expired"]["detail"]


def test_the_thawed_expiry_is_never_later_than_the_frozen_expiry(app, api):
    scene = frozen_bedside(app)
    with in_db(app) as session:
        bag = session.get(Bag, scene.bag.id)
        bag.frozen_expires_at = bag.expires_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
        session.add(bag)
        frozen_expiry = bag.frozen_expires_at.replace(second=0)
    body = api.post(f"/api/v1/bags/{scene.bag.bag_code}/thaw", as_="lab", json={}).get_json()
    assert datetime.fromisoformat(body["expires_at"]) == frozen_expiry


def test_a_nurse_thaws_a_bag_on_the_thaw_page_and_prints_its_new_label(app, client, auth):
    scene = frozen_bedside(app)
    auth.login("nurse")
    assert 'name="scan"' in client.get("/ward/thaw").get_data(as_text=True)
    response = auth.post("/ward/thaw", {"scan": scene.bag_scan})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/ward/thaw/{scene.bag.bag_code}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    with in_db(app) as session:
        bag = session.get(Bag, scene.bag.id)
        label = session.exec(select(LabelPrint).where(LabelPrint.label_kind == "thawed_bag",
                                                      LabelPrint.item_key == bag.bag_code)).one()
    assert bag.thawed_at is not None and 'data-testid="thawed-expiry"' in page
    pdf = client.get(f"/ward/thaw/labels/{label.id}?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    again = auth.post("/ward/thaw", {"scan": scene.bag_scan})
    assert again.status_code == 409 and "bag_already_thawed" in again.get_data(as_text=True)


def _frozen_bag(app) -> str:
    """A bag of the ward factory made cryopreserved, frozen when filled and good for 180 days: its code."""
    with app.app_context():
        session = db.session()
        item = ward.bag(session, expires_at=datetime.now(UTC) + timedelta(days=180))
        item.preservation, item.frozen_at, item.frozen_expires_at = "cryopreserved", item.filled_at, item.expires_at
        session.add(item)
        db.commit()
        return item.bag_code


def test_a_frozen_bag_is_judged_by_the_frozen_range_until_its_thaw(app, api):
    code = _frozen_bag(app)
    stored = api.post("/api/v1/custody", as_="lab", json={"item": code, "event": "stored", "location": "LN2 tank 2",
                                                          "temperature_c": -180})
    assert stored.status_code == 201 and stored.get_json()["event"]["excursion"] is False
    warm = api.post("/api/v1/custody", as_="lab", json={"item": code, "event": "dispatched", "location": "dispatch",
                                                        "temperature_c": 4})
    assert warm.status_code == 201 and warm.get_json()["event"]["excursion"] is True


def test_the_lab_chooses_cryopreserved_on_the_fill_page_and_the_bag_page_says_so(app, client, auth):
    lot_id = formulated_lot_id(app)
    auth.login("lab")
    filled = auth.post(f"/lab/lots/{lot_id}/bags", {"count": "1", "volume_ml": "70", "preservation": "cryopreserved",
                                                    "anticoagulant": "heparin", "anticoagulant_lot": "HEP2611A"})
    assert filled.status_code == 303
    with in_db(app) as session:
        bag = session.exec(select(Bag).where(Bag.din == lot_id)).one()
        assert bag.preservation == "cryopreserved" and bag.expires_at - bag.frozen_at > timedelta(days=179)
        assert bag.total_cells == 70_000_000
    page = client.get(f"/lab/bags/{bag.bag_code}").get_data(as_text=True)
    assert "cryopreserved, frozen" in page


def test_a_lab_thaw_with_no_place_typed_reads_as_the_lab_in_chinese_on_the_bag_page(app, api, client, auth):
    code = _frozen_bag(app)
    assert api.post(f"/api/v1/bags/{code}/thaw", as_="lab", json={}).status_code == 201
    # an event holding the lab's default in English words, as thaws stored it before it was kept as a code
    sent = api.post("/api/v1/custody", as_="lab", json={"item": code, "event": "dispatched",
                                                        "location": "cell processing lab", "temperature_c": 20})
    assert sent.status_code == 201, sent.get_json()
    with in_db(app) as session:
        thawed = session.exec(select(CustodyEvent).where(CustodyEvent.event == "thawed")).one()
        assert thawed.location == "cell_processing_lab"
    auth.login("lab")
    in_lab = client.get(f"/lab/bags/{code}").get_data(as_text=True).count("<td>cell processing lab</td>")
    assert in_lab >= 2  # the thaw and the dispatch at least
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    page = client.get(f"/lab/bags/{code}").get_data(as_text=True)
    assert page.count("<td>细胞制备实验室</td>") == in_lab
    assert "cell processing lab" not in page.lower() and "cell_processing_lab" not in page
