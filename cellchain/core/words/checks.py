"""The bedside checks' words, by code: what each check says when it passes or fails, as templates.

A guard (``ward/rules/bedside_checks.py``) answers a code and plain values (``Said("right_subject:ok",
bag_code="W0000 26 000001-E0001V00", subject_code="S-001")``); the sentence the nurse reads is this
catalogue's template filled with those values, so a translation is a second catalogue with the same keys and
nothing in the rules changes (the same way as the refusals' ``reasons.MESSAGES``). A key is ``check:situation``;
a check that fails because of a refusal of another rule (a lot on hold, a dose out of tolerance) says that
refusal, worded from ``reasons.MESSAGES`` under the refusal's own code. The values a ``Said`` keeps are
plain (text, numbers), because the attempt stores them with its checks and a later page words them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from cellchain.core.words import N_, reasons, translated
from cellchain.core.words.labels import label

# Values that are stored codes with underscores, read with spaces as the checks always wrote them.
SPACED = frozenset({"lot_status", "custody_state"})
# Values that are stored codes shown through the one vocabulary (a subject's state, what a bag holds).
LABELLED = frozenset({"state", "kind", "wanted"})

# What a scan that is not the expected kind is, in words (``identifiers.scans`` kinds); a ``scan`` value is
# one of these kinds.
SCAN_KINDS = {
    "din": N_("DIN scan"), "subject": N_("subject's wristband scan"), "compound": N_("2D code that names no bag scan"),
}

DETAILS: dict[str, str] = {
    # --- what the scans name (ward/bedside_scans.py)
    'scan:wristband_unreadable': N_('the wristband scan cannot be read ({why})'),
    'scan:not_a_wristband': N_("this is a {scan}, not a subject's wristband"),
    'scan:subject_not_registered': N_('no subject {subject_code} is registered'),
    'scan:birth_date_mismatch': N_(
        "the wristband's birth date {birth_date} is not {subject_code}'s: check the wristband"
    ),
    'scan:bag_unreadable': N_('the bag scan cannot be read ({why})'),
    'scan:not_bag_identity': N_("a {scan} is not part of a bag's identity here"),
    'scan:din_missing': N_("the DIN is missing: scan the bag's 2D code, or both its DIN and product code barcodes"),
    'scan:product_code_missing': (
        N_("the product code is missing: scan the bag's 2D code, or both its DIN and product code barcodes")
    ),
    'scan:din_and_product_code_missing': (
        N_("the DIN and product code is missing: scan the bag's 2D code, or both its DIN and product code barcodes")
    ),
    'scan:bag_not_registered': N_('no bag {bag_code} is registered'),
    'scan:label_expiry_mismatch': (
        N_("the label's expiry ({printed}) does not match the record of bag {bag_code} ({record}): do not use it, "
        'call the lab')
    ),
    'scan:nothing_identified': N_('nothing was identified'),
    # --- a check that has nothing to judge
    'cannot_check:no_bag': N_('cannot check: no bag was identified'),
    'cannot_check:not_allocated': N_('cannot check: the bag is not allocated'),
    'cannot_check:no_subject': N_('cannot check: the wristband names no subject'),
    'cannot_compare:no_subject': N_('cannot compare: the wristband names no subject'),
    'cannot_compare:no_bag': N_('cannot compare: no bag was identified'),
    # --- the seventeen checks, in the order the nurse reads them
    'wristband_is_a_subject:ok': N_('the wristband is subject {subject_code}'),
    'subject_on_treatment:refused': N_('{subject_code} is {state}, not on treatment: no infusion is given'),
    'subject_on_treatment:first': N_('{subject_code} is randomized: this is the first infusion'),
    'subject_on_treatment:ok': N_('{subject_code} is on treatment'),
    'bag_identified:ucmsc': N_('bag {bag_code} (UC-MSC)'),
    'bag_identified:placebo': N_('bag {bag_code} (saline placebo)'),
    'right_subject:not_allocated': N_('bag {bag_code} is not allocated to any subject'),
    'right_subject:wrong_patient': N_('WRONG PATIENT: bag {bag_code} is allocated to {allocated}, this wristband is '
                                   '{subject_code}'),
    'right_subject:label_names_another': N_(
        "the bag's label names recipient {on_label}, this wristband is {subject_code}"
    ),
    'right_subject:ok': N_('bag {bag_code} is allocated to {subject_code}'),
    'chain_of_identity_matches:none': N_(
        '{subject_code} has no chain-of-identity identifier: it is issued at randomization'),
    'chain_of_identity_matches:wristband': N_(
        "CHAIN OF IDENTITY MISMATCH: the wristband carries {on_wristband}, which is not {subject_code}'s: check the "
        'wristband'),
    'chain_of_identity_matches:mismatch': N_(
        'CHAIN OF IDENTITY MISMATCH: bag {bag_code} carries {on_bag}, the wristband {on_wristband}: do not infuse'),
    'chain_of_identity_matches:ok': N_('chain of identity {chain_of_identity} on bag and wristband'),
    'infusion_visit_today:no_bag': N_('no visit to check: no bag was identified'),
    'infusion_visit_today:not_allocated': N_('no visit to check: the bag is not allocated'),
    'infusion_visit_today:not_infusion': N_('visit {visit_id} (week {week}) is not an infusion visit of the allocated '
                                         'subject'),
    'infusion_visit_today:done': N_('the week {week} infusion visit is already recorded as done'),
    'infusion_visit_today:early': (
        N_('today ({today}) the week {week} infusion window ({window_start} to {window_end}) has not opened yet; an '
        'infusion outside its window needs a clinical protocol deviation approved by the investigator')
    ),
    'infusion_visit_today:late': (
        N_('today ({today}) the week {week} infusion window ({window_start} to {window_end}) has closed; an infusion '
        'outside its window needs a clinical protocol deviation approved by the investigator')
    ),
    'infusion_visit_today:missed': N_('the week {week} infusion visit was marked missed by the coordinator'),
    'infusion_visit_today:allowed': (
        N_('week {week} infusion outside its window ({window_start} to {window_end}): allowed once by clinical '
        'deviation CD-{deviation_id}, approved by the investigator')
    ),
    'infusion_visit_today:ok': N_('week {week} infusion, window {window_start} to {window_end}'),
    'released:bag': N_('bag {bag_code} is {quality_status}, not released'),
    'released:lot': N_('lot {lot_number} is {lot_status}, not released'),
    'released:placebo': N_('placebo: licensed saline, 0.9%, released at filling'),
    'released:ok': N_('released by QA'),
    'lot_not_on_hold:ok': N_('the lot is not on hold'),
    'not_expired:expired': N_('EXPIRED at {expiry}'),
    'not_expired:ok': N_('expires {expiry}'),
    'bag_thawed:fresh': N_('fresh bag: no thaw'),
    'bag_thawed:frozen': (
        N_('bag {bag_code} is still FROZEN (bag_not_thawed): record its thaw, which prints its post-thaw label, and '
        'scan that label')
    ),
    'bag_thawed:ok': N_('thawed {thawed_at}'),
    'thaw_label_scanned:fresh': N_('fresh bag: its own label'),
    'thaw_label_scanned:not_thawed': N_('the bag has no post-thaw label yet: it is not thawed'),
    'thaw_label_scanned:not_2d': (
        N_('thaw_label_required: scan the 2D code of the label printed at the thaw; a keyed bag id or the linear codes'
        ' do not show the thawed expiry')
    ),
    'thaw_label_scanned:frozen_label': (
        N_("thaw_label_required: this label's expiry ({printed}) is not the thawed expiry ({record}): it is the frozen "
        'label; use the label printed at the thaw')
    ),
    'thaw_label_scanned:ok': N_('post-thaw label, expiry {expiry}'),
    'not_infused:infused': N_('bag {bag_code} has already been infused'),
    'not_infused:ok': N_('not infused before'),
    'received_on_ward:not_received': N_('the bag is {custody_state}; it must be received on the ward first'),
    'received_on_ward:ok': N_('received on the ward'),
    'received_on_ward:ok_at': N_('received on the ward at {location}'),
    'custody_unbroken:broken': N_('chain of custody broken: {breaks}'),
    'custody_unbroken:ok': N_('every hand-over recorded in order'),
    'no_open_excursion:open': N_('temperature excursion awaiting QA decision: {excursions}'),
    'no_open_excursion:reading': N_('{temperature_c:g} °C (allowed {low_c:g}-{high_c:g} °C)'),
    'no_open_excursion:ok': N_('no temperature excursion awaiting a decision'),
    'product_matches_arm:not_randomized': N_('{subject_code} is not randomized'),
    'product_matches_arm:wrong_product': N_('arm {arm} receives {wanted}, this bag is {kind}'),
    'product_matches_arm:ok': N_('arm {arm}: {kind}'),
    'dose_within_tolerance:placebo_ok': N_('{volume_ml:g} ml saline'),
    'dose_within_tolerance:no_count': N_('bag {bag_code} has no cell count recorded'),
    'dose_within_tolerance:ok': (
        N_('{total_cells:,.0f} cells for {weight_kg:g} kg ({deviation_pct:+.1f}% of {required:,.0f})')
    ),
    # --- the second nurse, checked when the infusion starts (ward/infusions.py)
    'second_verifier:same_person': N_(
        'the second verifier must be a different nurse from the one starting the infusion'
    ),
    'second_verifier:signature_refused': N_("the second nurse's signature was refused: {why}"),
    'second_verifier:ok': N_('{username} confirms with an e-signature'),
}


def worded(key: str, params: Mapping[str, Any]) -> str:
    """The sentence for ``key`` with ``params``: a check's words, or a refusal's under its own code."""
    if key not in DETAILS:
        return reasons.worded(key, params)
    return _filled(key, translated(DETAILS[key]), params)


def _filled(key: str, template: str, params: Mapping[str, Any]) -> str:
    missing = reasons.placeholders(template) - set(params)
    if missing:
        raise KeyError(f"check detail {key} needs {sorted(missing)}")
    return template.format_map({name: _shown(name, value) for name, value in params.items()})


def _shown(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name == "scan":
        return translated(SCAN_KINDS[value]) if value in SCAN_KINDS else value.replace("_", " ") + " scan"
    if name in LABELLED:
        return label(value)
    return value.replace("_", " ") if name in SPACED else value


class Said(NamedTuple):
    """What a check says, as a code and plain values; ``text`` is its sentence from the catalogue."""

    key: str
    params: Mapping[str, Any]

    @property
    def text(self) -> str:
        return worded(self.key, self.params)

    def __str__(self) -> str:
        return self.text


def said(key: str, /, **params: Any) -> Said:
    """A check's words by ``key``; a key without a template or a missing value fails where it is said."""
    words = Said(key, params)
    # Worded once here in English, so a bad key or value fails in the rule, not on the page; the reader's
    # words are looked up when shown (a nurse waits on the bedside check's seventeen of them).
    if key in DETAILS:
        _filled(key, DETAILS[key], params)
    else:
        words.text  # noqa: B018
    return words


def reworded(key: str | None, params: Mapping[str, Any] | None, stored: str) -> str:
    """A stored check's sentence worded again from the catalogue (a translation applies to old attempts
    too); an attempt stored before checks kept their codes, or whose words changed shape, reads as stored."""
    if not key:
        return stored
    try:
        return worded(key, params or {})
    except (KeyError, ValueError, TypeError, IndexError):
        return stored
