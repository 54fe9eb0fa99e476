"""The words of an audit entry: the type of record it is about and the action it records.

An entry keeps both as codes (``material_lot``, ``release``): they are hashed into the chain and filtered on,
so they never change with the reader. The trail, the auditor's panel and every page that lists entries show
the word for each code in the reader's language (``record_type_label``, ``action_label``). Every code that
``trail.record`` is called with has its word here (``tests/audit/test_trail_words.py`` reads the calls), and
a code missing here still reads through the one vocabulary (``labels.label``), never as a raw identifier.
"""

from __future__ import annotations

from cellchain.core.words import N_, translated
from cellchain.core.words.labels import CUSTODY_EVENTS, label

# The record an entry is about (each area's models.py; a chain of custody as "<item>_custody").
RECORD_TYPES = {
    "adverse_event": N_("adverse event"), "allocation": N_("bag allocation"), "api_token": N_("API token"),
    "audit_chain": N_("audit chain"), "audit_key": N_("audit signing key"), "bag": N_("bag"),
    "bag_custody": N_("bag custody"), "bag_return": N_("bag returned after a withdrawal"),
    "batch_step": N_("batch step"), "bedside_check": N_("bedside check"), "cell_bank": N_("cell bank"),
    "clinical_deviation": N_("clinical protocol deviation"), "collection": N_("collection"),
    "collection_custody": N_("cord custody"), "deviation": N_("deviation"), "excursion": N_("temperature excursion"),
    "hold": N_("QA hold"), "infusion": N_("infusion"), "instrument": N_("instrument"),
    "label_print": N_("printed label"), "login": N_("login"), "lot": N_("lot"), "lot_custody": N_("lot custody"),
    "material": N_("material"), "material_lot": N_("material lot"), "material_use": N_("material use"),
    "passage": N_("passage"), "placebo_fill": N_("placebo fill"), "placement": N_("storage placement"),
    "print_job": N_("print job"), "printer": N_("printer"), "qc_result": N_("QC result"),
    "randomization_list": N_("randomization list"), "role_grant": N_("role grant"),
    "row_changes": N_("changes outside the application"), "sae_report": N_("SAE report"),
    "signature": N_("electronic signature"), "specification": N_("specification"), "storage_box": N_("storage box"),
    "storage_location": N_("storage location"), "storage_reading": N_("storage temperature reading"),
    "storage_unit": N_("storage unit"), "subject": N_("subject"), "user": N_("user account"), "vial": N_("vial"),
    "vial_custody": N_("vial custody"), "visit": N_("visit"),
}

# What an entry records was done, as a person reads it in a list of entries. A custody hand-over's action is
# its event (ward/rules/custody_states.py EVENTS), worded as the custody pages word it.
ACTIONS = {
    **CUSTODY_EVENTS,
    # made, changed, signed
    "create": N_("created"), "register": N_("registered"), "add": N_("added"), "record": N_("recorded"),
    "enter": N_("entered"), "draft": N_("drafted"), "open": N_("opened"), "open_automatic": N_("opened by the system"),
    "issue": N_("issued"), "request": N_("requested"), "publish": N_("published"), "amend": N_("amended"),
    "change": N_("changed"), "rename": N_("renamed"), "extend": N_("extended"), "confirm": N_("confirmed"),
    "supersede": N_("superseded"), "sign": N_("signed"), "revoke": N_("revoked"), "review": N_("reviewed"),
    # manufacturing and banking
    "start": N_("started"), "harvest": N_("harvested"), "formulate": N_("formulated"), "fill": N_("filled"),
    "freeze": N_("frozen"), "thaw": N_("thawed"), "verify": N_("verified"), "use": N_("used"),
    "use_instruments": N_("instruments recorded"), "donor_result": N_("donor test result recorded"),
    "determine": N_("donor eligibility determined"), "attach_certificate": N_("certificate attached"),
    "receive": N_("received"), "discard_expired": N_("discarded as expired"),
    # quality
    "release": N_("released"), "reject": N_("rejected"), "approve": N_("approved"),
    "lot_released": N_("released with its lot"), "lot_rejected": N_("rejected with its lot"),
    "raise": N_("raised"), "recall": N_("recall raised"), "lift": N_("lifted"), "repeat": N_("repeated"),
    "investigate": N_("investigated"), "decide": N_("decided"), "close": N_("closed"),
    "infusion_allowed": N_("infusion allowed"),
    # trial and ward
    "randomize": N_("randomized"), "plan_visits": N_("visits planned"), "start_treatment": N_("treatment started"),
    "complete_treatment": N_("treatment completed"), "complete_study": N_("study completed"),
    "withdraw": N_("withdrawn"), "death": N_("died"), "withdrawal_superseded": N_("withdrawal superseded"),
    "allocate": N_("allocated"), "deallocate": N_("allocation withdrawn"), "plan_infusion": N_("infusion planned"),
    "reschedule_infusion": N_("infusion rescheduled"), "record_weight": N_("weight recorded"), "done": N_("done"),
    "mark_missed": N_("marked missed"), "cancel": N_("cancelled"), "complete": N_("completed"),
    # storage
    "put": N_("put into storage"), "take": N_("taken out of storage"), "move": N_("moved in storage"),
    "import_readings": N_("temperature readings imported"),
    # labels and printers
    "print": N_("printed"), "reprint": N_("reprinted"), "mark_applied": N_("marked applied"),
    "mark_voided": N_("marked voided"), "mark_destroyed": N_("marked destroyed"), "send": N_("sent"),
    "retry": N_("sent again"), "queue": N_("put in the print queue"),
    # instruments (equipment/rules/validity.py SERVICES)
    "calibration": N_("calibration recorded"), "maintenance": N_("maintenance recorded"),
    "out_of_service": N_("taken out of service"), "return_to_service": N_("returned to service"),
    # people and their passwords
    "login": N_("logged in"), "logout": N_("logged out"), "login_failed": N_("login failed"),
    "login_failed_locked": N_("login refused: account locked"), "signature_failed": N_("signature failed"),
    "signature_failed_locked": N_("signature refused: account locked"),
    "password_change_failed": N_("password change failed"),
    "password_change_failed_locked": N_("password change refused: account locked"),
    "cosignature_failed": N_("second person's signature failed"), "lock": N_("locked"), "unlock": N_("unlocked"),
    "change_password": N_("password changed"), "choose_language": N_("language chosen"),
    "set_active": N_("account enabled or disabled"), "set_email": N_("e-mail address changed"),
    "set_roles": N_("roles changed"),
    # the chain itself
    "rotate": N_("signing key rotated"), "seal_existing": N_("existing entries sealed"),
}


def record_type_label(code: object) -> str:
    """The word for an entry's ``record_type`` in the reader's language."""
    text = "" if code is None else str(code)
    return translated(RECORD_TYPES[text]) if text in RECORD_TYPES else label(code)


def action_label(code: object) -> str:
    """The word for an entry's ``action`` in the reader's language."""
    text = "" if code is None else str(code)
    return translated(ACTIONS[text]) if text in ACTIONS else label(code)


# The names of the values an entry keeps (its old and new values), for the regulated records' fields: a name
# not listed here is looked up in the vocabulary, else shown as stored with spaces for underscores. Values are
# stored as they were (the chain's hash covers them; docs/architecture.md, "Audit trail and e-signatures"):
# a page words only a stored code among them (audit/rules/readable.py).
FIELDS = {
    "status": N_("Status"), "state": N_("State"), "quality_status": N_("Quality status"),
    "custody_state": N_("Custody state"), "expires_at": N_("Expires"), "expires_on": N_("Expiry"),
    "volume_ml": N_("Volume (ml)"), "total_cells": N_("Total cells"), "reason": N_("Reason"), "note": N_("Note"),
    "cause": N_("Cause"), "name": N_("Name"), "kind": N_("Kind"), "lot": N_("Lot"), "lot_id": N_("Lot"),
    "lot_number": N_("Lot number"), "bag_id": N_("Bag id"), "bag_code": N_("Bag id"), "din": N_("DIN"),
    "subject_id": N_("Subject id"), "subject": N_("Subject"), "week": N_("Week"), "version": N_("Version"),
    "signature_id": N_("Signature"), "visit_id": N_("Visit"), "visit": N_("Visit"), "location": N_("Location"),
    "temperature_c": N_("Temperature (°C)"), "weight_kg": N_("Weight (kg)"), "quantity_left": N_("Left"),
    "product": N_("Product"), "thawed_at": N_("Thawed"), "started_at": N_("Started"), "ended_at": N_("Ended"),
    "collected_at": N_("Collected"), "lifted_at": N_("Lifted"), "eligibility": N_("Donor eligibility"),
    "bank_code": N_("Bank"), "code": N_("Code"), "username": N_("Username"), "roles": N_("Roles"),
    "email": N_("E-mail"), "language": N_("Language"), "arm": N_("Arm"), "infusion_id": N_("Infusion"),
    "infusion": N_("Infusion"), "test": N_("Test"), "step": N_("Step"), "passage": N_("Passage"),
    "supplier_lot": N_("Supplier's lot number"), "item": N_("Item"), "specification": N_("Specification"),
    "result": N_("Result"), "value": N_("Value"), "decision": N_("Decision"), "level": N_("Level"),
    "vial_count": N_("Vials"), "vial_code": N_("Vial"), "box": N_("Box"), "position": N_("Position"),
    "eligible": N_("Eligible"), "randomized": N_("Randomized"), "screening_number": N_("Screening number"),
    "material": N_("Material"), "quantity": N_("Quantity"),
    "spec_version": N_("Specification version"), "action_taken": N_("Action taken"),
    "adverse_event": N_("Adverse event"), "aware_at": N_("Site aware"), "bag_volume_ml": N_("Bag volume (ml)"),
    "bedside_check_id": N_("Bedside check"), "biopsy_proven": N_("Biopsy proven"), "category": N_("Category"),
    "cause_code": N_("Cause (code)"), "condition": N_("Condition"), "decided_at": N_("Decided"),
    "description": N_("Description"), "description_code": N_("Description (code)"), "done": N_("Done"),
    "done_at": N_("Done at"), "due_at": N_("Due"), "event_id": N_("Adverse event"), "expected": N_("Expected"),
    "expectedness": N_("Expectedness"), "grade": N_("Grade"), "heart_rate": N_("Heart rate"),
    "item_kind": N_("Item kind"), "limit": N_("Limit"), "meaning": N_("Meaning"), "number": N_("Number"),
    "occurred_at": N_("Occurred"), "onset_on": N_("Onset"), "oos": N_("Out of specification"),
    "oos_result": N_("Out-of-specification result"), "outcome": N_("Outcome"), "partial": N_("Partial"),
    "partial_reason": N_("Reason for a partial infusion"), "raise_signature_id": N_("Signature raising it"),
    "reactions": N_("Reactions"), "recall": N_("Recall"), "record_hash": N_("Record hash"),
    "record_id": N_("Record"), "record_type": N_("Record type"), "rejection_treatment": N_("Rejection treatment"),
    "repeat_of": N_("Repeat of"), "required_cells": N_("Cells required"), "resolved_on": N_("Resolved"),
    "result_after_release": N_("Result after release"), "sae_report": N_("SAE report"),
    "sample_stage": N_("Sample stage"), "sampled_at": N_("Sampled"), "sent_at": N_("Sent"), "sent_to": N_("Sent to"),
    "source": N_("Source"), "term": N_("Term"), "tested_at": N_("Tested"),
    "ultrasound_monitored": N_("Ultrasound monitored"), "vital_signs": N_("Vital signs"),
    "acute_rejection": N_("Acute rejection"), "infusion_reaction": N_("Infusion reaction"), "bp": N_("Blood pressure"),
    "start": N_("Start"), "end": N_("End"), "severity": N_("Severity"), "within_spec": N_("Within specification"),
    "after_release": N_("After release"), "signed": N_("Signed"),
    # a lot's manufacture, its fill and freezing, the thaw and the labels printed (the fields their entries keep)
    "anticoagulant_lot": N_("Anticoagulant lot"), "anticoagulant_volume_ml": N_("Anticoagulant volume (ml)"),
    "cells_per_ml": N_("Cells per ml"), "count": N_("Count"), "collection_din": N_("Collection DIN"),
    "content_hash": N_("Content hash"),
    "details": N_("Details"), "filled_at": N_("Filled"), "first_passage": N_("First passage"),
    "frozen_at": N_("Frozen"), "frozen_expires_at": N_("Frozen expiry"), "harvested_at": N_("Harvested"),
    "instruments": N_("Instruments"), "item_id": N_("Item"), "item_key": N_("Item code"),
    "item_type": N_("Item type"), "label_kind": N_("Label kind"), "performed_at": N_("Performed at"),
    "performed_by": N_("Performed by"), "post_thaw_viability_pct": N_("Post-thaw viability (%)"),
    "preservation": N_("Preservation"), "purpose": N_("Purpose"), "reprint": N_("Reprint"), "role": N_("Role"),
    "seeded_at": N_("Seeded"), "signer": N_("Signer"), "source_vial_id": N_("Source vial"),
    "started_lot": N_("Started lot"), "starting_doublings": N_("Starting doublings"),
    "status_at_use": N_("Status at use"), "step_id": N_("Step"), "unit": N_("Unit of measure"),
    "use_id": N_("Material use"), "used_at": N_("Used at"), "verified_by": N_("Verified by"), "where": N_("Where"),
}


# Batch steps by code, as an audit entry's ``step`` reads: their names in manufacturing/rules/batch_record.py (a
# step's code in brackets after its name elsewhere reads through the vocabulary, so these are not in it).
STEPS = {
    "tissue_processing": N_("Cord tissue processing and explant/digestion"),
    "media_and_reagent_lots": N_("Media and reagent lots recorded"), "harvest": N_("Final harvest"),
    "wash": N_("Wash"), "formulation": N_("Formulation (concentration and volume)"),
    "fill": N_("Fill into final bags"),
    "bank_freeze": N_("Cryopreservation into the cell bank (vials, cells per vial, cryoprotectant)"),
}


def step_label(code: str) -> str | None:
    """The name of a batch step an entry keeps by code, in the reader's language; None for another code."""
    return translated(STEPS[code]) if code in STEPS else None


def field_label(name: object) -> str:
    """The name of a value an entry keeps, in the reader's language where the catalogue has a word for it."""
    text = "" if name is None else str(name)
    return translated(FIELDS[text]) if text in FIELDS else label(text)
