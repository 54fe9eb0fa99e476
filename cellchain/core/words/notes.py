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
    'already_recorded': (
        'This form was already sent at {when} and was recorded then; nothing was recorded again. Here is what it '
        'recorded.'
    ),
    # --- people and accounts
    'welcome': 'Welcome, {full_name}.',
    'logged_out': 'You are logged out.',
    'password_changed': 'Your password is changed. Your other logins are ended.',
    'language_chosen': 'The pages are shown in the language you chose.',
    'tokens_revoked': '{tokens} revoked.',
    'account_created': "Account {username} created; its roles wait for a second administrator's signature.",
    'account_unlocked': 'Account {username} unlocked.',
    'account_activated': 'Account {username} activated.',
    'account_deactivated': 'Account {username} deactivated.',
    'roles_changed': 'Roles of {username} changed.',
    'roles_wait': "Roles of {username} wait for a second administrator's signature (grant {grant_id}).",
    'email_set': 'E-mail of {username} set to {email}.',
    'email_cleared': 'E-mail of {username} cleared.',
    'grant_approved': 'Role grant {grant_id} approved: {username} now holds {roles}.',
    # --- the lab and cell banks
    'donor_result_entered': '{test} {result} entered: donor {eligibility}.',
    'cord_held': 'The cord and everything made from it are on hold.',
    # --- equipment
    'instrument_registered': N_('Instrument {instrument} registered.'),
    'instrument_calibration_recorded': N_('Calibration of {instrument} recorded.'),
    'instrument_maintenance_recorded': N_('Maintenance of {instrument} recorded.'),
    'instrument_out_of_service': N_('{instrument} is out of service.'),
    'instrument_returned': N_('{instrument} is back in service.'),
    'donor_determined_eligible': 'Donor of cord {din} determined eligible, signed.',
    'cord_registered': 'Cord registered with DIN {din}: donor {eligibility}.',
    'cord_handed_over': 'Cord {handover} at {location}.',
    'excursion_before_use': 'Temperature out of range: QA must decide before it is used.',
    'excursion_awaits_qa': 'Temperature out of range: an excursion awaits QA.',
    'lot_started': 'Lot {lot_number} started.',
    'passage_recorded': 'P{number} recorded: {doublings:.2f} doublings, {cumulative:.2f} in all.',
    'step_recorded': 'Step {step_key} recorded.',
    'step_verified': 'Step {step_id} verified by {full_name}.',
    'harvest_recorded': 'Harvest recorded: {cells} cells.',
    'formulation_recorded': 'Formulation recorded: {cells_per_ml} cells/ml in {volume_ml:g} ml.',
    'bags_filled': '{bags} filled, in quarantine: {codes}.',
    'placebo_filled': '{bags} filled under DIN {din}.',
    'bank_frozen': '{bank_code} frozen: {vials} at P{passage}; it awaits QA release.',
    'vial_thawed': 'Vial thawed; lot {lot_number} started at P{passage}.',
    # --- labels
    'reprint_needs_reason': '{why}. Give the reason below, then print.',
    'label_marked': 'Label {id} ({item_key}) marked {status}.',
    'label_applied': N_('Label {id} ({item_key}) applied: the scan matches its container.'),
    'print_job_sent': N_('Print job {id} sent to {printer}: {count} label(s).'),
    'print_job_failed': N_('Print job {id} to {printer} failed: {error}. The labels are recorded; send it again '
                           'when the printer is back.'),
    'printer_saved': N_('Printer {name} saved.'),
    # --- QC and QA
    'qc_within_spec': '{test_code} = {value}: within specification ({limit}).',
    'qc_out_of_spec': '{test_code} = {value}: OUT OF SPECIFICATION ({limit}); deviation {number} opened for QA.',
    'qc_lot_held': 'The lot is released: it is now ON HOLD, and QA and the investigators are told.',
    'qc_results_recorded': '{results} recorded.',
    'qc_results_out_of_spec': 'OUT OF SPECIFICATION: {tests}; a deviation is opened for QA for each.',
    'lot_released': 'Lot {lot_id} released; its bags are out of quarantine.',
    'lot_rejected': 'Lot {lot_id} rejected; its bags are rejected and discarded.',
    'deviation_opened': 'Deviation {number} opened.',
    'deviation_moved': 'Deviation {number} is now {status}.',
    'hold_lifted': 'Hold {hold_id} lifted.',
    'excursion_decided': 'Excursion {id} {decision}.',
    # --- storage
    'unit_set_up': 'Storage unit {code} set up.',
    'unit_changed': 'Storage unit {code} changed.',
    'location_added': '{place} {code} added.',
    'box_added': 'Box {code} added: print its labels and stick them on.',
    'item_put': '{code} put in {where}.',
    'item_moved': '{code} moved to {where}.',
    'item_taken': '{code} taken out of {where}.',
    'readings_out_of_range': (
        "{readings} recorded; {out_of_range} out of range: {items} await QA's decision on the excursion."
    ),
    'readings_in_range': '{readings} recorded, all in range.',
    # --- hand-overs and the ward
    'handover_recorded': '{item} {code}: {handover} at {location}.',
    'bags_dispatched': '{bags} dispatched to {ship_to}. Print the shipper label.',
    'expired_discarded': '{bags} discarded: {codes}.',
    'bag_received': 'Bag {bag_code} received on the ward.',
    'excursion_before_infusion': 'Temperature out of range: QA must decide before it can be infused.',
    'bag_thawed': 'Bag {bag_code} thawed: it now expires {expires}. Print its new label and put it on the bag.',
    'infusion_started': 'Infusion of bag {bag_code} started.',
    'infusion_completed': 'Infusion {id} completed.',
    # --- subject safety
    'event_drafted': 'Adverse event {id} recorded as a draft for the investigator to confirm.',
    'event_amended': 'Adverse event {id} amended.',
    'event_confirmed': 'Adverse event {id} confirmed and signed.',
    'event_reported': '{report} report of adverse event {id} signed and recorded as sent.',
    # --- the trial
    'subject_registered': '{subject_code} registered: eligible.',
    'subject_screen_failure': '{subject_code} registered: not eligible (screen failure).',
    'mail_sent_again': 'Mail {id} to {to_address} is sent again now.',
    'hold_placed': 'Hold {id} placed.',
    'recall_placed': 'Recall {id} placed.',
    'visit_marked_missed': (
        'Visit of {subject_code} marked missed; clinical deviation {number} opened for the investigator.'
    ),
    'clinical_deviation_opened': 'Clinical deviation {number} opened for the investigator to decide.',
    'clinical_deviation_decided': 'Clinical deviation {number} {status} and signed.',
    'clinical_deviation_closed': 'Clinical deviation {number} closed.',
    'subject_withdrawn': "{subject_code} withdrawn: {visits} cancelled, {bags} sent back to the lab for QA's decision.",
    'subject_died': (
        "{subject_code} recorded as died: {visits} cancelled, {bags} sent back to the lab for QA's decision."
    ),
    'returned_bag_restocked': '{bag_code} re-released to stock.',
    'returned_bag_discarded': '{bag_code} discarded.',
    'subject_randomized': '{subject_code} randomized to arm {arm}.',
    'bag_allocated': '{bag_code} allocated to {subject_code}; its label now needs the recipient reprint.',
    'bag_taken_off': '{bag_code} taken off the week {week} visit (back in stock).',
    'bag_taken_off_unfit': (
        '{bag_code} taken off the week {week} visit (not fit for use: it does not go back to stock).'
    ),
    'reprint_before_reuse': 'Its label names the subject: reprint it before the bag is used again.',
    'return_to_lab': 'It is on its way or on the ward: have it returned to the lab (hand-over page).',
    'scan_replacement': 'Scan a replacement bag for the visit.',
    'follow_up_done': 'Week {week} follow-up of {subject_code} recorded as done.',
    'weight_recorded': 'Week {week} weight of {subject_code} recorded: {weight_kg:g} kg.',
    'infusion_planned': 'Week {week} infusion of {subject_code} planned for {when}.',
    'list_extended': 'Randomization list extended; {used} positions used. New fingerprint recorded.',
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
