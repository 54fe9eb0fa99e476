"""One vocabulary: the words for every code a record stores and a page shows.

A record keeps codes (``at_lab``, ``ucmsc``, ``right_subject``) because machines, the API and the audit
trail compare them; a person reads the word for it. Every page template passes a code through the
``label`` filter (``cellchain/core/web.py``) and reasons word their coded values through ``label`` too,
so one code has one word everywhere. A code missing here still reads as words (underscores as spaces),
never as a raw identifier.
"""

from __future__ import annotations

from cellchain.core.words import N_, translated

# Where a cord, lot, bag or vial is in its chain of custody (ward/rules/custody_states.py STATES).
CUSTODY_STATES = {
    "collected": N_("collected"), "in_transit": N_("in transit"), "at_lab": N_("at the lab"),
    "in_storage": N_("in storage"),
    "dispatched": N_("dispatched"), "at_ward": N_("on the ward"), "infused": N_("infused"),
    "discarded": N_("discarded"),
    "thawed": N_("thawed"),
    "not_frozen": N_("not frozen"),  # a vial with no custody event yet (banking/rules/tiers.py)
}

# The custody events, as a hand-over is named (ward/rules/custody_states.py EVENTS).
CUSTODY_EVENTS = {
    "shipped": N_("shipped"), "received": N_("received at the lab"), "stored": N_("put into storage"),
    "dispatched": N_("dispatched to the ward"), "received_at_ward": N_("received on the ward"),
    "returned": N_("returned"),
    "discarded": N_("discarded"), "collected": N_("collected"), "filled": N_("filled"), "infused": N_("infused"),
    "frozen": N_("frozen"), "thawed": N_("thawed"), "taken": N_("taken out of storage"),
    "moved": N_("moved in storage"),
}

# Lots, bags, deviations, holds, labels, vials, banks, visits (each area's models.py).
STATUSES = {
    "in_process": N_("in process"), "awaiting_release": N_("awaiting release"), "released": N_("released"),
    "rejected": N_("rejected"), "quarantine": N_("in quarantine"), "open": N_("open"),
    "investigated": N_("investigated"),
    "decided": N_("decided"), "closed": N_("closed"), "lifted": N_("lifted"), "printed": N_("printed"),
    "applied": N_("applied"),
    "voided": N_("voided"), "destroyed": N_("destroyed"), "frozen": N_("frozen"), "done": N_("done"),
    "planned": N_("planned"),
    "scheduled": N_("scheduled"), "missed": N_("missed"), "pending": N_("pending"), "accepted": N_("accepted"),
    "eligible": N_("eligible"), "ineligible": N_("ineligible"), "deferred": N_("deferred"), "screened": N_("screened"),
    "randomized": N_("randomized"), "registered": N_("registered"), "started": N_("started"),
    "completed": N_("completed"),
    "partial": N_("partial"), "stopped": N_("stopped"), "in_window": N_("in window"), "early": N_("early"),
    "late": N_("late"),
    "not_applicable": N_("not applicable"), "negative": N_("negative"), "positive": N_("positive"),
    "indeterminate": N_("indeterminate"), "pass": N_("pass"), "fail": N_("fail"),
    "within_spec": N_("within specification"),
    "out_of_spec": N_("out of specification"), "queued": N_("queued"), "sent": N_("sent"), "failed": N_("failed"),
    "approved": N_("approved"),
}

# Where a subject stands in the trial (trial/rules/lifecycle.py STATES), why a withdrawal, a cancelled visit,
# and QA's decision on a bag a withdrawal sent back (trial/models.py BagReturn).
SUBJECT_STATES = {
    "screen_failed": N_("screen failed"), "on_treatment": N_("on treatment"),
    "treatment_completed": N_("treatment completed"),
    "study_completed": N_("study completed"), "withdrawn": N_("withdrawn"), "died": N_("died"),
    "cancelled": N_("cancelled"),
    "consent_withdrawn": N_("consent withdrawn"), "investigator_decision": N_("investigator's decision"),
    "lost_to_follow_up": N_("lost to follow-up"), "awaiting_decision": N_("awaiting QA's decision"),
    "restocked": N_("re-released to stock"),
}

# What a bag holds and how it is kept (manufacturing/models.py BAG_KINDS, PRESERVATIONS; lot purposes).
PRODUCTS = {
    "ucmsc": "UC-MSC", "placebo": N_("placebo (saline)"), "fresh": N_("fresh"), "cryopreserved": N_("cryopreserved"),
    "bank": N_("cell bank"), "dosing": N_("dosing"),
}

# Where a QC sample was taken (quality/rules/spec_limits.py SAMPLE_STAGES) and kinds of things.
STAGES = {
    "in_process": N_("in process"), "final_product": N_("final product"), "post_thaw": N_("post thaw"),
    "bank": N_("cell bank"),
}

KINDS = {
    "infusion": N_("infusion"), "follow_up": N_("follow-up"), "collection": N_("cord"), "lot": N_("lot"),
    "bag": N_("bag"),
    "vial": N_("vial"), "placebo_fill": N_("placebo fill"), "batch_step": N_("batch step"),
    "qc_result": N_("QC result"),
    "ln2_tank": N_("LN2 tank (vapour phase)"), "freezer_80": N_("-80 °C freezer"),
    "refrigerator": N_("2-8 °C refrigerator"),
    "room": N_("room"), "rack": N_("rack"), "shelf": N_("shelf"), "out_of_spec": N_("out of specification"),
    "oos": N_("out of specification"), "excursion": N_("temperature excursion"), "planned": N_("planned"),
    "unplanned": N_("unplanned"),
    "item_on_hold": N_("on hold"), "recall": N_("recall"),
    # clinical protocol deviations (safety/models.py CLINICAL_DEVIATION_KINDS)
    "missed_visit": N_("missed visit"), "out_of_window": N_("visit out of its window"),
    "dose_outside_tolerance": N_("dose outside tolerance"), "wrong_product": N_("wrong product or subject"),
    "partial_infusion": N_("partial infusion"), "other": N_("other"),
    "shipment": N_("shipment"),
}

# The place a thaw records when none is typed (ward/thaw.py WHERE).
PLACES = {"ward": N_("ward")}

# The seventeen bedside checks (ward/rules/bedside_checks.py), as the nurse reads them.
CHECKS = {
    "wristband_is_a_subject": N_("Wristband is a subject's"), "subject_on_treatment": N_("Subject on treatment"),
    "bag_identified": N_("Bag identified"),
    "right_subject": N_("Right subject"), "chain_of_identity_matches": N_("Chain of identity"),
    "infusion_visit_today": N_("Infusion visit today"),
    "released": N_("Released by QA"), "lot_not_on_hold": N_("Lot not on hold"), "not_expired": N_("Not expired"),
    "bag_thawed": N_("Bag thawed"), "thaw_label_scanned": N_("Post-thaw label scanned"),
    "not_infused": N_("Not infused before"),
    "received_on_ward": N_("Received on the ward"), "custody_unbroken": N_("Chain of custody unbroken"),
    "no_open_excursion": N_("No open temperature excursion"), "product_matches_arm": N_("Product matches the arm"),
    "dose_within_tolerance": N_("Dose within tolerance"), "second_verifier": N_("Second nurse verified"),
}

# A check whose meaning depends on what the bag holds: a placebo bag is released at filling on its licensed
# saline lot, never by QA (docs/rules.md, "Quarantine"), so its check says so.
CHECKS_BY_KIND = {
    ("released", "placebo"): N_("Saline released at filling"),
    ("dose_within_tolerance", "placebo"): N_("Placebo volume within tolerance"),
}

# QC tests by the code a specification gives them (quality/specifications.py; each test's full name is on
# the specification itself, this is the short word a list of missing tests uses).
QC_TESTS = {
    "cell_count": N_("cell count"), "viability": N_("viability"), "hla_dr": "HLA-DR", "gram_stain": N_("Gram stain"),
    "plastic_adherence": N_("plastic adherence"), "trilineage": N_("tri-lineage differentiation"),
    "endotoxin": N_("endotoxin"),
    "mycoplasma": N_("mycoplasma"), "sterility": N_("sterility"), "karyotype": N_("karyotype"), "cd73": "CD73",
    "cd90": "CD90", "cd105": "CD105", "cd34": "CD34", "cd45": "CD45", "cd14": N_("CD14 or CD11b"),
    "cd19": N_("CD19 or CD79a"),
}

ROLES = {
    "lab": N_("lab technician"), "qc": N_("QC analyst"), "qa": N_("QA reviewer"),
    "coordinator": N_("trial coordinator"),
    "nurse": N_("nurse"), "investigator": N_("investigator"), "admin": N_("administrator"),
    "auditor": N_("auditor / monitor"),
}

# What stands between a lot and its release, as a list of open points names it (quality/release_gaps.py).
RELEASE_GAPS = {
    "qc_missing": N_("QC result missing"), "qc_out_of_spec": N_("QC out of specification"),
    "deviation_open": N_("deviation open"), "excursion_open": N_("temperature excursion open"),
    "batch_record_incomplete": N_("batch record incomplete"), "lot_on_hold": N_("on hold"),
    "donor_not_eligible": N_("donor not eligible"), "donor_determination_pending": N_("donor determination pending"),
    "reviewer_made_lot": N_("you made this lot"),
    "reviewer_tested_lot": N_("you tested this lot"), "source_bank_not_released": N_("its bank is not released"),
}

# The instrument registry (equipment/rules/validity.py KINDS, SERVICES, STATUSES; equipment/models.py events).
EQUIPMENT = {
    "biosafety_cabinet": N_("biosafety cabinet"), "incubator": N_("incubator"), "centrifuge": N_("centrifuge"),
    "cell_counter": N_("cell counter"), "controlled_rate_freezer": N_("controlled-rate freezer"),
    "storage_unit": N_("storage unit"), "in_service": N_("in service"), "out_of_service": N_("out of service"),
    "calibration": N_("calibration"), "maintenance": N_("maintenance"), "register": N_("registered"),
    "return_to_service": N_("returned to service"), "instrument_unfit_when_used": N_("instrument not fit when used"),
}

# Input names a refused form lists its problems under.
FIELDS = {
    "signature.password": N_("password"), "signature.username": N_("username"), "signature.meaning": N_("meaning"),
    "signature_password": N_("password"), "signature_username": N_("username"),
}

# An adverse event's record and its outcome (safety/models.py EVENT_STATUSES; the outcome's words are
# safety/rules/terms.py OUTCOMES), and a deviation's moves (quality/deviations.py MOVES).
SAFETY_AND_DEVIATIONS = {
    "draft": N_("draft"), "confirmed": N_("confirmed"), "recovered": N_("recovered / resolved"),
    "recovering": N_("recovering / resolving"), "not_recovered": N_("not recovered / not resolved"),
    "recovered_with_sequelae": N_("recovered / resolved with sequelae"), "fatal": N_("fatal"),
    "investigate": N_("investigate"), "decide": N_("decide"), "close": N_("close"),
    # the sentence code of an adverse event drafted from a bedside reaction (core/words/sentences.py), as an
    # audit entry's description code reads
    "reaction_draft": N_("drafted from an infusion reaction"),
}

# A bedside reaction's severity as the nurse chose it (ward/infusions.py SEVERITIES), read wherever it is shown:
# the completion page, an adverse event drafted from it (core/words/sentences.py CODED).
REACTION_SEVERITIES = {"mild": N_("mild"), "moderate": N_("moderate"), "severe": N_("severe"),
                       "life_threatening": N_("life-threatening")}

# Materials (materials/models.py MATERIAL_KINDS, USE_ROLES; a hold on a material lot).
MATERIALS = {
    "medium": N_("culture medium"), "platelet_lysate": N_("platelet lysate"), "serum": N_("serum"),
    "enzyme": N_("enzyme"), "dmso": N_("DMSO"), "anticoagulant": N_("anticoagulant"), "saline": N_("saline"),
    "other": N_("other"), "material_lot": N_("material lot"), "step": N_("batch step"),
    "anticoagulant_material_lot": N_("anticoagulant material lot"),
}

# What a signature means (audit/signatures.py MEANINGS), an adverse event version's status and a report's
# kind (safety/models.py), a subject's sex, where a temperature reading came from (storage/temperatures.py),
# a planned dose's state (reports/dosing.py), a passage's counts as its batch step records them
# (manufacturing/lots.py) and the units a material lot is counted in (materials/catalogue.py UNITS; ml, g
# and the like read alike in both languages).
RECORD_WORDS = {
    "performed": N_("performed"), "verified": N_("verified"), "reviewed": N_("reviewed"), "authored": N_("authored"),
    "administered": N_("administered"), "male": N_("male"), "female": N_("female"), "entered": N_("entered"),
    "allocated": N_("allocated"), "not_allocated": N_("not allocated"), "infusing": N_("infusing"),
    "draft": N_("draft"), "confirmed": N_("confirmed"), "initial": N_("initial report"),
    "seeded_cells": N_("seeded cells"), "harvested_cells": N_("harvested cells"), "viability_pct": N_("viability (%)"),
    "population_doublings": N_("population doublings"), "cumulative_doublings": N_("cumulative population doublings"),
    "units": N_("units"), "vials": N_("vials"), "bags": N_("bags"), "bottles": N_("bottles"), "kits": N_("kits"),
    # codes an audit entry's values keep: an adverse event's category and the action taken with the study
    # product (safety/rules/terms.py), the record a signature or deviation names, a system-written sentence's code
    "acute_rejection": N_("acute rejection (event of special interest)"),
    "infusion_reaction": N_("infusion-related reaction"), "not_changed": N_("dose not changed"),
    "clinical_deviation": N_("clinical protocol deviation"), "sae_report": N_("SAE report"),
    "oos_result": N_("Out-of-specification result"), "result_after_release": N_("Result after release"),
}

VOCABULARY: dict[str, str] = {
    **PLACES,
    **RECORD_WORDS, **FIELDS, **RELEASE_GAPS, **QC_TESTS, **KINDS, **STAGES, **ROLES, **PRODUCTS, **CUSTODY_EVENTS,
    **CUSTODY_STATES, **STATUSES, **SUBJECT_STATES, **MATERIALS, **EQUIPMENT, **SAFETY_AND_DEVIATIONS,
    **REACTION_SEVERITIES,
}


def label(code: object) -> str:
    """The word for a stored ``code``; a code not listed reads with spaces for underscores, looked up in the
    catalogue too, so a rule that fills an English word marked ``N_`` into a reason ("take a passage",
    "thawed bag") has it read in the reader's language (docs/architecture.md, "Languages")."""
    if code is None:
        return ""
    text = str(code)
    if text in VOCABULARY:
        return translated(VOCABULARY[text])
    words = text.replace("_", " ")
    return translated(words) if words.strip() else words


def check_label(name: str, kind: str | None = None) -> str:
    """A bedside check's name for the nurse, for a bag of ``kind`` (a check's name is not a status: the
    ``released`` check is "Released by QA", a lot's ``released`` status is "released")."""
    found = CHECKS_BY_KIND.get((name, kind or "")) or CHECKS.get(name)
    return translated(found) if found else label(name)
