"""The pure rules of tiered banking (banking/rules/tiers.py) and lot numbers from vials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cellchain.banking.rules import tiers
from cellchain.core.errors import Invalid
from cellchain.manufacturing.rules import lot_numbers

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def codes(reasons) -> list[str]:
    return [r.code for r in reasons]


@pytest.mark.parametrize(("source", "makes"), [(None, "MCB"), ("MCB", "WCB"), ("WCB", None)])
def test_a_cord_lot_makes_the_master_bank_an_mcb_vials_lot_the_working_bank_and_a_wcb_vials_lot_none(source, makes):
    assert tiers.bank_level_for(source) == makes


def test_a_freeze_lists_every_reason_at_once():
    reasons = tiers.guard_freeze(purpose="dosing", status="awaiting_release", source_level="WCB", level="WCB",
                                 passage=4, reached=[5, 6], banked=True)
    assert codes(reasons) == ["lot_not_for_bank", "bank_lot_not_in_process", "bank_level_not_allowed",
                              "bank_passage_not_reached", "lot_already_banked"]


def test_a_bank_lot_from_the_cord_freezes_an_mcb_at_a_passage_it_reached():
    assert tiers.guard_freeze(purpose="bank", status="in_process", source_level=None, level="MCB", passage=2,
                              reached=[0, 1, 2], banked=False) == []


@pytest.mark.parametrize(("level", "purpose", "from_mcb", "expected"), [
    ("MCB", "bank", False, []),
    ("MCB", "dosing", False, ["thaw_purpose_not_allowed"]),
    ("MCB", "dosing", True, []),
    ("WCB", "dosing", False, []),
    ("WCB", "bank", False, ["thaw_purpose_not_allowed"]),
])
def test_wcbs_come_from_mcb_vials_and_dosing_lots_from_wcb_vials_unless_the_site_allows_mcb(level, purpose, from_mcb,
                                                                                          expected):
    assert codes(tiers.guard_thaw(vial_state="frozen", custody_state="at_lab", bank_level=level,
                                  bank_status="released", purpose=purpose, dosing_from_mcb=from_mcb)) == expected


def test_a_vial_is_thawed_once_from_a_released_bank_when_it_is_out_of_storage():
    assert codes(tiers.guard_thaw(vial_state="thawed", custody_state="thawed", bank_level="WCB",
                                  bank_status="released", purpose="dosing", dosing_from_mcb=False)) == [
        "vial_already_thawed"]
    assert codes(tiers.guard_thaw(vial_state="frozen", custody_state="in_storage", bank_level="WCB",
                                  bank_status="awaiting_release", purpose="dosing", dosing_from_mcb=False)) == [
        "vial_not_at_lab", "source_bank_not_released"]


def test_a_vial_of_a_bank_frozen_at_the_passage_limit_is_not_thawed():
    assert codes(tiers.guard_thaw(vial_state="frozen", custody_state="at_lab", bank_level="WCB",
                                  bank_status="released", purpose="dosing", dosing_from_mcb=False, bank_passage=5,
                                  passage_limit=5)) == ["bank_at_passage_limit"]
    assert tiers.guard_thaw(vial_state="frozen", custody_state="at_lab", bank_level="WCB", bank_status="released",
                            purpose="dosing", dosing_from_mcb=False, bank_passage=4, passage_limit=5) == []


def test_a_lot_thawed_from_a_bank_carries_on_its_passages_and_doublings():
    assert tiers.continuation(4, 10.5) == (5, 10.5)


def test_bank_and_vial_codes_name_the_cords_din():
    assert tiers.bank_code("MCB", "A999926000001", 1) == "MCB-A999926000001"
    assert tiers.bank_code("WCB", "A999926000001", 3) == "WCB-A999926000001-03"
    assert tiers.vial_code("WCB-A999926000001-03", 12) == "WCB-A999926000001-03-V012"


def test_a_freeze_with_bad_fields_names_each_of_them():
    with pytest.raises(Invalid) as refused:
        tiers.parse_freeze({"level": "XCB", "passage": "two", "vial_count": 0, "cells_per_vial": -5,
                            "cryoprotectant": " ", "frozen_at": (NOW + timedelta(hours=1)).isoformat()}, now=NOW)
    assert set(refused.value.fields) == {"level", "passage", "vial_count", "cells_per_vial", "cryoprotectant",
                                         "frozen_at"}


def test_a_thaw_reads_its_viability_and_defaults_its_time_to_now():
    entry = tiers.parse_thaw({"purpose": "dosing", "post_thaw_viability_pct": "91.5"}, now=NOW)
    assert (entry.purpose, entry.post_thaw_viability_pct, entry.thawed_at) == ("dosing", 91.5, NOW)
    with pytest.raises(Invalid) as refused:
        tiers.parse_thaw({"purpose": "dosing", "post_thaw_viability_pct": 101}, now=NOW)
    assert set(refused.value.fields) == {"post_thaw_viability_pct"}


def test_a_lot_from_a_vial_is_numbered_after_its_cord():
    number = lot_numbers.from_vial("A999926000001", 2)
    assert number == "A999926000001-L02" and lot_numbers.sequence_of(number) == 2
    assert lot_numbers.sequence_of("A999926000001") is None
