"""API shapes of manufacturing: cord collections, lots (passages, harvest, formulation, batch record), bags.

Request fields are ``Checked...``: the operations read them with the rules that give them meaning and
name every bad field at once; the schema refuses only fields it does not name. Answers dump the
records the operations return (a row, or a ``RowWith`` adding the public keys the row refers to by id).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedDate,
    CheckedDateTime,
    CheckedDict,
    CheckedFloat,
    CheckedInteger,
    CheckedList,
    CheckedNested,
    CheckedRaw,
    CheckedString,
    PageQuery,
    ReasonSchema,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.equipment.schemas import UsedSchema, instruments_field
from cellchain.manufacturing.rules import donor
from cellchain.quality.schemas import QcResultSchema
from cellchain.ward.schemas import CustodyEventSchema

LOT_STATUSES = ["in_process", "awaiting_release", "released", "rejected"]
LOT_PURPOSES = ["bank", "dosing"]


# --- collections ------------------------------------------------------------------------------------------

class CollectionIn(RequestSchema):
    donor_code = CheckedString(required=True, metadata={"description": "a code for the mother, never a name"})
    collected_at = CheckedDateTime(required=True)
    site = CheckedString(required=True)
    consent_obtained = CheckedBoolean(required=True)
    screening = CheckedDict(keys=fields.String(validate=validate.OneOf(donor.SCREENING_TESTS)),
                            values=fields.String(validate=validate.OneOf(donor.RESULTS)), required=True)
    specimen_collected_at = CheckedDateTime()
    medical_history_ok = CheckedBoolean(metadata={"description": "true unless said otherwise"})


class DonorResultIn(RequestSchema):
    test = CheckedString(required=True, validate=validate.OneOf(donor.SCREENING_TESTS))
    result = CheckedString(required=True, validate=validate.OneOf(donor.RESULTS))
    result_date = CheckedDate(required=True, metadata={"description": "the day the laboratory reported it"})
    laboratory = CheckedString(required=True, metadata={"description": "the laboratory that reported it"})


class DeterminationIn(RequestSchema):
    signature = signature_field(required=True, metadata={
        "description": "the investigator's e-signature; meaning approved"})


class DonorResultSchema(Schema):
    """One maternal screening result of the cord, as entered."""

    id = fields.Integer(required=True)
    test = fields.String(required=True)
    result = fields.String(required=True, validate=validate.OneOf(donor.RESULTS))
    result_date = fields.Date(allow_none=True, metadata={"description": "null: given at registration without it"})
    laboratory = fields.String(required=True)
    late = fields.Boolean(required=True, metadata={"description": "entered after the cord was registered"})
    entered_by = fields.Integer(required=True)
    entered_at = UtcDateTime(required=True)


class OpenExcursionSchema(Schema):
    """A temperature excursion of the cord that awaits QA's decision."""

    excursion_id = fields.Integer(required=True, attribute="id")
    temperature_c = fields.Float(required=True)
    range = fields.Method("_range", metadata={"type": "array", "items": {"type": "number"},
                                              "description": "the allowed range, low and high, in °C"})

    def _range(self, excursion: object) -> list[float]:
        return [excursion.low_c, excursion.high_c]  # type: ignore[attr-defined]


class CollectionOut(Schema):
    """A cord collection; reading one (GET) adds its chain of custody, open excursions and lot."""

    din = fields.String(required=True)
    eligibility = fields.String(required=True, validate=validate.OneOf(["eligible", "ineligible", "pending"]))
    reasons = fields.List(fields.Nested(ReasonSchema), attribute="eligibility_reasons",
                          metadata={"description": "every reason against eligibility"})
    status = fields.String(attribute="custody_state", allow_none=True,
                           metadata={"description": "custody state of the cord"})
    donor_code = fields.String()
    collected_at = UtcDateTime()
    site = fields.String()
    consent_obtained = fields.Boolean()
    screening = fields.Dict(keys=fields.String(), values=fields.String())
    specimen_collected_at = UtcDateTime(allow_none=True)
    medical_history_ok = fields.Boolean()
    custody = fields.List(fields.Nested(CustodyEventSchema))
    open_excursions = fields.List(fields.Nested(OpenExcursionSchema))
    lot_id = fields.String(allow_none=True, metadata={"description": "the lot started from this cord"})
    results = fields.List(fields.Nested(DonorResultSchema), metadata={"description": "every donor result entered"})
    determination_signature_id = fields.Integer(allow_none=True, metadata={
        "description": "the investigator's signed determination of a cord that was pending"})
    holds_raised = fields.List(fields.Integer(), metadata={
        "description": "entering a result: the holds a positive result raised on lots made from the cord"})


# --- lots -------------------------------------------------------------------------------------------------

class LotIn(RequestSchema):
    collection_din = CheckedString(required=True)
    purpose = CheckedString(validate=validate.OneOf(LOT_PURPOSES), metadata={
        "description": "bank: its cells will be frozen into a master cell bank; dosing (default): filled into bags"})


class LotStartOut(Schema):
    lot_id = fields.String(required=True, attribute="lot_number")
    din = fields.String(metadata={"description": "the DIN of the cord of origin"})
    purpose = fields.String(validate=validate.OneOf(LOT_PURPOSES))
    status = fields.String(required=True, validate=validate.OneOf(LOT_STATUSES))
    spec_version = fields.String()


class PassageIn(RequestSchema):
    number = CheckedInteger(required=True)
    seeded_cells = CheckedInteger(required=True)
    harvested_cells = CheckedInteger(required=True)
    viability_pct = CheckedFloat(required=True)
    seeded_at = CheckedDateTime(required=True)
    harvested_at = CheckedDateTime(required=True)
    instruments = instruments_field()


class PassageSchema(Schema):
    number = fields.Integer(required=True)
    seeded_cells = fields.Integer()
    harvested_cells = fields.Integer()
    viability_pct = fields.Float()
    seeded_at = UtcDateTime()
    harvested_at = UtcDateTime()
    population_doublings = fields.Float()
    cumulative_doublings = fields.Float()


class PassageOut(PassageSchema):
    lot_id = fields.String(required=True)


class HarvestIn(RequestSchema):
    harvested_cells = CheckedInteger(required=True)
    harvested_at = CheckedDateTime(metadata={"description": "default now"})
    instruments = instruments_field()


class HarvestSchema(Schema):
    harvested_cells = fields.Integer(allow_none=True)
    harvested_at = UtcDateTime(allow_none=True)


class HarvestOut(HarvestSchema):
    lot_id = fields.String(required=True, attribute="lot_number")


class FormulationIn(RequestSchema):
    cells_per_ml = CheckedFloat(required=True)
    volume_ml = CheckedFloat(required=True)
    performed_at = CheckedDateTime(metadata={"description": "default now"})
    instruments = instruments_field()


class FormulationSchema(Schema):
    cells_per_ml = fields.Float(attribute="formulated_cells_per_ml", allow_none=True)
    volume_ml = fields.Float(attribute="formulated_volume_ml", allow_none=True)
    total_cells = fields.Float(attribute="formulated_cells", allow_none=True,
                               metadata={"description": "cells per ml times volume"})


class FormulationOut(FormulationSchema):
    lot_id = fields.String(required=True, attribute="lot_number")


class BatchStepIn(RequestSchema):
    step = CheckedString(required=True, metadata={"description": "a step code of the SOP checklist"})
    passage_number = CheckedInteger(metadata={"description": "for steps recorded per passage"})
    details = CheckedDict(metadata={"description": "notes ... (up to 20 named values)"})
    materials = CheckedList(CheckedRaw(), metadata={
        "description": "the material lots used at the step: [{material_lot, quantity}], the lot scanned (the "
                       "supplier's GS1 barcode, this site's ML- label) or the supplier's lot number when unique, the "
                       "quantity in the lot's unit; each must be released, in date and not held"})
    performed_at = CheckedDateTime(metadata={"description": "default now"})
    instruments = instruments_field()


class StepVerificationSchema(Schema):
    signer = fields.String(attribute="signature.signer_username")
    signer_name = fields.String(attribute="signature.signer_name")
    meaning = fields.String(attribute="signature.meaning")
    signed_at = UtcDateTime(attribute="signature.signed_at")
    intact = fields.Boolean(attribute="signature_intact", allow_none=True,
                            metadata={"description": "the step is still what was signed"})


class BatchStepSchema(Schema):
    """A step of the batch record as performed, with its second-person verification if any."""

    step_id = fields.Integer(required=True, attribute="step.id")
    step = fields.String(required=True, attribute="step.step_key")
    title = fields.String()
    details = fields.Dict(attribute="step.details")
    performed_by = fields.String(attribute="performer.username", allow_none=True)
    performed_at = UtcDateTime(attribute="step.performed_at")
    needs_verification = fields.Boolean()
    verification = fields.Nested(StepVerificationSchema, attribute="verified", allow_none=True)
    instruments = fields.List(fields.Nested(UsedSchema), metadata={"description": "the instruments the step used"})


class BatchStepOut(BatchStepSchema):
    lot_id = fields.String(required=True)


class VerifyStepIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "a second person, meaning verified"})


class VerifyStepOut(Schema):
    lot_id = fields.String(required=True)
    step_id = fields.Integer(required=True)
    verified_by = fields.String(required=True)
    meaning = fields.Constant("verified")
    verified_at = UtcDateTime()


class BatchRecordSchema(Schema):
    steps = fields.List(fields.Nested(BatchStepSchema), attribute="entries")
    complete = fields.Boolean(required=True)
    missing = fields.List(fields.Nested(ReasonSchema), metadata={"description": "what the record still lacks"})


class ThawSchema(Schema):
    """The vial a lot was thawed from and the instruments the thaw used."""

    vial_code = fields.String(required=True, attribute="vial.vial_code")
    bank_code = fields.String(required=True, attribute="bank.bank_code")
    thawed_at = UtcDateTime(attribute="vial.thawed_at")
    post_thaw_viability_pct = fields.Float(attribute="vial.post_thaw_viability_pct")
    instruments = fields.List(fields.Nested(UsedSchema))


class LotOut(Schema):
    """A lot with its passages, harvest, formulation, QC results, bags and batch record."""

    lot_id = fields.String(required=True, attribute="lot.lot_number")
    din = fields.String(attribute="collection.din")
    status = fields.String(attribute="lot.status", validate=validate.OneOf(LOT_STATUSES))
    spec_version = fields.String(attribute="lot.spec_version")
    purpose = fields.String(attribute="lot.purpose", validate=validate.OneOf(LOT_PURPOSES))
    first_passage = fields.Integer(attribute="lot.first_passage", metadata={
        "description": "the passage number its first passage takes: 0 from a cord, the bank's passage + 1 from a vial"})
    starting_doublings = fields.Float(attribute="lot.starting_doublings", metadata={
        "description": "population doublings from the cord before this lot's first passage"})
    donor_eligibility = fields.String(attribute="collection.eligibility")
    passages = fields.List(fields.Nested(PassageSchema))
    cumulative_doublings = fields.Float()
    harvest = fields.Nested(HarvestSchema, attribute="lot", dump_only=True)
    formulation = fields.Nested(FormulationSchema, attribute="lot", dump_only=True)
    qc_results = fields.List(fields.Nested(QcResultSchema))
    bags = fields.Pluck("BagOut", "bag_id", many=True, metadata={"description": "bag ids"})
    batch_record = fields.Nested(BatchRecordSchema, attribute="record")
    thaw = fields.Nested(ThawSchema, allow_none=True, metadata={"description": "a lot thawed from a bank vial: "
                                                                              "the vial and its thaw"})


# --- bags -------------------------------------------------------------------------------------------------

class NamedBagIn(RequestSchema):
    subject_id = CheckedString(required=True, metadata={"description": "the subject the bag is made for"})
    week = CheckedInteger(required=True, metadata={"description": "the week of one of its infusion visits"})


class FillIn(RequestSchema):
    count = CheckedInteger(metadata={"description": "standard bags; 0 or absent when the fill makes named bags only"})
    volume_ml = CheckedFloat(metadata={"description": "volume of each standard bag; needed when count > 0"})
    total_cells = CheckedInteger(metadata={"description": "optional: cells in each standard bag as counted by the "
                                                          "filler; refused (cell_content_mismatch) when more than "
                                                          "0.5% from the formulated concentration times volume_ml; "
                                                          "the bags carry the computed number"})
    anticoagulant = CheckedString(required=True, validate=validate.OneOf(["heparin", "ACD-A"]))
    anticoagulant_lot = CheckedString(required=True)
    anticoagulant_volume_ml = CheckedFloat()
    filled_at = CheckedDateTime(metadata={"description": "default now"})
    expires_at = CheckedDateTime(metadata={"description": "default: the shelf life from the fill (fresh) or from "
                                                          "the freezing (cryopreserved)"})
    preservation = CheckedString(metadata={"description": "fresh (default) or cryopreserved"})
    frozen_at = CheckedDateTime(metadata={"description": "cryopreserved: when the bags were frozen; default the "
                                                        "fill time"})
    instruments = instruments_field()
    named = CheckedList(CheckedNested(NamedBagIn), metadata={
        "description": "bags made for named subjects' infusion visits; each one's volume gives DOSE_CELLS_PER_KG "
                       "x the subject's current weight"})


class NamedPreviewIn(RequestSchema):
    named = CheckedList(CheckedNested(NamedBagIn), required=True)


class NamedDoseOut(Schema):
    subject_id = fields.String(required=True, attribute="subject_code")
    week = fields.Integer(required=True)
    visit_id = fields.Integer(required=True)
    weight_kg = fields.Float(required=True)
    weight_from = fields.String(required=True, validate=validate.OneOf(["visit", "registration"]))
    required_cells = fields.Integer(required=True)
    volume_ml = fields.Float(required=True)
    total_cells = fields.Integer(required=True)


class NamedPreviewOut(Schema):
    named = fields.List(fields.Nested(NamedDoseOut), required=True)


class PlaceboIn(RequestSchema):
    count = CheckedInteger(required=True)
    volume_ml = CheckedFloat(metadata={"description": "default: the protocol's placebo volume"})
    saline_lot = CheckedString(required=True)
    filled_at = CheckedDateTime(metadata={"description": "default now"})
    expires_at = CheckedDateTime(metadata={"description": "default: the shelf life from the fill"})


class BagAllocationSchema(Schema):
    """The subject and visit a bag is allocated to; ``subject_id`` and ``subject_code`` are the same code."""

    subject_id = fields.String(required=True)
    subject_code = fields.String(metadata={"description": "alias of subject_id"})
    visit_id = fields.Integer(required=True)


class BagOut(Schema):
    """A bag; reading one (GET /bags/{bag_id}) adds its allocation and the barcodes its label carries.

    ``status`` and ``quality_status`` are the same value: clients read both.
    """

    bag_id = fields.String(required=True, attribute="bag_code", metadata={"description": "DIN-productcode-"
                                                                                          "type-division"})
    din = fields.String()
    product_code = fields.String()
    collection_type = fields.String()
    division = fields.String()
    kind = fields.String(validate=validate.OneOf(["ucmsc", "placebo"]))
    lot_id = fields.String(allow_none=True, metadata={"description": "none for placebo"})
    status = fields.String(attribute="quality_status", dump_only=True,
                           metadata={"description": "alias of quality_status"})
    quality_status = fields.String()
    custody_state = fields.String(allow_none=True)
    volume_ml = fields.Float()
    total_cells = fields.Integer(allow_none=True)
    anticoagulant = fields.String(allow_none=True)
    anticoagulant_lot = fields.String(allow_none=True)
    anticoagulant_volume_ml = fields.Float(allow_none=True)
    saline_lot = fields.String(allow_none=True)
    filled_at = UtcDateTime()
    expires_at = UtcDateTime(metadata={"description": "the expiry that applies now (after a thaw, the thawed one)"})
    preservation = fields.String(validate=validate.OneOf(["fresh", "cryopreserved"]))
    frozen_at = UtcDateTime(allow_none=True)
    frozen_expires_at = UtcDateTime(allow_none=True)
    thawed_at = UtcDateTime(allow_none=True)
    made_for_visit_id = fields.Integer(allow_none=True, attribute="for_visit_id",
                                       metadata={"description": "the infusion visit a named bag is reserved for"})
    allocation = fields.Nested(BagAllocationSchema, allow_none=True)
    barcodes = fields.Dict(keys=fields.String(), values=fields.String(),
                           metadata={"description": "ISBT 128 data structures as a scanner reads them"})


class BagsOut(Schema):
    bags = fields.List(fields.Nested(BagOut), required=True)


class FilledOut(BagsOut):
    lot_id = fields.String(metadata={"description": "the lot filled (UC-MSC bags)"})
    din = fields.String(metadata={"description": "the DIN issued to the fill (placebo bags)"})


class BagsPage(Schema):
    bags = fields.List(fields.Nested(BagOut), required=True)
    next = next_field()


class BagsQuery(PageQuery):
    status = CheckedString(metadata={"description": "a quality status (quarantine ...) or a custody state"})
    lot_id = CheckedString()
    din = CheckedString()
