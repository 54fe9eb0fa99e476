"""API shapes of custody: hand-over events."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import UtcDateTime


class CustodyEventSchema(Schema):
    """One hand-over of a collection or a bag.

    ``id`` and ``event_id`` are the same number: the collection answer has carried ``event_id`` and the
    custody answers ``id``, and clients read both; each answer carries both until clients move to ``id``.
    """

    id = fields.Integer()
    event_id = fields.Integer(metadata={"description": "alias of id"})
    item_type = fields.String(metadata={"description": "collection or bag"})
    item_id = fields.String(metadata={"description": "the collection's DIN or the bag id"})
    event = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    location = fields.String()
    handed_over_by = fields.String(allow_none=True)
    received_by = fields.String(allow_none=True)
    temperature_c = fields.Float(allow_none=True)
    condition = fields.String(allow_none=True)
    excursion = fields.Boolean()
    occurred_at = UtcDateTime()
    recorded_at = UtcDateTime()
    recorded_by = fields.String(allow_none=True)
    recorded_by_name = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
