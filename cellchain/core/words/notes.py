"""What a page tells the person after a form did its work (the flashed note), by key: one catalogue of templates.

A view says ``note("deviation_opened", number="DEV-2026-0001")`` instead of writing the sentence in place, so a
translation is a second catalogue with the same keys and no view changes (the same way as the refusals'
``reasons.MESSAGES``). A note of several sentences joins several keys. Values named in ``reasons.WORDED``
are stored codes and are shown through the vocabulary (``labels.label``); counts come in already written
with their noun (``numbers.count``).
"""

from __future__ import annotations

from typing import Any

from cellchain.core.words import N_, reasons, translated
from cellchain.core.words.labels import label

NOTES: dict[str, str] = {
    # --- every form
    'already_recorded': N_(
        'This form was already sent at {when} and was recorded then; nothing was recorded again. Here is what it '
        'recorded.'
    ),
    # --- people and accounts
    'welcome': N_('Welcome, {full_name}.'),
    'logged_out': N_('You are logged out.'),
    'password_changed': N_('Your password is changed. Your other logins are ended.'),
    'language_chosen': N_('The pages are shown in the language you chose.'),
    'tokens_revoked': N_('{tokens} revoked.'),
    'account_created': N_("Account {username} created; its roles wait for a second administrator's signature."),
    'account_unlocked': N_('Account {username} unlocked.'),
    'account_activated': N_('Account {username} activated.'),
    'account_deactivated': N_('Account {username} deactivated.'),
    'roles_changed': N_('Roles of {username} changed.'),
    'roles_wait': N_("Roles of {username} wait for a second administrator's signature (grant {grant_id})."),
    'email_set': N_('E-mail of {username} set to {email}.'),
    'email_cleared': N_('E-mail of {username} cleared.'),
    'grant_approved': N_('Role grant {grant_id} approved: {username} now holds {roles}.'),
    # --- the lab and cell banks
    'donor_result_entered': N_('{test} {result} entered: donor {eligibility}.'),
    'cord_held': N_('The cord and everything made from it are on hold.'),
    # --- equipment
    'instrument_registered': N_('Instrument {instrument} registered.'),
    'instrument_calibration_recorded': N_('Calibration of {instrument} recorded.'),
    'instrument_maintenance_recorded': N_('Maintenance of {instrument} recorded.'),
    'instrument_out_of_service': N_('{instrument} is out of service.'),
    'instrument_returned': N_('{instrument} is back in service.'),
    'donor_determined_eligible': N_('Donor of cord {din} determined eligible, signed.'),
    'cord_registered': N_('Cord registered with DIN {din}: donor {eligibility}.'),
    'cord_handed_over': N_('Cord {handover} at {location}.'),
    'excursion_before_use': N_('Temperature out of range: QA must decide before it is used.'),
    'excursion_awaits_qa': N_('Temperature out of range: an excursion awaits QA.'),
    'lot_started': N_('Lot {lot_number} started.'),
    'passage_recorded': N_('P{number} recorded: {doublings:.2f} doublings, {cumulative:.2f} in all.'),
    'step_recorded': N_('Step {step_key} recorded.'),
    'step_verified': N_('Step {step_id} verified by {full_name}.'),
    'harvest_recorded': N_('Harvest recorded: {cells} cells.'),
    'formulation_recorded': N_('Formulation recorded: {cells_per_ml} cells/ml in {volume_ml:g} ml.'),
    'bags_filled': N_('{bags} filled, in quarantine: {codes}.'),
    'placebo_filled': N_('{bags} filled under DIN {din}.'),
    'bank_frozen': N_('{bank_code} frozen: {vials} at P{passage}; it awaits QA release.'),
    'vial_thawed': N_('Vial thawed; lot {lot_number} started at P{passage}.'),
    # --- labels
    'reprint_needs_reason': N_('{why}. Give the reason below, then print.'),
    'label_marked': N_('Label {id} ({item_key}) marked {status}.'),
    'label_applied': N_('Label {id} ({item_key}) applied: the scan matches its container.'),
    'print_job_sent': N_('Print job {id} sent to {printer}: {count} label(s).'),
    'print_job_failed': N_('Print job {id} to {printer} failed: {error}. The labels are recorded; send it again '
                           'when the printer is back.'),
    'print_job_queued': N_('Print job {id} to {printer} is queued: another send of it is under way.'),
    'printer_saved': N_('Printer {name} saved.'),
    # --- QC and QA
    'qc_within_spec': N_('{test_code} = {value}: within specification ({limit}).'),
    'qc_out_of_spec': N_('{test_code} = {value}: OUT OF SPECIFICATION ({limit}); deviation {number} opened for QA.'),
    'qc_lot_held': N_('The lot is released: it is now ON HOLD, and QA and the investigators are told.'),
    'qc_results_recorded': N_('{results} recorded.'),
    'qc_results_out_of_spec': N_('OUT OF SPECIFICATION: {tests}; a deviation is opened for QA for each.'),
    'lot_released': N_('Lot {lot_id} released; its bags are out of quarantine.'),
    'lot_rejected': N_('Lot {lot_id} rejected; its bags are rejected and discarded.'),
    'deviation_opened': N_('Deviation {number} opened.'),
    'deviation_moved': N_('Deviation {number} is now {status}.'),
    'hold_lifted': N_('Hold {hold_id} lifted.'),
    'excursion_decided': N_('Excursion {id} {decision}.'),
    # --- storage
    'unit_set_up': N_('Storage unit {code} set up.'),
    'unit_changed': N_('Storage unit {code} changed.'),
    'location_added': N_('{place} {code} added.'),
    'box_added': N_('Box {code} added: print its labels and stick them on.'),
    'item_put': N_('{code} put in {where}.'),
    'item_moved': N_('{code} moved to {where}.'),
    'item_taken': N_('{code} taken out of {where}.'),
    'readings_out_of_range': N_(
        "{readings} recorded; {out_of_range} out of range: {items} await QA's decision on the excursion."
    ),
    'readings_in_range': N_('{readings} recorded, all in range.'),
    # --- hand-overs and the ward
    'handover_recorded': N_('{item} {code}: {handover} at {location}.'),
    'bags_dispatched': N_('{bags} dispatched to {ship_to}. Print the shipper label.'),
    'expired_discarded': N_('{bags} discarded: {codes}.'),
    'bag_received': N_('Bag {bag_code} received on the ward.'),
    'excursion_before_infusion': N_('Temperature out of range: QA must decide before it can be infused.'),
    'bag_thawed': N_('Bag {bag_code} thawed: it now expires {expires}. Print its new label and put it on the bag.'),
    'infusion_started': N_('Infusion of bag {bag_code} started.'),
    'infusion_completed': N_('Infusion {id} completed.'),
    # --- subject safety
    'event_drafted': N_('Adverse event {id} recorded as a draft for the investigator to confirm.'),
    'event_amended': N_('Adverse event {id} amended.'),
    'event_confirmed': N_('Adverse event {id} confirmed and signed.'),
    'event_reported': N_('{report} report of adverse event {id} signed and recorded as sent.'),
    # --- the trial
    'subject_registered': N_('{subject_code} registered: eligible.'),
    'subject_screen_failure': N_('{subject_code} registered: not eligible (screen failure).'),
    'mail_sent_again': N_('Mail {id} to {to_address} is sent again now.'),
    'hold_placed': N_('Hold {id} placed.'),
    'recall_placed': N_('Recall {id} placed.'),
    'visit_marked_missed': N_(
        'Visit of {subject_code} marked missed; clinical deviation {number} opened for the investigator.'
    ),
    'clinical_deviation_opened': N_('Clinical deviation {number} opened for the investigator to decide.'),
    'clinical_deviation_decided': N_('Clinical deviation {number} {status} and signed.'),
    'clinical_deviation_closed': N_('Clinical deviation {number} closed.'),
    'subject_withdrawn': N_(
        "{subject_code} withdrawn: {visits} cancelled, {bags} sent back to the lab for QA's decision."
    ),
    'subject_died': N_(
        "{subject_code} recorded as died: {visits} cancelled, {bags} sent back to the lab for QA's decision."
    ),
    'returned_bag_restocked': N_('{bag_code} re-released to stock.'),
    'returned_bag_discarded': N_('{bag_code} discarded.'),
    'subject_randomized': N_('{subject_code} randomized to arm {arm}.'),
    'bag_allocated': N_('{bag_code} allocated to {subject_code}; its label now needs the recipient reprint.'),
    'bag_taken_off': N_('{bag_code} taken off the week {week} visit (back in stock).'),
    'bag_taken_off_unfit': N_(
        '{bag_code} taken off the week {week} visit (not fit for use: it does not go back to stock).'
    ),
    'reprint_before_reuse': N_('Its label names the subject: reprint it before the bag is used again.'),
    'return_to_lab': N_('It is on its way or on the ward: have it returned to the lab (hand-over page).'),
    'scan_replacement': N_('Scan a replacement bag for the visit.'),
    'follow_up_done': N_('Week {week} follow-up of {subject_code} recorded as done.'),
    'weight_recorded': N_('Week {week} weight of {subject_code} recorded: {weight_kg:g} kg.'),
    'infusion_planned': N_('Week {week} infusion of {subject_code} planned for {when}.'),
    'list_extended': N_('Randomization list extended; {used} positions used. New fingerprint recorded.'),
    # --- materials
    'material_added': N_('{name} added to the catalogue.'),
    'material_lot_received': N_('Material lot {code} received into quarantine.'),
    'certificate_attached': N_('Certificate of analysis attached to {code}.'),
    'material_lot_released': N_('Material lot {code} released.'),
    'material_lot_rejected': N_('Material lot {code} rejected.'),
    'step_materials_recorded': N_('{count} material lots recorded for the step.'),
}


def note(key: str, /, **params: Any) -> str:
    """The note for ``key`` with ``params``; a key without a template or a missing value is a bug."""
    template = translated(NOTES[key])
    missing = reasons.placeholders(template) - set(params)
    if missing:
        raise KeyError(f"note {key} needs {sorted(missing)}")
    return template.format_map({name: label(value) if name in reasons.WORDED and isinstance(value, str) else value
                                for name, value in params.items()})


def notes(*said: str) -> str:
    """Several notes as one message, sentence after sentence (empty ones left out)."""
    return " ".join(s for s in said if s)
