"""Starting a lot and growing it: every refusal named, nothing written; doublings computed and summed."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from cellchain.core.errors import Invalid, Refused
from cellchain.manufacturing import lots
from cellchain.manufacturing.models import BatchStep, Passage
from tests.factories.lab import days_ago, in_db, iso, make_collection, make_lot, open_excursion, snapshot, user


def refused(session, call) -> set[str]:
    """The reason codes of a refusal, after proving the refused call wrote nothing."""
    before = snapshot(session)
    with pytest.raises(Refused) as caught:
        call()
    assert snapshot(session) == before
    return {r.code for r in caught.value.reasons}


def passage(number: int, seeded: int, harvested: int, seeded_days_ago: float | None = None, **extra):
    """A passage body; P0 is seeded 10 days ago, each later one 2 days after, harvested a day later."""
    seeded_at = days_ago(10 - 2 * number if seeded_days_ago is None else seeded_days_ago)
    body = {"number": number, "seeded_cells": seeded, "harvested_cells": harvested, "viability_pct": 95,
            "seeded_at": iso(seeded_at), "harvested_at": iso(seeded_at + timedelta(days=1))}
    body.update(extra)
    return body


def start(session, din):
    return lambda: lots.start_lot(session, actor=user(session, "lab"), collection_din=din)


def test_an_ineligible_donors_cord_cannot_start_a_lot(app):
    with in_db(app) as session:
        din = make_collection(session, eligible=False).din
        assert refused(session, start(session, din)) == {"donor_ineligible"}


def test_a_cord_not_yet_received_at_the_lab_cannot_start_a_lot(app):
    with in_db(app) as session:
        din = make_collection(session, custody_state="collected").din
        assert refused(session, start(session, din)) == {"collection_not_received"}


def test_an_open_temperature_excursion_blocks_the_lot(app):
    with in_db(app) as session:
        cord = make_collection(session)
        open_excursion(session, cord)
        assert refused(session, start(session, cord.din)) == {"excursion_open"}


def test_a_second_lot_from_one_cord_is_refused(app):
    with in_db(app) as session:
        lot = make_lot(session)
        assert refused(session, start(session, lot.lot_number)) == {"lot_exists"}


def test_every_reason_against_starting_is_listed_together(app):
    with in_db(app) as session:
        cord = make_collection(session, eligible=False, custody_state="collected")
        open_excursion(session, cord)
        codes = refused(session, start(session, cord.din))
        assert codes == {"donor_ineligible", "collection_not_received", "excursion_open"}


def test_a_lot_starts_under_the_current_specification_with_the_dins_number(app, api):
    with in_db(app) as session:
        din = make_collection(session).din
    response = api.post("/api/v1/lots", as_="lab", json={"collection_din": din})
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"lot_id": din, "din": din, "purpose": "dosing", "status": "in_process",
                                   "spec_version": "UCMSC-2"}
    again = api.post("/api/v1/lots", as_="lab", json={"collection_din": din})
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "lot_exists"


def test_a_malformed_din_is_a_field_error(api):
    response = api.post("/api/v1/lots", as_="lab", json={"collection_din": "A99992"})
    assert response.status_code == 400 and "collection_din" in response.get_json()["fields"]


def test_passages_record_doublings_and_their_running_total(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
    counts = [(1_000_000, 8_000_000), (4_000_000, 24_000_000), (12_000_000, 60_000_000)]
    for number, (seeded, harvested) in enumerate(counts):
        response = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json=passage(number, seeded, harvested))
        assert response.status_code == 201, response.get_json()
    body = api.get(f"/api/v1/lots/{lot_id}", as_="qa").get_json()
    pds = [p["population_doublings"] for p in body["passages"]]
    assert pds == pytest.approx([3.0, math.log2(6), math.log2(5)])
    assert [p["cumulative_doublings"] for p in body["passages"]] == pytest.approx(
        [3.0, 3.0 + math.log2(6), 3.0 + math.log2(6) + math.log2(5)])
    assert body["cumulative_doublings"] == pytest.approx(3 + math.log2(30))
    keys = [s["step"] for s in body["batch_record"]["steps"]]
    assert keys == ["passage:0", "passage:1", "passage:2"]


def test_a_passage_past_the_limit_is_refused(app):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 2_000_000)] * 6)  # P0..P5, the default limit
        actor = user(session, "lab")
        codes = refused(session, lambda: lots.record_passage(session, actor=actor, lot_number=lot.lot_number,
                                                             data=passage(6, 1_000_000, 2_000_000, 2.5), limit=5))
        assert codes == {"passage_limit_exceeded"}


def test_the_passage_limit_comes_from_configuration(app, api):
    app.config["PASSAGE_LIMIT"] = 1
    with in_db(app) as session:
        lot_id = make_lot(session, passages=[(1_000_000, 2_000_000)] * 2).lot_number
    response = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab", json=passage(2, 1_000_000, 2_000_000, 2.5))
    assert response.status_code == 409
    assert [r["code"] for r in response.get_json()["reasons"]] == ["passage_limit_exceeded"]


def test_a_skipped_or_repeated_passage_is_refused(app):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 2_000_000)])
        actor = user(session, "lab")
        for number in (0, 2):
            codes = refused(session, lambda n=number: lots.record_passage(
                session, actor=actor, lot_number=lot.lot_number, data=passage(n, 1_000_000, 2_000_000)))
            assert codes == {"passage_out_of_order"}


def test_a_passage_seeded_before_the_previous_harvest_is_refused(app):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 2_000_000)])
        first = session.get(Passage, session.exec(Passage.__table__.select()).first().id)
        early = first.harvested_at - timedelta(hours=1)
        body = {**passage(1, 1_000_000, 2_000_000), "seeded_at": iso(early), "harvested_at": iso(early + timedelta(1))}
        codes = refused(session, lambda: lots.record_passage(session, actor=user(session, "lab"),
                                                             lot_number=lot.lot_number, data=body))
        assert codes == {"passage_time_order"}


def test_a_filled_lot_takes_no_more_passages(app):
    with in_db(app) as session:
        lot = make_lot(session, status="awaiting_release", passages=[(1_000_000, 2_000_000)])
        codes = refused(session, lambda: lots.record_passage(session, actor=user(session, "lab"),
                                                             lot_number=lot.lot_number,
                                                             data=passage(1, 1_000_000, 2_000_000)))
        assert codes == {"lot_not_in_process"}


def test_unreadable_passage_fields_are_all_named(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
    response = api.post(f"/api/v1/lots/{lot_id}/passages", as_="lab",
                        json=passage(0, 8_000_000, 1_000_000, viability_pct=120, seeded_at="2026-01-01T08:00"))
    assert response.status_code == 400
    assert {"harvested_cells", "viability_pct", "seeded_at"} <= set(response.get_json()["fields"])


def test_harvest_refusals_are_named_and_write_nothing(app):
    with in_db(app) as session:
        actor = user(session, "lab")
        empty = make_lot(session)
        assert refused(session, lambda: lots.record_harvest(session, actor=actor, lot_number=empty.lot_number,
                                                            data={"harvested_cells": 5e7})) == {"lot_no_passage"}
        done = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000)
        assert refused(session, lambda: lots.record_harvest(session, actor=actor, lot_number=done.lot_number,
                                                            data={"harvested_cells": 5e7})) == {
            "harvest_already_recorded"}


def test_formulation_refusals_are_named_and_write_nothing(app):
    with in_db(app) as session:
        actor = user(session, "lab")
        grown = make_lot(session, passages=[(1_000_000, 8_000_000)])
        data = {"cells_per_ml": 1e6, "volume_ml": 10}
        assert refused(session, lambda: lots.record_formulation(session, actor=actor, lot_number=grown.lot_number,
                                                                data=data)) == {"lot_not_harvested"}
        harvested = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000)
        too_many = {"cells_per_ml": 1e6, "volume_ml": 9}
        assert refused(session, lambda: lots.record_formulation(session, actor=actor,
                                                                lot_number=harvested.lot_number, data=too_many)) == {
            "formulation_exceeds_harvest"}
        formulated = make_lot(session, passages=[(1_000_000, 8_000_000)], harvested_cells=8_000_000,
                              formulation=(1e6, 5.0))
        assert refused(session, lambda: lots.record_formulation(session, actor=actor,
                                                                lot_number=formulated.lot_number,
                                                                data={"cells_per_ml": 1e6, "volume_ml": 5})) == {
            "formulation_already_recorded"}


def test_harvest_and_formulation_are_recorded_on_the_lot_and_as_batch_steps(app, api):
    with in_db(app) as session:
        lot_id = make_lot(session, passages=[(1_000_000, 8_000_000), (4_000_000, 32_000_000)]).lot_number
    harvest = api.post(f"/api/v1/lots/{lot_id}/harvest", as_="lab",
                       json={"harvested_cells": 32_000_000, "harvested_at": iso(days_ago(0.5))})
    assert harvest.status_code == 201, harvest.get_json()
    formulation = api.post(f"/api/v1/lots/{lot_id}/formulation", as_="lab", json={"cells_per_ml": 1e6, "volume_ml": 30})
    assert formulation.status_code == 201 and formulation.get_json()["total_cells"] == 30_000_000
    body = api.get(f"/api/v1/lots/{lot_id}", as_="lab").get_json()
    assert body["harvest"]["harvested_cells"] == 32_000_000
    assert body["formulation"] == {"cells_per_ml": 1e6, "volume_ml": 30.0, "total_cells": 30_000_000}
    with in_db(app) as session:
        keys = [s.step_key for s in session.exec(BatchStep.__table__.select())]
        assert "harvest" in keys and "formulation" in keys


def test_a_count_that_is_not_whole_is_a_field_error(app):
    with in_db(app) as session:
        lot = make_lot(session, passages=[(1_000_000, 8_000_000)])
        with pytest.raises(Invalid) as caught:
            lots.record_harvest(session, actor=user(session, "lab"), lot_number=lot.lot_number,
                                data={"harvested_cells": 1.5})
        assert "harvested_cells" in caught.value.fields


def test_qc_and_nurse_cannot_record_manufacturing(api, app):
    with in_db(app) as session:
        lot_id = make_lot(session).lot_number
    assert api.post(f"/api/v1/lots/{lot_id}/passages", as_="qc", json=passage(0, 1, 2)).status_code == 403
    assert api.post("/api/v1/lots", as_="nurse", json={"collection_din": lot_id}).status_code == 403
    assert api.get(f"/api/v1/lots/{lot_id}", as_="nurse").status_code == 200
