"""API shapes of the ward: custody hand-overs and chains, temperature excursions, the bedside check, infusions."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from marshmallow.utils import missing

from cellchain.core.schemas import (
    CheckedBoolean,
    CheckedDateTime,
    CheckedDict,
    CheckedFloat,
    CheckedList,
    CheckedRaw,
    CheckedString,
    PageQuery,
    ReasonSchema,
    RequestSchema,
    UtcDateTime,
    next_field,
    signature_field,
)
from cellchain.ward.custody import EXCURSION_STATUSES
from cellchain.ward.infusions import SEVERITIES
from cellchain.ward.rules.custody_states import RECORDABLE_EVENTS

# A PDF answer as the document states it: bytes of that content type, not JSON.


# --- custody ------------------------------------------------------------------------------------------

class CustodyIn(RequestSchema):
    item = CheckedString(required=True, metadata={"description": "DIN with K, DIN barcode, bag id or a raw scan"})
    event = CheckedString(required=True, validate=validate.OneOf(RECORDABLE_EVENTS))
    location = CheckedString(required=True, metadata={"description": "where, up to 120 characters"})
    temperature_c = CheckedFloat(allow_none=True)
    condition = CheckedString(allow_none=True, metadata={"description": "intact when not given"})
    occurred_at = CheckedDateTime(allow_none=True, metadata={"description": "now when not given"})
    handed_over_by = CheckedString(allow_none=True)
    received_by = CheckedString(allow_none=True)
    notes = CheckedString(allow_none=True)



class CustodyEventSchema(Schema):
    """One hand-over of a collection or a bag (dumped from ``custody_records.EventRecord``).

    ``id`` and ``event_id`` are the same number: the collection answer has carried ``event_id`` and the
    custody answers ``id``, and clients read both; each answer carries both until clients move to ``id``.
    """

    id = fields.Integer(required=True, attribute="event.id")
    event_id = fields.Integer(required=True, attribute="event.id", dump_only=True,
                              metadata={"description": "alias of id"})
    item_type = fields.String(attribute="event.item_type", metadata={"description": "collection or bag"})
    item_id = fields.String(attribute="item_code", metadata={"description": "the collection's DIN or the bag id"})
    event = fields.String(attribute="event.event")
    from_state = fields.String(allow_none=True, attribute="event.from_state")
    to_state = fields.String(attribute="event.to_state")
    location = fields.String(attribute="event.location")
    handed_over_by = fields.String(allow_none=True, attribute="event.handed_over_by")
    received_by = fields.String(allow_none=True, attribute="event.received_by")
    temperature_c = fields.Float(allow_none=True, attribute="event.temperature_c")
    condition = fields.String(attribute="event.condition")
    excursion = fields.Boolean(attribute="event.excursion",
                               metadata={"description": "the temperature was outside the item's range"})
    occurred_at = UtcDateTime(attribute="event.occurred_at")
    recorded_at = UtcDateTime(attribute="event.recorded_at")
    recorded_by = fields.String(allow_none=True, attribute="recorder.username", dump_default=None,
                                metadata={"description": "username of who recorded it"})
    recorded_by_name = fields.String(allow_none=True, attribute="recorder.full_name", dump_default=None)
    notes = fields.String(allow_none=True, attribute="event.notes")


class CustodyOut(Schema):
    event = fields.Nested(CustodyEventSchema, required=True)


class ExcursionSchema(Schema):
    """A temperature outside the item's range (dumped from ``custody_records.ExcursionRecord``)."""

    id = fields.Integer(required=True, attribute="excursion.id")
    item_type = fields.String(attribute="excursion.item_type")
    item_id = fields.String(attribute="item_code", metadata={"description": "the collection's DIN or the bag id"})
    custody_event_id = fields.Integer(attribute="excursion.custody_event_id", allow_none=True,
                                      metadata={"description": "the hand-over that found it, or null"})
    storage_reading_id = fields.Integer(attribute="excursion.storage_reading_id", allow_none=True,
                                        metadata={"description": "the storage unit's reading that found it, or null"})
    temperature_c = fields.Float(attribute="excursion.temperature_c")
    range = fields.List(fields.Float(), attribute="range", metadata={"description": "[low, high] in °C"})
    status = fields.String(attribute="excursion.status", validate=validate.OneOf(EXCURSION_STATUSES))
    decided_by = fields.String(allow_none=True, attribute="decider.full_name", dump_default=None,
                               metadata={"description": "full name of the QA person who decided"})
    decided_at = UtcDateTime(allow_none=True, attribute="excursion.decided_at")
    reason = fields.String(allow_none=True, attribute="excursion.reason")
    signature_id = fields.Integer(allow_none=True, attribute="excursion.signature_id")
    opened_at = UtcDateTime(attribute="excursion.created_at")


class ItemCustodyOut(Schema):
    """An item's chain of custody (dumped from ``custody_records.ItemCustody``)."""

    state = fields.String(metadata={"description": "the item's custody state now"})
    unbroken = fields.Boolean(required=True)
    breaks = fields.List(fields.Nested(ReasonSchema), metadata={"description": "why the chain is broken"})
    events = fields.List(fields.Nested(CustodyEventSchema))
    excursions = fields.List(fields.Nested(ExcursionSchema))


class BagCustodyOut(ItemCustodyOut):
    bag_id = fields.String(required=True, attribute="item_code")


class CollectionCustodyOut(ItemCustodyOut):
    din = fields.String(required=True, attribute="item_code")


class ExcursionsQuery(PageQuery):
    status = CheckedString(validate=validate.OneOf(EXCURSION_STATUSES),
                           metadata={"description": "only excursions in this state; all when not given"})


class ExcursionsOut(Schema):
    excursions = fields.List(fields.Nested(ExcursionSchema), required=True)
    next = next_field()


class ExcursionDecisionIn(RequestSchema):
    accept = CheckedBoolean(required=True, metadata={"description": "true: the item may be used; false: it is "
                                                                    "discarded"})
    reason = CheckedString(required=True, metadata={"description": "the assessment behind the decision"})
    signature = signature_field(required=True, metadata={"description": "the deciding QA person's own, meaning "
                                                                        "accepted or rejected"})


class ExcursionOut(Schema):
    excursion = fields.Nested(ExcursionSchema, required=True)


# --- the bedside --------------------------------------------------------------------------------------

class BedsideIn(RequestSchema):
    wristband = CheckedString(required=True, metadata={"description": "what the scanner read from the wristband"})
    bag = CheckedRaw(required=True, metadata={"description": "the bag's 2D code, or a list of its linear scans"})


class BedsideCheckSchema(Schema):
    name = fields.String(required=True)
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"description": "what the check found, in words"})
    code = fields.String(metadata={"description": "the key of the words in the check catalogue (check:situation), "
                                                  "or the code of the refusal the check repeats"})
    params = fields.Dict(metadata={"description": "the values the words were filled with"})


class BedsideOut(Schema):
    """Every check by name; the identifiers are left out when the scans named no such record."""

    ok = fields.Boolean(required=True)
    checks = fields.List(fields.Nested(BedsideCheckSchema), required=True)
    bedside_check_id = fields.Integer(required=True, attribute="record.id",
                                      metadata={"description": "the recorded attempt"})
    checked_at = UtcDateTime(required=True, attribute="record.checked_at")
    subject_id = fields.String(attribute="facts.subject.subject_code")
    bag_id = fields.String(attribute="facts.bag.bag_code")
    visit_id = fields.Integer(attribute="facts.visit.id")


class ReactionSchema(Schema):
    description = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    onset_at = fields.String(allow_none=True, metadata={"format": "date-time"})


VITAL_SIGNS = {"description": "named readings, e.g. {\"heart_rate\": 72, \"bp\": \"120/80\"}"}


class InfusionIn(BedsideIn):
    verifier = signature_field(required=True, metadata={"description": "the second nurse, meaning verified"})
    started_at = CheckedDateTime(allow_none=True, metadata={"description": "now when not given"})
    ultrasound_monitored = CheckedBoolean(allow_none=True)
    vital_signs = CheckedDict(keys=fields.String(), values=fields.Raw(), allow_none=True, metadata=VITAL_SIGNS)


class InfusionCompleteIn(RequestSchema):
    volume_ml = CheckedFloat(required=True)
    ended_at = CheckedDateTime(required=True)
    reactions = CheckedList(fields.Nested(ReactionSchema), allow_none=True)
    vital_signs = CheckedDict(keys=fields.String(), values=fields.Raw(), allow_none=True, metadata=VITAL_SIGNS)
    ultrasound_monitored = CheckedBoolean(required=True)
    partial_reason = CheckedString(allow_none=True, metadata={
        "description": "why less than the bag's volume was given; required when volume_ml is below it "
                       "(a partial infusion), refused as 400 naming partial_reason without it"})


class NurseSchema(Schema):
    username = fields.String(required=True)
    full_name = fields.String(required=True)


class InfusionVerifierSchema(Schema):
    """The second nurse: the account, and the name and meaning the signature shows (21 CFR 11.50)."""

    username = fields.String(required=True, attribute="verifier.username")
    full_name = fields.String(required=True, attribute="signature.signer_name")
    meaning = fields.String(required=True, attribute="signature.meaning")
    signed_at = UtcDateTime(required=True, attribute="signature.signed_at")


class _SameRecord(fields.Nested):
    """Nested fields read from the answer's own object, not from one of its attributes."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = missing) -> Any:
        return obj


class InfusionOut(Schema):
    """An infusion (dumped from ``infusions.InfusionView``)."""

    infusion_id = fields.Integer(required=True, attribute="infusion.id")
    status = fields.String(attribute="infusion.status", validate=validate.OneOf(["started", "completed"]))
    bag_id = fields.String(attribute="bag.bag_code")
    subject_id = fields.String(attribute="subject.subject_code")
    visit_id = fields.Integer(attribute="visit.id")
    week = fields.Integer(attribute="visit.week")
    bedside_check_id = fields.Integer(attribute="infusion.bedside_check_id")
    started_at = UtcDateTime(attribute="infusion.started_at")
    ended_at = UtcDateTime(allow_none=True, attribute="infusion.ended_at")
    volume_ml = fields.Float(allow_none=True, attribute="infusion.volume_ml")
    started_by = fields.Nested(NurseSchema)
    verifier = _SameRecord(InfusionVerifierSchema)
    completed_by = fields.Nested(NurseSchema, allow_none=True)
    ultrasound_monitored = fields.Boolean(allow_none=True, attribute="infusion.ultrasound_monitored")
    vital_signs = fields.Dict(keys=fields.String(), values=fields.Dict(), attribute="infusion.vital_signs",
                              metadata={"description": "readings at start and end: {\"start\": {...}, "
                                                       "\"end\": {...}}"})
    reactions = fields.List(fields.Nested(ReactionSchema), attribute="infusion.reactions")
    bag_volume_ml = fields.Float(attribute="bag.volume_ml", metadata={"description": "the volume the bag held"})
    partial = fields.Boolean(attribute="infusion.partial", metadata={
        "description": "true when less than the bag's volume was given"})
    partial_reason = fields.String(allow_none=True, attribute="infusion.partial_reason")


# --- thawing a frozen bag -----------------------------------------------------------------------------------

class BagThawIn(RequestSchema):
    thawed_at = CheckedDateTime(metadata={"description": "when the bag was thawed; default now"})
    location = CheckedString(metadata={"description": "where; default where the bag is (ward or lab)"})


class BagThawOut(Schema):
    """A thawed bag: its new expiry and the label printed for it (whose 2D code carries that expiry)."""

    bag_id = fields.String(required=True, attribute="bag.bag_code")
    preservation = fields.String(attribute="bag.preservation")
    thawed_at = UtcDateTime(required=True, attribute="bag.thawed_at")
    expires_at = UtcDateTime(required=True, attribute="bag.expires_at",
                             metadata={"description": "the thawed expiry: THAWED_SHELF_LIFE_HOURS from the thaw, "
                                                      "never later than the frozen expiry"})
    frozen_expires_at = UtcDateTime(attribute="bag.frozen_expires_at")
    custody_state = fields.String(attribute="bag.custody_state")
    label_id = fields.Integer(required=True, attribute="label.id",
                              metadata={"description": "the post-thaw label's print record"})
    label_2d = fields.String(required=True, metadata={"description": "the post-thaw label's 2D code data, as a "
                                                                     "scanner reads it"})
    label_pdf = fields.String(required=True, metadata={"description": "where to fetch the label as PDF"})
    label_zpl = fields.String(required=True, metadata={"description": "where to fetch the label as ZPL"})


class DiscardExpiredIn(RequestSchema):
    bags = CheckedList(fields.String(), required=True, metadata={"description": "the expired bags' ids (at most 200)"})
    reason = CheckedString(required=True, metadata={"description": "why they are discarded (audited with each)"})
    location = CheckedString(required=True, metadata={"description": "where they are discarded"})


class DiscardExpiredOut(Schema):
    discarded = fields.List(fields.String(), required=True, metadata={"description": "the bags discarded"})
