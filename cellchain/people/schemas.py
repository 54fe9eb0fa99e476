"""API shapes of bearer tokens (log in, who am I, revoke), one's own password and a user's e-mail address."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import CheckedString, RequestSchema, SortedStrings, UtcDateTime


class TokenIn(RequestSchema):
    username = CheckedString(required=True)
    password = CheckedString(required=True, load_only=True)
    label = CheckedString(metadata={"description": "what the token is for, e.g. the scanner station's name"})


class TokenOut(Schema):
    token = fields.String(required=True, attribute="plain", metadata={"description": "shown once; send it as "
                                                                                       "Authorization: Bearer"})
    expires_at = UtcDateTime(attribute="record.expires_at")
    username = fields.String(attribute="user.username")
    roles = SortedStrings(attribute="user.roles")


class MeOut(Schema):
    username = fields.String(required=True)
    full_name = fields.String()
    roles = SortedStrings()


class RevokedOut(Schema):
    revoked = fields.Constant(True, metadata={"description": "always true: the token no longer opens anything"})


class PasswordIn(RequestSchema):
    current_password = CheckedString(required=True, load_only=True)
    new_password = CheckedString(required=True, load_only=True, metadata={"description": "at least 8 characters"})
    repeat_password = CheckedString(required=True, load_only=True, metadata={"description": "the new one again"})


class PasswordOut(Schema):
    tokens_revoked = fields.Integer(required=True, metadata={"description": "the person's API tokens revoked, this "
                                                                            "request's included"})


class EmailIn(RequestSchema):
    email = CheckedString(required=True, allow_none=True,
                          metadata={"description": "where notices are mailed; empty or null clears it"})


class UserOut(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    full_name = fields.String()
    email = fields.String(allow_none=True)
    roles = SortedStrings()
    active = fields.Boolean()
