"""The words for what a scan decoded: what kind of code it is, the name of each field it carries, and the
name of each value the record it names shows at the scan station.

The parsers (``identifiers/scans.py``, ``identifiers/isbt128.py``, ``identifiers/gs1.py``) and the resolver
(``scanning/resolver.py``) keep their fields under codes (``product_code``, ``expires_at``, ``gtin``): the API
answers them as they are, and a person reads the word for each here, in the reader's language. A field not
listed reads with spaces for underscores, never as a raw identifier.
"""

from __future__ import annotations

import re

from cellchain.core.words import N_, translated
from cellchain.core.words.labels import label

# What a scan is (identifiers/scans.py parse_scan kinds, and each structure of a compound message).
SCAN_KINDS = {
    "din": N_("donation identification number (DIN)"), "product_code": N_("product code"),
    "expiry_date": N_("expiry date"), "expiry_datetime": N_("expiry date and time"),
    "collection_date": N_("collection date"), "collection_datetime": N_("collection date and time"),
    "production_datetime": N_("production date and time"), "container_lot": N_("container maker's lot"),
    "patient_birth_date": N_("patient's birth date"), "patient_id": N_("patient identification"),
    "chain_of_identity": N_("chain-of-identity identifier"), "local": N_("local data structure"),
    "compound": N_("compound"), "subject": N_("subject's wristband"), "bag": N_("bag id"),
    "gs1": N_("supplier's GS1 barcode"), "material_lot": N_("material lot label"),
}

# The fields of ISBT 128 structures and of the site's own codes (identifiers/isbt128.py, identifiers/scans.py).
SCAN_FIELDS = {
    "din": N_("Donation identification number"), "check": N_("Check character"), "flags": N_("Flags"),
    "entry": N_("Entered as"), "product_code": N_("Product code"), "collection_type": N_("Collection type"),
    "division": N_("Division"), "expires_at": N_("Expiry"), "collected_at": N_("Collected"),
    "produced_at": N_("Produced"), "has_time": N_("With a time of day"), "lot": N_("Lot number"),
    "location": N_("Location code"), "patient_id": N_("Patient identification"), "subject_id": N_("Subject id"),
    "chain_of_identity": N_("Chain of identity"), "letter": N_("Data identifier letter"),
    "identifier": N_("Identifier"), "birth_date": N_("Birth date"), "count": N_("Structures read"),
    "reference": N_("Reference"), "concatenated": N_("Read as one concatenated scan"), "bag_id": N_("Bag id"),
    "code": N_("Code"),
}

# The application identifiers of a supplier's GS1 barcode (identifiers/gs1.py AIS), by their names there.
GS1_FIELDS = {
    "sscc": N_("Serial shipping container code (SSCC)"), "gtin": N_("GTIN"), "content_gtin": N_("GTIN of the contents"),
    "lot": N_("Lot number"), "production_date": N_("Production date"), "due_date": N_("Due date"),
    "packaging_date": N_("Packaging date"), "best_before": N_("Best before"), "sell_by": N_("Sell by"),
    "expiry": N_("Expiry"), "variant": N_("Product variant"), "serial": N_("Serial number"),
    "cpv": N_("Consumer product variant"), "count": N_("Count"), "count_of_items": N_("Count of trade items"),
    "additional_id": N_("Additional product identification"), "customer_part": N_("Customer's part number"),
}
_INTERNAL_AI = re.compile(r"internal_(9[0-9])")
INTERNAL_AI = N_("Company internal information (AI {ai})")

# How a DIN came in (identifiers/scans.py: ``entry``).
ENTRIES = {"barcode": N_("a scanned barcode"), "keyed": N_("keyed with its check character")}

# What the scan station says of the record a scan names (scanning/resolver.py summaries).
RECORD_FIELDS = {
    "bag_id": N_("Bag id"), "product": N_("Product"), "quality_status": N_("Quality status"),
    "custody_state": N_("Custody state"), "lot_id": N_("Lot"), "volume_ml": N_("Volume (ml)"),
    "total_cells": N_("Total cells"), "expires_at": N_("Expires"), "vial_code": N_("Vial"), "bank_code": N_("Bank"),
    "level": N_("Level"), "din": N_("Donation identification number"), "state": N_("State"),
    "vial_count": N_("Vials"), "eligibility": N_("Donor eligibility"), "collected_at": N_("Collected"),
    "status": N_("Status"), "spec_version": N_("Specification"), "subject_id": N_("Subject id"),
    "screening_number": N_("Screening number"), "eligible": N_("Eligible"), "randomized": N_("Randomized"),
    "box": N_("Box"), "name": N_("Name"), "unit": N_("Unit"), "location": N_("Location"), "rows": N_("Rows"),
    "columns": N_("Columns"), "taken": N_("Positions taken"), "position": N_("Position"),
    "item_type": N_("Kind"), "item": N_("Item"), "kind": N_("Kind"), "boxes": N_("Boxes"),
    "code": N_("Code"), "material": N_("Material"), "supplier_lot": N_("Supplier's lot number"),
    "expires_on": N_("Expiry"), "quantity_left": N_("Left"),
}
# A name that means something else on one kind of record: a material lot's unit is a unit of measure (ml).
RECORD_FIELDS_OF = {("material_lot", "unit"): N_("Unit of measure")}

# What the scan station says when a well-formed scan names a record this database does not hold
# (scanning/resolver.py describe), by the record it looked for.
NOT_HELD = {
    "bag": N_("no bag {key} in this database"), "subject": N_("no subject {key} in this database"),
    "chain_of_identity": N_("no subject has chain of identity {key} in this database"),
    "vial": N_("no vial {key} in this database"), "lot": N_("no lot {key} in this database"),
    "collection": N_("no collection has DIN {key} in this database"),
    "box": N_("no storage box {key} in this database"), "position": N_("no storage position {key} in this database"),
    "location": N_("no rack or shelf {key} in this database"),
    "material_lot": N_("no material lot {key} in this database"),
    "instrument": N_("no instrument {key} in this database"),
    "gs1": N_("no material lot of GTIN {gtin} lot {lot} in this database"),
}


def _words(found: str | None, name: object) -> str:
    return translated(found) if found else label(name)


def scan_kind_label(kind: object) -> str:
    """What a scan is, in the reader's language ("product code", "supplier's GS1 barcode")."""
    return _words(SCAN_KINDS.get(str(kind)), kind)


def scan_field_label(name: object, kind: object = None) -> str:
    """The name of a field a scan of ``kind`` carries: a GS1 barcode's by its application identifier."""
    text = str(name)
    if kind == "gs1":
        internal = _INTERNAL_AI.fullmatch(text)
        if internal:
            return translated(INTERNAL_AI).format(ai=internal.group(1))
        return _words(GS1_FIELDS.get(text), name)
    return _words(SCAN_FIELDS.get(text), name)


def scan_value(value: object, name: object = None) -> object:
    """A field's value as a person reads it: yes or no for a flag, how a DIN came in; others as they are."""
    if isinstance(value, bool):
        return translated(N_("yes")) if value else translated(N_("no"))
    if name == "entry" and isinstance(value, str) and value in ENTRIES:
        return translated(ENTRIES[value])
    return value


def record_field_label(name: object, record_type: object = None) -> str:
    """The name of a value the scan station shows of a record of ``record_type``."""
    text = str(name)
    return _words(RECORD_FIELDS_OF.get((str(record_type), text)) or RECORD_FIELDS.get(text), name)


def not_held(record: str, **values: object) -> str:
    """The note for a scan of a ``record`` this database does not hold, with the values that name it."""
    return translated(NOT_HELD[record]).format(**values)
