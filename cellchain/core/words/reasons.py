"""Every refusal's words, by code: one catalogue of templates a translator works through top to bottom.

A rule refuses with a code and plain values (``Reason("lot_decided", lot_number="L-1", status="released")``);
the message is this catalogue's template for the code filled with those values, so a translation is a
second catalogue with the same keys and nothing in the rules changes. Templates are literal strings with
named ``str.format`` placeholders (docs/rules.md lists each code and the rule behind it). A key is the
code, or ``code:variant`` where one code words two situations. Values named in ``WORDED`` are codes
themselves (a status, a custody state) and are shown through the vocabulary (``labels.label``); values named
in ``MOMENTS`` are times, written as the site's clock with its offset (``moments.site_clock``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cellchain.core.words import N_, translated
from cellchain.core.words.labels import label
from cellchain.core.words.moments import site_clock

# Parameters whose value is a stored code (the message shows its word: "at the lab", not "at_lab") or an
# English word the rule marked ``N_`` ("take a passage", "thawed bag"): either is read in the reader's
# language when the message is made, and the reason's params keep the code or the English for machines.
WORDED = frozenset({
    "outcome", "status", "state", "quality_status", "custody_state", "bank_status", "lot_status", "event", "item_kind",
    "item_type", "eligibility", "kind", "product", "wanted", "needs", "test", "action", "move", "where", "last",
    "title", "who", "what",
})

# Parameters whose value is a time the rule gives in the site's zone: the params keep the time itself (the API
# answers it as ISO 8601 with its offset), the message writes it as the site's clock with that offset
# ("2026-11-26 12:00 UTC+08:00"), never a zone's abbreviation (docs/architecture.md, "Languages").
MOMENTS = frozenset({"expires_at", "planned_at"})

MESSAGES: dict[str, str] = {
    # --- equipment (docs/rules.md, "Equipment")
    'instrument_overdue:calibration': N_(
        '{name} ({instrument}) was past its calibration due date when it was used'
    ),
    'instrument_overdue:maintenance': N_(
        '{name} ({instrument}) was past its maintenance due date when it was used'
    ),
    'instrument_overdue:out_of_tolerance': N_(
        '{name} ({instrument}) was found out of tolerance at a later calibration: its calibration did not hold '
        'when it was used'
    ),
    'instrument_out_of_service': N_('{name} ({instrument}) was out of service when it was used: {reason}'),
    'instrument_unfit_when_used': N_('step {step} used {name} ({instrument}) when it was not fit for use: {why}'),
    'instrument_exists': N_('an instrument {instrument} is already registered'),
    'instrument_already_out_of_service': N_('{instrument} is already out of service'),
    'instrument_not_out_of_service': N_('{instrument} is in service: there is nothing to return'),
    # --- cell banks
    'bank_at_passage_limit': N_(
        'the bank was frozen at P{bank_passage}, the passage limit P{passage_limit}: its cells may not be passaged '
        'again'
    ),
    'bank_level_not_allowed': N_('a lot started from the cord makes a {allowed_level}, not a {level}'),
    'bank_level_not_allowed:from_vial': N_(
        'a lot started from a {source_level} vial makes a {allowed_level}, not a {level}'
    ),
    'bank_level_not_allowed:no_bank': N_(
        'a lot started from a {source_level} vial makes no bank (its cells are for dosing), not a {level}'
    ),
    'bank_lot_not_in_process': N_('the lot is {status}; only a lot in process is frozen into a bank'),
    'bank_on_hold': N_(
        '{bank_code} is on hold (hold {id}: {cause}); no vial of it starts a lot until QA lifts the hold'
    ),
    'bank_passage_not_reached': N_('the lot has not reached P{passage} (it has {last})'),
    'bank_time_order': N_('the bank is frozen before P{number} was harvested'),
    'bank_time_order:thaw': N_('the thaw is before {bank_code} was frozen'),
    'lot_already_banked': N_('the lot was frozen into a bank already'),
    'lot_not_for_bank': N_('the lot was started for dosing; a bank is frozen from a bank lot'),
    'source_bank_not_released': N_('its {bank_level} is {bank_status}, not released by QA'),
    'thaw_purpose_not_allowed': N_('a {bank_level} vial makes no further bank; thaw it for a dosing lot'),
    'thaw_purpose_not_allowed:mcb_to_dosing': N_(
        'this site doses from working cell banks: an MCB vial is thawed to make a WCB'
    ),
    'vial_already_thawed': N_('the vial was thawed already; a vial is thawed once'),
    'vial_discarded': N_('the vial was discarded'),
    'vial_not_at_lab': N_('the vial is {where}; take it out of storage first'),
    # --- every request
    'submission_in_progress': N_(
        'this form is being recorded; open the page again in a moment to see what was recorded'
    ),
    'submission_reused': N_(
        "this form's id was already used by another form; open the page again and send it from there"
    ),
    'conflict': N_('a concurrent change got there first; reload and try again'),
    'idempotency_key_in_flight': N_(
        'the first request with this Idempotency-Key is still being recorded; send it again in a moment to get '
        'its answer'
    ),
    'idempotency_key_reused': N_(
        'this Idempotency-Key was first sent with another request ({first}); send a new key for a new request'
    ),
    'not_allowed': '{detail}',
    'not_found': '{detail}',
    'wrong_password': '{detail}',
    # --- the audit trail
    'no_outside_changes_to_review': N_(
        'no change made outside the application up to number {through} waits for review (someone reviewed them '
        'already)'
    ),
    # --- people and accounts
    'admin_with_operational_role': N_('an administrator holds no other role (asked for {others} as well)'),
    'grant_not_pending': N_('role grant {grant_id} is {status}, not pending'),
    'grant_same_admin': N_('a second administrator signs a role grant, not the one who asked'),
    'language_not_offered': N_('the site offers the languages {offered}, not "{value}"'),
    'own_account:approve': N_('nobody approves roles for their own account'),
    'own_account:roles': N_('nobody changes their own roles: ask another administrator'),
    'own_account:unlock': N_('nobody unlocks their own account: ask another administrator'),
    'qa_with_lab': N_("one account may not be both {qa} and {other} (the site's policy does not allow it)"),
    'qa_with_qc': N_("one account may not be both {qa} and {other} (the site's policy does not allow it)"),
    # --- subject safety
    'assessment_incomplete': N_('the investigator confirms a complete assessment: still missing {missing}'),
    'awareness_after_report': N_('awareness cannot move once the event was reported to the sponsor'),
    'awareness_before_onset': N_('the site cannot have been aware on {aware_on} of an event that began on {onset_on}'),
    'awareness_in_future': N_('awareness is when the site learned of the event: not in the future'),
    'clinical_deviation_exists': (
        N_('clinical deviation CD-{id} already covers the week {week} visit being out of its window ({status})')
    ),
    'clinical_deviation_not_decided': (
        N_('clinical deviation CD-{id} is {status}: it is closed once the investigator has approved or rejected it')
    ),
    'clinical_deviation_not_open': N_(
        'clinical deviation CD-{id} is {status}: only an open one is approved or rejected'
    ),
    'clinical_deviation_visit_done': (
        N_('the week {week} visit is already done: an infusion outside its window is allowed before the infusion, '
        'not after')
    ),
    'event_already_confirmed': N_('adverse event {event_id} is confirmed: only the investigator amends it'),
    'event_not_draft': N_('adverse event {event_id} is already confirmed (version {version})'),
    'event_not_serious': N_('adverse event {event_id} meets no seriousness criterion: no expedited report is due'),
    'fatal_event_inconsistent': (
        N_('{given} says the event was fatal: it also needs {missing} (CTCAE grade 5 is death related to the event)')
    ),
    'infusion_of_another_subject': N_('infusion {infusion_id} was given to another subject'),
    'onset_in_future': N_('the onset {onset_on} is in the future'),
    'resolution_before_onset': N_('resolved {resolved_on} is before the onset {onset_on}'),
    'resolution_in_future': N_('the resolution {resolved_on} is in the future'),
    'resolution_outcome_mismatch': N_('outcome {outcome} needs the resolution date'),
    'resolution_outcome_mismatch:resolved': N_('a resolution date is given but the outcome is {outcome}'),
    'sent_before_awareness': N_('a report cannot be sent before the site was aware of the event'),
    'sent_in_future': N_('record the report once it has been sent'),
    # --- ISBT 128 identifiers
    'coi_check_character_mismatch': N_(
        'check character {k} does not match chain-of-identity identifier {identifier}: re-key or scan it'),
    'din_check_character_mismatch': N_('check character {k} does not match DIN {eye_readable}: re-key or scan it'),
    'din_flags_mismatch': N_('flags {flags} do not match DIN {din} (expected {expected})'),
    # --- labels
    'bag_not_released:shipment': N_('bag {bag_code} is {quality_status}: only released bags are shipped'),
    'bag_not_thawed': N_('bag {bag_code} has not been thawed: it keeps its frozen label'),
    'bag_rejected:label': N_('bag {bag_code} is rejected: it gets no new label'),
    'bank_has_no_frozen_vials': N_('bank {key} has no frozen vial left'),
    'label_accounted_for': N_('label {id} is {status}; print a reprint instead'),
    'label_already_printed': N_(
        'the {title} label of {item_key} is printed already; a QA reviewer reprints it with a reason'
    ),
    'label_cannot_print': N_('{title} label: {problem}'),
    'label_cannot_print:layout': '{problem}',
    'label_status_not_allowed': N_('label {id} ({item_key}) is {status}: it can be marked {allowed}'),
    'lot_has_no_bags': N_('lot {lot_number} has no bags yet'),
    'subject_not_eligible': N_('subject {subject_code} failed screening: a wristband is for trial subjects'),
    'vial_not_frozen': N_('vial {vial_code} is {state}: it gets no new label'),
    # --- label printers and the closed loop (labelling/printing)
    'printer_name_taken': N_('a printer named {name} is registered already'),
    'printer_inactive': N_('printer {name} is out of use: choose another printer'),
    'printer_label_size': N_('printer {name} takes labels of {sizes} mm, not {size} mm'),
    'print_job_not_failed': N_('print job {id} is {status}: only a failed job is sent again'),
    'print_job_in_queue': N_(
        'print job {id} is queued and its send is under way: send it again only if it is still queued after {seconds} s'
    ),
    'print_job_labels_accounted': N_(
        'print job {id} is not sent again: its labels {item_keys} are accounted for since; print a reprint'
    ),
    'label_apply_by_scan': N_('label {id} ({item_key}) is applied by scanning it on its container'),
    'label_scan_mismatch': N_('the scan is not label {id} of {item_key}: it reads {scanned}'),
    'label_outdated': N_(
        'label {id} no longer matches {item_key} as recorded now: void it and print a new label'
    ),
    'lot_labels_unaccounted': N_(
        'lot {lot_number} has {count} printed label(s) not yet applied, voided or destroyed: {item_keys}'
    ),
    # --- manufacturing
    'batch_step_missing': N_('{label} ({key}) is not recorded as performed'),
    'batch_step_missing:passage': N_('{title}: no passage recorded'),
    'batch_step_unverified': N_('{label} ({key}) is not verified by a second person'),
    'cell_content_mismatch': N_(
        'the stated {stated} cells per bag are {off:.2%} from the {computed} cells that {volume_ml:g} ml at the '
        'formulated {cells_per_ml} cells/ml holds (at most {tolerance:.1%}); leave the cells empty to use the '
        'computed number'
    ),
    'collection_not_received': N_('the cord is {state}; receive it at the lab first'),
    'divisions_exhausted': N_('this DIN has {left} divisions left, {count} asked for'),
    'donor_ineligible': N_('the donor of {din} is ineligible: {why}'),
    'donor_not_pending': N_("the donor's eligibility is already {eligibility}: only a pending cord is determined"),
    'donor_medical_history_risk': N_('the medical history review found a risk factor'),
    'donor_no_consent': N_("the donor's consent was not obtained"),
    'donor_specimen_out_of_window': N_(
        "the donor's specimen was taken {days:.1f} days from the cord collection; the limit is 7"
    ),
    'donor_test_indeterminate': N_('{test} is indeterminate; retest or defer'),
    'donor_test_missing': N_("no {test} result for the donor's specimen"),
    'donor_test_positive': N_('{test} is positive'),
    'dosing_lot_from_cord_not_allowed': N_(
        'this site doses only from banked cells: start a bank lot from the cord, or a dosing lot from a thawed bank'
        ' vial'
    ),
    'excursion_open:cord': N_('a temperature excursion ({temps}) awaits a QA decision'),
    'fill_exceeds_formulation': N_('the bags need {needed:g} ml, more than the {formulated_volume_ml:g} ml formulated'),
    'fill_time_order': N_('the fill is recorded before the formulation'),
    'formulation_already_recorded': N_('lot {lot_number} was formulated already'),
    'formulation_exceeds_harvest': N_('{total:,.0f} cells formulated but only {harvested_cells:,.0f} harvested'),
    'harvest_already_recorded': N_('lot {lot_number} was harvested already'),
    'harvest_time_order': N_('the harvest is before P{number} was seeded'),
    'lot_closed': N_('lot {lot_number} is {status}; its batch record is closed'),
    'lot_exists': N_('a lot was already started from {din}'),
    'lot_is_for_a_bank': N_(
        'lot {lot_number} is grown for a cell bank: its cells are frozen into vials, not filled into bags'
    ),
    'lot_no_passage': N_('record at least passage P0 before the harvest'),
    'lot_not_formulated': N_('record the formulation before filling bags'),
    'lot_not_harvested': N_('record the harvest before the formulation'),
    'lot_not_in_process': N_('lot {lot_number} is {status}; only a lot in process can {action}'),
    'lot_not_in_process:vessel': N_('lot {lot_number} is {status}: vessels are labelled during expansion only'),
    'lot_time_order': N_('the lot cannot start before its cord was collected'),
    'named_dose_not_fillable': N_(
        '{subject_code} week {week}: {required:,.0f} cells for {weight_kg:g} kg at {cells_per_ml:,.0f} cells/ml is '
        '{volume_ml:.3g} ml; a bag holds {step_ml:g} to {max_ml:g} ml within the dose tolerance'
    ),
    'named_dose_not_fillable:anticoagulant': N_(
        'the anticoagulant volume ({added:g} ml) is not less than the named bag of {subject_code} ({volume_ml:g} '
        'ml)'
    ),
    'named_subject_unknown': N_('no subject {subject_code} is registered'),
    'named_visit_not_infusion': N_('{subject_code} has no week {week} infusion visit'),
    'passage_limit_exceeded': N_('passage P{number} is past the limit of P{limit}'),
    'passage_not_recorded': N_('passage P{passage_number} is not recorded'),
    'passage_out_of_order': N_('passage P{number} is not the next one; expected P{expected}'),
    'passage_time_order': N_('P{number} is seeded before P{number2} was harvested'),
    'passage_time_order:cord': N_('the passage is seeded before the cord was collected'),
    'self_verification': N_('the person who performed a step cannot verify it'),
    'signer_not_actor': N_('sign with your own account: the signer is the person logged in'),
    'step_already_recorded': N_('{title} is already recorded'),
    'step_already_verified': N_('step {step_key} is already verified'),
    'step_recorded_elsewhere': N_('{code} is recorded with its own form, which also records its numbers'),
    # --- QC, QA and holds
    'batch_record_incomplete': N_('batch record incomplete: {gap}'),
    'deviation_not_decided': N_('deviation {number} is {status}; to {move} it must be {needs}'),
    'deviation_not_investigated': N_('deviation {number} is {status}; to {move} it must be {needs}'),
    'deviation_not_open': N_('deviation {number} is {status}; to {move} it must be {needs}'),
    'deviation_open': N_('deviation {number} ({kind}) is {status}, not closed'),
    'donor_determination_pending': (
        N_('the donor of collection {din} is pending: every required result must be in and the investigator must sign '
        'the eligibility determination')
    ),
    'donor_not_eligible': N_('the donor of collection {din} is {eligibility}'),
    'excursion_open': N_('temperature excursion {id} on the {item_type} ({temperature_c:g} °C) awaits a QA decision'),
    'hold_not_open': N_('hold {hold_id} was already lifted'),
    'item_on_hold': N_('{item} is ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold'),
    'item_on_hold:derived': (
        N_('{item} comes from {held}, ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold')
    ),
    'made_with_held_material': (
        N_('{item} was made with {held}, ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold')
    ),
    'hold_already_open': N_('{item} is already on hold (hold {hold_id}); lift it before placing another'),
    'lot_decided': N_('lot {lot_number} is already {status}'),
    'lot_decided:results': N_('lot {lot_number} is {status}; its results can no longer change'),
    'lot_not_decided': N_("lot {lot_number} is {status}; a certificate follows QA's decision"),
    'lot_not_filled': N_('lot {lot_number} is {status}; release needs its bags filled'),
    'lot_not_testable': N_('lot {lot_number} is {status}; it takes no QC results'),
    'lot_on_hold': N_('lot {lot_number} is ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold'),
    'lot_on_hold:bag': (
        N_('bag {bag_code} of lot {lot_number} is ON HOLD (hold {hold_id}): {cause}; only QA can lift the hold')
    ),
    'lot_on_hold:bank': N_('its cells come from {bank_code}, on hold (hold {id}: {cause})'),
    'lot_on_hold:release': N_('lot {lot_number} is on hold (hold {id}: {cause})'),
    'qc_missing': N_('no result for required test {test} ({name})'),
    'qc_out_of_spec': N_('{test} ({name}) is out of specification, no accepted deviation'),
    'qc_repeat_not_latest': N_('result {id} was already repeated; repeat the latest {test} result, {id2}'),
    'qc_result_exists': N_(
        '{test} already has result {id} ({value}); record it as a repeat of that result, with a reason'
    ),
    'reviewer_made_lot': N_('{full_name} took part in making lot {lot_number}; another QA reviewer must release it'),
    'reviewer_tested_lot': N_(
        '{full_name} recorded QC results of lot {lot_number}; another QA reviewer must release it'
    ),
    'source_bank_not_released:lot': N_('its cells come from {bank_code}, whose lot {lot_number} is {status}'),
    'spec_version_exists': N_('specification {version} exists; publish a new version'),
    # --- storage
    'storage_code_taken': N_('a {what} {code} exists already; codes are unique'),
    'storage_item_already_placed': N_('{item} is in box {box_code} at {position} already; take it out or move it'),
    'storage_item_not_in_storage': N_('{item} is {state}, not in storage; take it out'),
    'storage_item_not_placed': N_('{item} is in no storage position'),
    'storage_item_not_placed:move': N_('{item} is in no storage position; put it first'),
    'storage_position_taken': N_('{code} {position} holds {who}; one container per position'),
    'storage_reading_exists': N_('unit {code} has a reading at that time already ({said}); nothing was recorded'),
    'storage_same_position': N_('{item} is at {position} already'),
    # --- the trial
    'active_infection': N_('clinically active bacterial, fungal, viral or parasitic infection'),
    'age_out_of_range': N_('age {age} at day 0 is outside {min_age}-{max_age} years'),
    'allocated_bag_discarded': N_('{bag_code} was discarded'),
    'allocated_bag_expires_before_infusion': N_(
        '{bag_code} expires before the week {week} infusion planned for {planned_at}'
    ),
    'allocated_bag_expires_before_infusion:window': N_(
        '{bag_code} expires before the week {week} window closes at the end of {window_end}'
    ),
    'allocated_bag_lot_on_hold': '{hold}',
    'allocated_bag_rejected': N_('{bag_code} was rejected by QA'),
    'allocation_list_exhausted': (
        N_('all {positions} list positions are used; a coordinator or administrator extends the list first')
    ),
    'already_randomized': N_(
        '{subject_code} was randomized on {randomized_at:%Y-%m-%d}; a randomization is never changed'
    ),
    'bag_already_allocated': N_('{bag_code} is already allocated (visit {visit_id})'),
    'bag_not_available': N_('{bag_code} is {custody_state}'),
    'bag_not_released:allocation': N_('{bag_code} is {quality_status}'),
    'bag_not_released:lot': N_('{bag_code} is {quality_status} (lot {lot_status})'),
    'bag_reserved_for_another_visit': (
        N_("{bag_code} was made for {subject_code}'s week {week} infusion ({total_cells:,.0f} cells for that subject's "
        'weight)')
    ),
    'consent_missing': N_('written informed consent is not signed'),
    'dose_out_of_tolerance': (
        N_('bag holds {total} cells; {weight_kg:.1f} kg needs {required} ± {tolerance_pct:g}% ({low} to {high}); it is'
        ' {deviation_pct}%')
    ),
    'dose_out_of_tolerance:no_count': N_('the bag has no cell count recorded'),
    'expires_too_soon': N_(
        '{bag_code} expires at {expires_at}, before the week {week} infusion planned for {planned_at}'
    ),
    'expires_too_soon:frozen': N_(
        '{bag_code} expires at {expires_at} (its frozen expiry), before the week {week} infusion planned for '
        '{planned_at}'
    ),
    'expires_too_soon:window': N_(
        '{bag_code} expires at {expires_at}, before the week {week} window closes at the end of {window_end}'
    ),
    'expires_too_soon:frozen_window': N_(
        '{bag_code} expires at {expires_at} (its frozen expiry), before the week {week} window closes at the end of '
        '{window_end}'
    ),
    'expires_too_soon:replan': N_(
        'the allocated bag {bag_code} expires at {expires_at}, before the new time {planned_at}: allocate another bag '
        'first'
    ),
    'no_allocation_list': N_('there is no randomization list yet to extend'),
    'not_first_transplant': N_("this is not the subject's first liver transplant"),
    'not_follow_up_visit': N_('an infusion visit is recorded done by its infusion at the bedside, not by hand'),
    'not_infusion_visit': N_('the week {week} visit is a follow-up, not an infusion'),
    'not_liver_only': N_('the transplant is not of the liver only'),
    'on_immunosuppressant': N_('already receiving an immunosuppressive agent'),
    'placebo_volume_out_of_tolerance': N_(
        'bag holds {volume_ml:g} ml; placebo is {expected_ml:g} ml ± {margin_ml:g} ml'
    ),
    'planned_outside_window': (
        N_('{planned_local:%Y-%m-%d} is outside the week {week} window {window_start} to {window_end}')
    ),
    'pregnancy_test_missing': N_('a woman needs a negative pregnancy test, or not applicable'),
    'pregnancy_test_positive': N_('the pregnancy test is positive'),
    'pregnant_or_lactating': N_('pregnant or lactating'),
    'prior_other_organ_transplant': N_('previously received or is receiving an organ transplant other than a liver'),
    'recent_investigational_drug': N_('an investigational drug now or within 30 days before transplant'),
    'screening_number_taken': N_('screening number {number} is already registered'),
    'subject_ineligible': N_('{subject_code} failed screening ({codes})'),
    'subject_not_randomized': N_('{subject_code} is not randomized'),
    'transplant_criteria_not_met': N_('does not meet the criteria for liver transplantation'),
    'unwilling_to_comply': N_('the subject is not willing to attend the study visits'),
    'visit_already_allocated': N_('the week {week} visit already has a bag'),
    'visit_already_allocated:reweigh': N_(
        'the week {week} visit already has a bag, allocated at the weight recorded then'
    ),
    'visit_already_done': N_('the week {week} visit is already done'),
    'visit_cancelled': N_("the week {week} visit was cancelled by the subject's withdrawal or death"),
    # --- the subject's lifecycle (trial/rules/lifecycle.py)
    'subject_state_refuses': N_('{subject_code} is {state}: the move asked for is not in the lifecycle'),
    'subject_state_refuses:withdrawn': (
        N_('{subject_code} is {state}: only a subject still in the study is withdrawn')
    ),
    'subject_state_refuses:died': (
        N_("{subject_code} is {state}: a death is recorded once, for a subject in the study or withdrawn")
    ),
    'subject_state_refuses:randomized': N_('{subject_code} is {state}: only an eligible subject is randomized, once'),
    'subject_state_refuses:on_treatment': N_('{subject_code} is {state}: treatment does not start'),
    'subject_not_on_treatment': N_('{subject_code} is {state}, not on treatment: no bag is allocated to them'),
    'subject_not_on_treatment:bedside': '{detail}',
    'subject_on_treatment': '{detail}',
    'bag_awaiting_return_decision': (
        N_("{bag_code} came back from a withdrawn or dead subject's visit and awaits QA's decision")
    ),
    'bag_return_decided': N_('the return of {bag_code} is already decided: {status}'),
    'bag_return_not_at_lab': N_('{bag_code} is {custody_state}: QA decides once it is back at the lab'),
    'visit_marked_missed': N_('the week {week} visit was marked missed'),
    'visit_of_another_subject': N_('visit {visit_id} is not a visit of {subject_code}'),
    'visit_out_of_window': (
        N_('today ({today}) is outside the week {week} infusion window, {window_start} to {window_end}: an infusion '
        'outside its window needs a clinical protocol deviation approved by the investigator')
    ),
    'visit_already_infused': (
        N_('{bag_code} is already being or has been infused at the week {week} visit; its allocation is the record of '
        'it')
    ),
    'visit_not_allocated': N_('the week {week} visit has no bag allocated'),
    'visit_window_not_open': N_('the week {week} window opens on {window_start}'),
    'visit_window_passed': N_('the week {week} window closed on {window_end}'),
    'vital_organ_failure': N_('failure of a vital organ (heart, kidney, lung)'),
    'wrong_product_for_arm': N_('arm {arm} receives {wanted}; this bag is {kind}'),
    # --- the ward and custody
    'bag_not_expired': N_('{bag_code} is in date until {expires_at}'),
    'expired_bag_allocated': N_(
        "{bag_code} is allocated to {subject_code}'s week {week} visit; the coordinator takes it off the visit first"
    ),
    'bag_already_thawed': N_('bag {bag_code} was thawed already; a thawed bag is never refrozen or thawed again'),
    'bag_identified': '{detail}',
    'bag_not_frozen': N_('bag {bag_code} is a fresh bag: there is nothing to thaw'),
    'bag_not_released': N_('bag {bag_code} is {quality_status}; only a released bag is dispatched'),
    'bag_rejected': N_('bag {bag_code} is rejected'),
    'bag_thawed': '{detail}',
    'custody_chain_empty': N_('no custody events recorded for the {item_kind}'),
    'custody_event_not_recordable': N_('{event} is recorded by its own step, not as a hand-over'),
    'custody_event_not_recordable:storage': N_('{event} is recorded by storage, which keeps the position'),
    'custody_impossible_move': N_('{item_kind} cannot be {event} while {state}{hint}'),
    'custody_impossible_move:closed': N_('{item_kind} cannot be {event}: it is {state}, its chain is closed'),
    'custody_impossible_move:in_chain': N_('event {event_number}: {item_kind} cannot be {event} while {state}{hint}'),
    'custody_impossible_move:closed_in_chain': (
        N_('event {event_number}: {item_kind} cannot be {event}: it is {state}, its chain is closed')
    ),
    'custody_impossible_move:first_in_chain': (
        N_('event {event_number}: {item_kind} cannot be {event} before its first event{hint}')
    ),
    'custody_impossible_move:first': N_('{item_kind} cannot be {event} before its first event{hint}'),
    'custody_temperature_excursion': N_('event {count} ({event}) at {temperature_c} °C is outside {low:g}-{high:g} °C'),
    'custody_time_reversed': N_("the {kind}'s last event ({event}) is later than this one"),
    'custody_time_reversed:chain': N_('event {count} ({name}) is dated before the previous one'),
    'custody_unbroken': '{detail}',
    'dose_within_tolerance': '{detail}',
    'ended_before_start': N_('the infusion cannot end before it started'),
    'ended_in_future': N_('record the end once the infusion has ended'),
    'excursion_decided': N_('excursion {id} was already {status}'),
    'frozen_bag_expired': N_("bag {bag_code}'s frozen expiry has passed"),
    'infusion_already_completed': N_('infusion {id} was completed already'),
    'infusion_visit_today': '{detail}',
    'lot_not_on_hold': '{detail}',
    'no_open_excursion': '{detail}',
    'not_expired': '{detail}',
    'not_infused': '{detail}',
    'product_matches_arm': '{detail}',
    'received_on_ward': '{detail}',
    'released': '{detail}',
    'right_subject': '{detail}',
    'chain_of_identity_matches': '{detail}',
    'second_verifier_same_person': N_('the second verifier must be a different nurse'),
    'second_verifier_same_person:check': '{detail}',
    'thaw_before_freezing': N_('bag {bag_code} was frozen after this thaw time'),
    'thaw_label_scanned': '{detail}',
    'volume_exceeds_bag': N_('{volume_ml:g} ml is more than bag {bag_code} held ({volume_ml2:g} ml)'),
    'wristband_is_a_subject': '{detail}',
    # --- materials (docs/rules.md, "Materials")
    'material_exists': N_('{supplier} {catalogue_number} is in the catalogue already'),
    'material_lot_exists': N_('lot {supplier_lot} of {material} was received already'),
    'gs1_gtin_unknown': N_('no material of the catalogue has GTIN {gtin}; add it to the catalogue first'),
    'material_lot_decided': N_('material lot {code} is {status} already'),
    'material_receiver_not_releaser': N_('you received material lot {code}: another person of QC or QA releases it'),
    'material_lot_unknown': N_('{reference} names no material lot received here'),
    'material_lot_ambiguous': N_('{reference} names {count} material lots: scan its barcode or its ML- label'),
    'material_lot_expired': N_('{material} lot {supplier_lot} ({code}) expired on {expires_on}'),
    'material_lot_not_released': N_('{material} lot {supplier_lot} ({code}) is {status}, not released by QC or QA'),
    'material_lot_rejected': N_('{material} lot {supplier_lot} ({code}) was rejected'),
    'material_lot_on_hold': N_('{material} lot {supplier_lot} ({code}) is on hold (hold {hold_id}: {cause})'),
    'material_lot_short': N_('{material} lot {supplier_lot} ({code}) has {left:g} {unit} left, not {quantity:g}'),
    'material_lot_wrong_kind': N_('{material} lot {supplier_lot} ({code}) is {kind}, not {needs}'),
    'material_lot_invalid_when_used': N_(
        'lot {lot_number} used {material} lot {supplier_lot} ({code}) at {step}, which was not valid: {why}'),
}


def placeholders(template: str) -> set[str]:
    """The names a template needs (``{lot_number}``, ``{volume_ml:g}`` -> ``lot_number``, ``volume_ml``)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def worded(key: str, params: Mapping[str, Any]) -> str:
    """The message for ``key`` with ``params``; a key without a template or a missing value is a bug."""
    template = translated(MESSAGES[key])
    missing = placeholders(template) - set(params)
    if missing:
        raise KeyError(f"reason {key} needs {sorted(missing)}")
    return template.format_map({name: _shown(name, value) for name, value in params.items()})


def _shown(name: str, value: Any) -> Any:
    """A value as the message writes it: a code or marked English as its word, a time as the site's clock."""
    if name in WORDED and isinstance(value, str):
        return label(value)
    if name in MOMENTS and isinstance(value, datetime) and value.tzinfo is not None:
        return site_clock(value, value.tzinfo)
    return value
