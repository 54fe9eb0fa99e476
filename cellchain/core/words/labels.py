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
    "collected": "collected", "in_transit": "in transit", "at_lab": "at the lab", "in_storage": "in storage",
    "dispatched": "dispatched", "at_ward": "on the ward", "infused": "infused", "discarded": "discarded",
    "thawed": "thawed",
}

# The custody events, as a hand-over is named (ward/rules/custody_states.py EVENTS).
CUSTODY_EVENTS = {
    "shipped": "shipped", "received": "received at the lab", "stored": "put into storage",
    "dispatched": "dispatched to the ward", "received_at_ward": "received on the ward", "returned": "returned",
    "discarded": "discarded", "collected": "collected", "filled": "filled", "infused": "infused",
    "frozen": "frozen", "thawed": "thawed", "taken": "taken out of storage", "moved": "moved in storage",
}

# Lots, bags, deviations, holds, labels, vials, banks, visits (each area's models.py).
STATUSES = {
    "in_process": "in process", "awaiting_release": "awaiting release", "released": "released",
    "rejected": "rejected", "quarantine": "in quarantine", "open": "open", "investigated": "investigated",
    "decided": "decided", "closed": "closed", "lifted": "lifted", "printed": "printed", "applied": "applied",
    "voided": "voided", "destroyed": "destroyed", "frozen": "frozen", "done": "done", "planned": "planned",
    "scheduled": "scheduled", "missed": "missed", "pending": "pending", "accepted": "accepted",
    "eligible": "eligible", "ineligible": "ineligible", "deferred": "deferred", "screened": "screened",
    "randomized": "randomized", "registered": "registered", "started": "started", "completed": "completed",
    "partial": "partial", "stopped": "stopped", "in_window": "in window", "early": "early", "late": "late",
    "not_applicable": "not applicable", "negative": "negative", "positive": "positive",
    "indeterminate": "indeterminate", "pass": "pass", "fail": "fail", "within_spec": "within specification",
    "out_of_spec": "out of specification", "queued": "queued", "sent": "sent", "failed": "failed",
    "approved": "approved",
}

# Where a subject stands in the trial (trial/rules/lifecycle.py STATES), why a withdrawal, a cancelled visit,
# and QA's decision on a bag a withdrawal sent back (trial/models.py BagReturn).
SUBJECT_STATES = {
    "screen_failed": "screen failed", "on_treatment": "on treatment", "treatment_completed": "treatment completed",
    "study_completed": "study completed", "withdrawn": "withdrawn", "died": "died", "cancelled": "cancelled",
    "consent_withdrawn": "consent withdrawn", "investigator_decision": "investigator's decision",
    "lost_to_follow_up": "lost to follow-up", "awaiting_decision": "awaiting QA's decision",
    "restocked": "re-released to stock",
}

# What a bag holds and how it is kept (manufacturing/models.py BAG_KINDS, PRESERVATIONS; lot purposes).
PRODUCTS = {
    "ucmsc": "UC-MSC", "placebo": "placebo (saline)", "fresh": "fresh", "cryopreserved": "cryopreserved",
    "bank": "cell bank", "dosing": "dosing",
}

# Where a QC sample was taken (quality/rules/spec_limits.py SAMPLE_STAGES) and kinds of things.
STAGES = {
    "in_process": "in process", "final_product": "final product", "post_thaw": "post thaw", "bank": "cell bank",
}

KINDS = {
    "infusion": "infusion", "follow_up": "follow-up", "collection": "cord", "lot": "lot", "bag": "bag",
    "vial": "vial", "placebo_fill": "placebo fill", "batch_step": "batch step", "qc_result": "QC result",
    "ln2_tank": "LN2 tank (vapour phase)", "freezer_80": "-80 °C freezer", "refrigerator": "2-8 °C refrigerator",
    "room": "room", "rack": "rack", "shelf": "shelf", "out_of_spec": "out of specification",
    "oos": "out of specification", "excursion": "temperature excursion", "planned": "planned", "unplanned": "unplanned",
    "item_on_hold": "on hold", "recall": "recall",
    # clinical protocol deviations (safety/models.py CLINICAL_DEVIATION_KINDS)
    "missed_visit": "missed visit", "out_of_window": "visit out of its window",
    "dose_outside_tolerance": "dose outside tolerance", "wrong_product": "wrong product or subject",
    "partial_infusion": "partial infusion", "other": "other",
}

# The seventeen bedside checks (ward/rules/bedside_checks.py), as the nurse reads them.
CHECKS = {
    "wristband_is_a_subject": "Wristband is a subject's", "subject_on_treatment": "Subject on treatment",
    "bag_identified": "Bag identified",
    "right_subject": "Right subject", "chain_of_identity_matches": N_("Chain of identity"),
    "infusion_visit_today": "Infusion visit today",
    "released": "Released by QA", "lot_not_on_hold": "Lot not on hold", "not_expired": "Not expired",
    "bag_thawed": "Bag thawed", "thaw_label_scanned": "Post-thaw label scanned", "not_infused": "Not infused before",
    "received_on_ward": "Received on the ward", "custody_unbroken": "Chain of custody unbroken",
    "no_open_excursion": "No open temperature excursion", "product_matches_arm": "Product matches the arm",
    "dose_within_tolerance": "Dose within tolerance", "second_verifier": "Second nurse verified",
}

# A check whose meaning depends on what the bag holds: a placebo bag is released at filling on its licensed
# saline lot, never by QA (docs/rules.md, "Quarantine"), so its check says so.
CHECKS_BY_KIND = {
    ("released", "placebo"): "Saline released at filling",
    ("dose_within_tolerance", "placebo"): "Placebo volume within tolerance",
}

# QC tests by the code a specification gives them (quality/specifications.py; each test's full name is on
# the specification itself, this is the short word a list of missing tests uses).
QC_TESTS = {
    "cell_count": "cell count", "viability": "viability", "hla_dr": "HLA-DR", "gram_stain": "Gram stain",
    "plastic_adherence": "plastic adherence", "trilineage": "tri-lineage differentiation", "endotoxin": "endotoxin",
    "mycoplasma": "mycoplasma", "sterility": "sterility", "karyotype": "karyotype", "cd73": "CD73",
    "cd90": "CD90", "cd105": "CD105", "cd34": "CD34", "cd45": "CD45", "cd14": "CD14 or CD11b",
    "cd19": "CD19 or CD79a",
}

ROLES = {
    "lab": "lab technician", "qc": "QC analyst", "qa": "QA reviewer", "coordinator": "trial coordinator",
    "nurse": "nurse", "investigator": "investigator", "admin": "administrator", "auditor": "auditor / monitor",
}

# What stands between a lot and its release, as a list of open points names it (quality/release_gaps.py).
RELEASE_GAPS = {
    "qc_missing": "QC result missing", "qc_out_of_spec": "QC out of specification",
    "deviation_open": "deviation open", "excursion_open": "temperature excursion open",
    "batch_record_incomplete": "batch record incomplete", "lot_on_hold": "on hold",
    "donor_not_eligible": "donor not eligible", "donor_determination_pending": "donor determination pending",
    "reviewer_made_lot": "you made this lot",
    "reviewer_tested_lot": "you tested this lot", "source_bank_not_released": "its bank is not released",
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
    "signature.password": "password", "signature.username": "username", "signature.meaning": "meaning",
    "signature_password": "password", "signature_username": "username",
}

# Materials (materials/models.py MATERIAL_KINDS, USE_ROLES; a hold on a material lot).
MATERIALS = {
    "medium": N_("culture medium"), "platelet_lysate": N_("platelet lysate"), "serum": N_("serum"),
    "enzyme": N_("enzyme"), "dmso": N_("DMSO"), "anticoagulant": N_("anticoagulant"), "saline": N_("saline"),
    "other": N_("other"), "material_lot": N_("material lot"), "step": N_("batch step"),
    "anticoagulant_material_lot": N_("anticoagulant material lot"),
}

VOCABULARY: dict[str, str] = {
    **FIELDS, **RELEASE_GAPS, **QC_TESTS, **KINDS, **STAGES, **ROLES, **PRODUCTS, **CUSTODY_EVENTS,
    **CUSTODY_STATES, **STATUSES, **SUBJECT_STATES, **MATERIALS, **EQUIPMENT,
}


def label(code: object) -> str:
    """The word for a stored ``code``; a code not listed reads with spaces for underscores."""
    if code is None:
        return ""
    text = str(code)
    return translated(VOCABULARY[text]) if text in VOCABULARY else text.replace("_", " ")


def check_label(name: str, kind: str | None = None) -> str:
    """A bedside check's name for the nurse, for a bag of ``kind`` (a check's name is not a status: the
    ``released`` check is "Released by QA", a lot's ``released`` status is "released")."""
    found = CHECKS_BY_KIND.get((name, kind or "")) or CHECKS.get(name)
    return translated(found) if found else label(name)
