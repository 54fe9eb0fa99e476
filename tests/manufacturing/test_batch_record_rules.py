"""The batch record checklist: every step performed, critical steps verified by someone else."""

from __future__ import annotations

import pytest

from cellchain.core.errors import Invalid, Refused
from cellchain.manufacturing.rules.batch_record import DEFAULT_STEPS, StepDef, completeness, guard_verifier, step_key

PASSAGES = [0, 1, 2]


def complete_record(passages=PASSAGES):
    done = {}
    for step in DEFAULT_STEPS:
        keys = [step_key(step.code, n) for n in passages] if step.repeat_per_passage else [step.code]
        done.update(dict.fromkeys(keys, (True, True)))
    return done


def codes(reasons):
    return [r.code for r in reasons]


def test_default_steps_follow_the_sop_in_order():
    assert [s.code for s in DEFAULT_STEPS] == [
        "tissue_processing",
        "media_and_reagent_lots",
        "passage",
        "harvest",
        "wash",
        "formulation",
        "fill",
    ]


def test_verification_is_required_for_tissue_processing_formulation_and_fill():
    assert {s.code for s in DEFAULT_STEPS if s.needs_verification} == {
        "tissue_processing",
        "formulation",
        "fill",
    }


def test_only_passage_repeats_per_passage():
    assert [s.code for s in DEFAULT_STEPS if s.repeat_per_passage] == ["passage"]


def test_complete_record_has_no_gaps():
    assert completeness(DEFAULT_STEPS, complete_record(), PASSAGES) == []


def test_unverified_steps_that_need_no_verification_are_complete():
    done = {k: (True, False) for k in complete_record()}
    reasons = completeness(DEFAULT_STEPS, done, PASSAGES)
    assert codes(reasons) == ["batch_step_unverified"] * 3
    for reason, code in zip(reasons, ["tissue_processing", "formulation", "fill"], strict=True):
        assert f"({code})" in reason.message


@pytest.mark.parametrize(
    "code", ["tissue_processing", "media_and_reagent_lots", "harvest", "wash", "formulation", "fill"]
)
def test_each_missing_step_is_named(code):
    done = complete_record()
    del done[code]
    reasons = completeness(DEFAULT_STEPS, done, PASSAGES)
    assert codes(reasons) == ["batch_step_missing"]
    assert f"({code})" in reasons[0].message


@pytest.mark.parametrize("code", ["tissue_processing", "formulation", "fill"])
def test_each_unverified_critical_step_is_named(code):
    reasons = completeness(DEFAULT_STEPS, {**complete_record(), code: (True, False)}, PASSAGES)
    assert codes(reasons) == ["batch_step_unverified"]
    assert f"({code})" in reasons[0].message


def test_a_step_not_performed_is_reported_once_as_missing():
    reasons = completeness(DEFAULT_STEPS, {**complete_record(), "fill": (False, False)}, PASSAGES)
    assert codes(reasons) == ["batch_step_missing"]


def test_each_passage_needs_its_own_record():
    done = complete_record()
    del done["passage:1"]
    reasons = completeness(DEFAULT_STEPS, done, PASSAGES)
    assert codes(reasons) == ["batch_step_missing"]
    assert "P1" in reasons[0].message and "(passage:1)" in reasons[0].message


def test_a_lot_without_passages_is_incomplete():
    reasons = completeness(DEFAULT_STEPS, complete_record([]), [])
    assert codes(reasons) == ["batch_step_missing"]
    assert "no passage recorded" in reasons[0].message


def test_empty_record_lists_every_step():
    reasons = completeness(DEFAULT_STEPS, {}, [0, 1])
    assert codes(reasons) == ["batch_step_missing"] * 8


def test_steps_are_data_a_site_can_change():
    steps = (
        StepDef("thaw", "Thaw", needs_verification=True),
        StepDef("count", "Count", repeat_per_passage=True),
    )
    reasons = completeness(steps, {"thaw": (True, True), "count:0": (True, False)}, [0])
    assert reasons == []


def test_unknown_keys_in_the_record_are_ignored():
    assert completeness(DEFAULT_STEPS, {**complete_record(), "extra": (False, False)}, PASSAGES) == []


def test_step_key_format():
    assert step_key("passage", 3) == "passage:3"
    assert step_key("fill") == "fill"


# --- who verifies ------------------------------------------------------------------------------


def test_a_second_person_may_verify():
    guard_verifier("alice", "bob")
    guard_verifier(7, 8)


@pytest.mark.parametrize(
    ("performer", "verifier"), [("alice", "alice"), ("alice", " Alice "), (7, 7), (7, "7")]
)
def test_self_verification_is_refused(performer, verifier):
    with pytest.raises(Refused) as raised:
        guard_verifier(performer, verifier)
    assert codes(raised.value.reasons) == ["self_verification"]


@pytest.mark.parametrize(
    ("performer", "verifier", "field"), [(None, "bob", "performer_id"), ("alice", "", "verifier_id")]
)
def test_missing_people_are_invalid(performer, verifier, field):
    with pytest.raises(Invalid) as raised:
        guard_verifier(performer, verifier)
    assert field in raised.value.fields
