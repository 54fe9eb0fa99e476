"""Bags the test factories make as rows are filled from released material lots the way the lab's fill records
it, so a look-back from a heparin or saline lot lists them and the batch record shows the lot at the fill step,
as for bags the app made (tests/factories/materials.py:filled_from; docs/rules.md, "Materials")."""

from __future__ import annotations

from cellchain.manufacturing import batch
from cellchain.quality.recall import lookback
from tests.factories import lab, labels, materials, qc, trial, ward


def _bags_reached(session, supplier_lot: str, kind: str = "anticoagulant") -> set[str]:
    found = lookback.lookback(session, "material_lot", materials.released(session, supplier_lot, kind).code)
    return {item.code for item in found.items if item.kind == "bag"}


def test_a_look_back_from_a_factory_bags_material_lot_lists_exactly_the_bags_filled_from_it(app):
    with lab.in_db(app) as session:
        filled = lab.formulated_lot(session)
        lab_bags = {lab.make_bag(session, filled, d).bag_code for d in ("A0", "B0")}
        ucmsc = {trial.ucmsc_bag(session).bag_code, trial.ucmsc_bag(session).bag_code}
        placebo = {trial.placebo_bag(session).bag_code}
        assert _bags_reached(session, "HEP1") == lab_bags
        assert _bags_reached(session, "HEP-2611") == ucmsc
        assert _bags_reached(session, "NS-26-0415", "saline") == placebo


def test_a_factory_lots_batch_record_shows_its_heparin_at_the_fill_and_its_look_back_lists_its_bags(app):
    # Each factory numbers its own DINs; these three keep apart (lab's and ward's ranges meet, as do trial's and
    # the issued ones of labels), so they share this database and the other test holds lab's and trial's.
    with lab.in_db(app) as session:
        ward_bags = {ward.bag(session).bag_code, ward.bag(session, kind="placebo").bag_code}
        qc_lot = qc.make_lot(session, n=700, bags=3)
        label_bags = {b.bag_code for b in labels.bags(session, labels.lot(session), 2)}
        label_placebo = labels.placebo_bag(session).bag_code
        assert _bags_reached(session, "ACD2611") == label_bags
        assert _bags_reached(session, "NS260415", "saline") == {label_placebo}
        assert len(_bags_reached(session, "HEP-2026-01")) == 3
        assert _bags_reached(session, "HEP-2611") | _bags_reached(session, "NS-26-0415", "saline") == ward_bags
        record = batch.batch_record(session, qc_lot)
        fill = next(e.step for e in record.entries if e.step.step_key == "fill")
        assert [(m.supplier_lot, m.role, m.quantity, m.unit) for m in record.materials[fill.id]] == \
            [("HEP-2026-01", "anticoagulant", 3.0, "ml")]
