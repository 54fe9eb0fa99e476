"""The regulated tables, in one place: which audit record type each one's entries carry, the column an
entry's record id names, and which of the values an entry records are the row's columns.

Reconciliation (``audit/reconcile.py``) rebuilds each row's last recorded values from the trail and
compares them with the row; the row-change log (migration 0019, ``audit/row_changes.py``) puts its
triggers on these tables. A column not listed under ``fields`` is not compared: either the trail does not
record it (who and when a row was written, hashes, counters the login throttle moves) or it changes
through a record of its own (a bag's custody state through its custody events, which are append-only).
docs/security.md, "Reconciliation and the row-change log", lists the covered columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Regulated:
    table: str
    record_type: str  # the audit entries' record_type for this table's rows
    key: str  # the column an entry's record_id names
    # entry value name -> column; the same name unless the entry calls it otherwise (a bag's "bag_id")
    fields: dict[str, str] = field(default_factory=dict)

    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.fields.values()))


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


REGULATED: tuple[Regulated, ...] = (
    Regulated("collections", "collection", "id",
              _same("din", "donor_code", "collected_at", "site", "consent_obtained", "specimen_collected_at",
                    "medical_history_ok", "eligibility")),
    Regulated("lots", "lot", "id",
              {**_same("lot_number", "status", "purpose", "source_vial_id", "first_passage", "spec_version",
                       "harvested_cells", "harvested_at", "decided_at"),
               "collection_din": "din", "cells_per_ml": "formulated_cells_per_ml", "volume_ml": "formulated_volume_ml",
               "signature_id": "decision_signature_id"}),
    Regulated("bags", "bag", "id",
              {"bag_id": "bag_code",
               **_same("kind", "quality_status", "lot_id", "saline_lot", "volume_ml", "total_cells", "anticoagulant",
                       "anticoagulant_lot", "anticoagulant_volume_ml", "filled_at", "expires_at", "preservation",
                       "frozen_at", "frozen_expires_at", "thawed_at", "for_subject_id", "for_visit_id")}),
    Regulated("qc_results", "qc_result", "id",
              {"test": "test_code", "limit": "limit_text", "repeat_of": "repeat_of_id",
               **_same("value", "within_spec", "spec_version", "tested_at", "sample_stage", "sampled_at")}),
    Regulated("holds", "hold", "id", {**_same("lot_id", "cause", "lifted_at", "item_kind", "recall",
                                            "raise_signature_id"),
                                      "qc_result": "qc_result_id", "signature_id": "lift_signature_id"}),
    Regulated("deviations", "deviation", "id",
              {**_same("number", "kind", "description", "status", "root_cause", "impact", "decision",
                       "justification", "closed_at", "closing_signature_id"),
               "test": "test_code", "qc_result": "qc_result_id"}),
    Regulated("subjects", "subject", "subject_code",
              _same("screening_number", "birth_date", "sex", "day0", "weight_kg", "eligible", "arm")),
    Regulated("visits", "visit", "id", _same("status", "done_at", "planned_at", "weight_kg", "week", "kind")),
    Regulated("allocations", "allocation", "id", _same("visit_id", "weight_kg", "required_cells")),
    Regulated("infusions", "infusion", "id",
              {**_same("started_at", "status", "ended_at", "volume_ml", "reactions", "vital_signs",
                       "ultrasound_monitored", "partial_reason", "bedside_check_id"),
               "visit": "visit_id", "signature_id": "verifier_signature_id"}),
    Regulated("adverse_events", "adverse_event", "id", _same("status", "version")),
    Regulated("users", "user", "id", _same("username", "full_name", "email", "active")),
    # Roles change only through the user's entries ("set_roles"), which name the user, not the role row:
    # logged by the row-change log, not reconciled field by field.
    Regulated("user_roles", "user_role", "id"),
    Regulated("role_grants", "role_grant", "id"),
    # Append-only already (UPDATE and DELETE refused): a row slipped in beside the application is logged.
    Regulated("signatures", "signature", "id"),
    Regulated("custody_events", "custody_event", "id"),
    # Watched by the row-change log; their changes are audited under their own entries.
    Regulated("bag_returns", "bag_return", "id"),
    Regulated("donor_results", "donor_result", "id"),
    Regulated("clinical_deviations", "clinical_deviation", "id"),
    # Materials (migration 0027): the catalogue, the lots received and their decisions, each use.
    Regulated("materials", "material", "id",
              _same("name", "supplier", "catalogue_number", "gtin", "kind", "storage", "human_animal_origin")),
    Regulated("material_lots", "material_lot", "id",
              {**_same("supplier_lot", "expires_on", "quantity_received", "quantity_left", "unit", "status",
                       "decided_at"), "signature_id": "decision_signature_id"}),
    Regulated("material_uses", "material_use", "id"),
    Regulated("instruments", "instrument", "id"),
    Regulated("instrument_events", "instrument_event", "id"),
    Regulated("instrument_uses", "instrument_use", "id"),
    Regulated("thaw_instrument_uses", "thaw_instrument_use", "id"),
    # Labels (migration 0030): each label printed and how it was accounted for, the printer registry, and the
    # print jobs (queued, then sent or failed; docs/architecture.md, "Label printers").
    Regulated("label_prints", "label_print", "id",
              _same("label_kind", "item_type", "item_id", "item_key", "content_hash", "reprint", "status")),
    Regulated("printers", "printer", "id", _same("name", "place", "kind", "address", "dpi", "label_sizes", "active")),
    Regulated("print_jobs", "print_job", "id",
              _same("printer_id", "label_kind", "target", "item_key", "label_ids", "fmt", "dpi", "status", "error",
                    "attempts", "queued_at", "sent_at")),
)

BY_TABLE: dict[str, Regulated] = {r.table: r for r in REGULATED}
