"""API shapes of the inbox."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import PageQuery, UtcDateTime, next_field


class InboxQuery(PageQuery):
    unread = fields.Boolean(metadata={"description": "true: only the notices not yet read"})


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "e.g. lot_on_hold"})
    subject = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(metadata={"description": "the page to open, a path inside the app"})
    created_at = UtcDateTime(required=True)
    read_at = UtcDateTime(allow_none=True)
    mailed_at = UtcDateTime(allow_none=True, metadata={"description": "when it was e-mailed (SMTP configured)"})
    mail_error = fields.String(allow_none=True, metadata={"description": "why the e-mail could not be sent"})


class InboxOut(Schema):
    unread = fields.Integer(required=True, metadata={"description": "how many notices are unread"})
    notices = fields.List(fields.Nested(NotificationSchema), required=True, metadata={"description": "newest first"})
    next = next_field()
