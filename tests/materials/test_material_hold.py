"""A material lot found bad later (a platelet lysate lot whose donors' tests came back positive) is held by QA,
and the hold stops everything made with it while it stands: the release of a lot that used it, every lot thawed
from a bank frozen from such a lot, and their bags at allocation, dispatch and the bedside, each refused by
name; lifting the hold lets them through again (docs/rules.md, "Quality: holds")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from cellchain.core import db
from cellchain.manufacturing.models import Lot
from cellchain.materials import usage
from cellchain.overview import alerts
from cellchain.quality import release_gaps
from cellchain.trial.models import Visit
from tests.conftest import signature
from tests.factories import qc as qc_factory
from tests.factories import ward
from tests.factories.lab import in_db, user
from tests.materials.scene import material, received
from tests.quality import recall_scene
from tests.ward.test_bedside_pages import check_page, failed_checks

HOLDS = "/api/v1/holds"
VERIFY = "/api/v1/infusions/verify"
CAUSE = "supplier recall: a donor of the pool HIV NAT reactive"


def _used_in(app, lot_number: str | None, supplier_lot: str, *, kind: str = "platelet_lysate",
             din: str | None = None) -> str:
    """A released material lot, used in the lot ``lot_number`` (or as the saline of the placebo fill ``din``)."""
    with in_db(app) as session:
        product = material(session, kind, name="Human platelet lysate" if kind == "platelet_lysate" else "NaCl 0.9%",
                           origin=kind == "platelet_lysate")
        found = received(session, product, supplier_lot)
        lot = session.exec(select(Lot).where(Lot.lot_number == lot_number)).one() if lot_number else None
        usage.record_use(session, actor=user(session, "lab"), material_lot=found, quantity=20.0, unit="ml",
                         used_at=datetime.now(UTC) - timedelta(days=5), role="step" if lot else "saline",
                         lot_id=lot.id if lot else None, din=din, lot_number=lot_number)
        return found.code


def _hold(api, code: str) -> int:
    placed = api.post(HOLDS, as_="qa", json={"item_kind": "material_lot", "item_id": code, "reason": CAUSE,
                                             "signature": signature("qa", "approved")})
    assert placed.status_code == 201, placed.get_json()
    return placed.get_json()["id"]


def _lift(api, hold_id: int) -> None:
    lifted = api.post(f"{HOLDS}/{hold_id}/lift", as_="qa", json={"signature": signature("qa", "approved"),
                                                                  "reason": "the pool's donor retested negative"})
    assert lifted.status_code == 200, lifted.get_json()


def _failed(api, scene: ward.Bedside) -> dict[str, dict]:
    verify = api.post(VERIFY, as_="nurse", json={"wristband": scene.wristband, "bag": scene.bag_scan})
    return {c["name"]: c for c in verify.get_json()["checks"] if not c["ok"]}


def _codes(response) -> dict[str, str]:
    return {r["code"]: r["message"] for r in (response.get_json() or {}).get("reasons", [])}


def _unusable_allocated(app) -> int:
    with app.app_context():
        return alerts.unusable_allocated(db.session(), today=ward.site_today(), zone=ward.TZ)


def test_a_bag_whose_lot_used_a_held_platelet_lysate_lot_is_refused_by_name_until_the_hold_is_lifted(app, api):
    tree = recall_scene.build(app, api)
    code = _used_in(app, tree.dosing, "HPL-26-07")
    with app.app_context():  # planned within the bag's shelf life, so nothing else makes the bag unusable
        visit = db.session().get(Visit, tree.at_bedside.visit.id)
        visit.planned_at = datetime.now(UTC) + timedelta(hours=1)
        db.session().add(visit)
        db.commit()
    unusable = _unusable_allocated(app)
    hold_id = _hold(api, code)
    assert _unusable_allocated(app) == unusable + 1  # the coordinator's alert: the bag allocated for today
    allocation = api.post(f"/api/v1/visits/{tree.visit_id}/allocation", as_="coordinator",
                          json={"bag_id": tree.shelf, "weight_kg": 70.0})
    assert allocation.status_code == 409
    message = _codes(allocation)["made_with_held_material"]
    assert f"bag {tree.shelf} was made with material lot {code}, ON HOLD (hold {hold_id})" in message
    assert CAUSE in message
    assert api.post("/api/v1/custody", as_="lab", json={"item": tree.shelf, "event": "stored",
                                                        "location": "Cell processing lab"}).status_code == 201
    dispatch = api.post("/api/v1/custody", as_="lab", json={"item": tree.shelf, "event": "dispatched",
                                                            "location": "Cell processing lab, dispatch",
                                                            "temperature_c": 4.5})
    assert dispatch.status_code == 409 and "made_with_held_material" in _codes(dispatch)
    failed = _failed(api, tree.at_bedside)
    assert set(failed) == {"lot_not_on_hold"}
    assert failed["lot_not_on_hold"]["code"] == "made_with_held_material"
    assert f"material lot {code}, ON HOLD (hold {hold_id})" in failed["lot_not_on_hold"]["detail"]
    assert "lot_not_on_hold" not in _failed(api, tree.other)  # another cord's bag, not made with it

    _lift(api, hold_id)
    assert _failed(api, tree.at_bedside) == {} and _unusable_allocated(app) == unusable
    again = api.post(f"/api/v1/visits/{tree.visit_id}/allocation", as_="coordinator",
                     json={"bag_id": tree.shelf, "weight_kg": 70.0})
    assert "made_with_held_material" not in _codes(again)


def test_a_hold_on_a_material_lot_of_the_master_bank_reaches_every_lot_thawed_below_it(app, api):
    tree = recall_scene.build(app, api)
    code = _used_in(app, tree.mcb_lot, "HPL-26-08")
    _hold(api, code)
    assert "made_with_held_material" in {c["code"] for c in _failed(api, tree.at_bedside).values()}
    with app.app_context():
        session = db.session()
        lots = {lot.lot_number: lot for lot in session.exec(select(Lot).where(Lot.lot_number.in_(
            [tree.mcb_lot, tree.wcb_lot, tree.dosing2])))}
        gaps = release_gaps.gaps_of(session, list(lots.values()))
        for number, lot in lots.items():
            named = [g for g in gaps[lot.id] if g.code == "made_with_held_material"]
            assert len(named) == 1 and f"lot {number} was made with material lot {code}" in named[0].message


def test_a_lot_made_with_a_held_material_lot_is_not_released_until_the_hold_is_lifted(app, api):
    with in_db(app) as session:
        lot = qc_factory.make_lot(session, n=71)
        qc_factory.add_results(session, lot)
        number = lot.lot_number
        assert release_gaps.of_lot(session, lot) == []
    code = _used_in(app, number, "HPL-26-09")
    hold_id = _hold(api, code)
    refused = api.post(f"/api/v1/lots/{number}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert refused.status_code == 409
    codes = _codes(refused)
    assert set(codes) == {"made_with_held_material"}  # said once: not again as a material lot invalid when used
    assert f"lot {number} was made with material lot {code}, ON HOLD (hold {hold_id})" in codes[
        "made_with_held_material"]
    _lift(api, hold_id)
    released = api.post(f"/api/v1/lots/{number}/release", as_="qa", json={"signature": signature("qa", "released")})
    assert released.status_code == 200, released.get_json()


def test_a_placebo_bag_filled_with_a_held_saline_lot_is_stopped_at_the_bedside_in_both_languages(app, api, auth):
    with in_db(app) as session:
        scene = ward.bedside_ready(session, kind="placebo", arm="B")
        din = scene.bag.din
    code = _used_in(app, None, "NS-26-11", kind="saline", din=din)
    hold_id = _hold(api, code)
    failed = _failed(api, scene)
    assert set(failed) == {"lot_not_on_hold"} and f"material lot {code}" in failed["lot_not_on_hold"]["detail"]
    auth.login("nurse")
    html = check_page(auth, scene.wristband, scene.bag_scan).get_data(as_text=True)
    assert failed_checks(html) == ["lot_not_on_hold"]
    assert f"was made with material lot {code}, ON HOLD (hold {hold_id})" in html
    assert auth.post("/auth/language", {"language": "zh"}).status_code == 303
    html = check_page(auth, scene.wristband, scene.bag_scan).get_data(as_text=True)
    assert f"使用了已暂扣的 物料批 {code}（暂扣 {hold_id}）" in html and "was made with" not in html
