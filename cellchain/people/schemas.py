"""API shapes of bearer tokens (log in, who am I, revoke), one's own password, a user's e-mail address and role
grants."""

from __future__ import annotations

from marshmallow import Schema, fields

from cellchain.core.schemas import (
    CheckedList,
    CheckedString,
    RequestSchema,
    SortedStrings,
    UtcDateTime,
    signature_field,
)


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


class RolesIn(RequestSchema):
    roles = CheckedList(CheckedString(), required=True,
                        metadata={"description": "every role the account is to hold; giving any role waits for a "
                                                 "second administrator's signature"})
    reason = CheckedString(required=True)


class ApproveGrantIn(RequestSchema):
    signature = signature_field(required=True, metadata={"description": "the approving administrator, "
                                                                        "meaning approved"})


class RoleGrantOut(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    roles = fields.List(fields.String(), attribute="role_list")
    reason = fields.String()
    status = fields.String(metadata={"description": "pending, approved or superseded"})
    requested_by = fields.Integer()
    requested_at = UtcDateTime()
    decided_by = fields.Integer(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    signature_id = fields.Integer(allow_none=True)


class RoleChangeOut(Schema):
    user = fields.Nested(UserOut, required=True)
    grant = fields.Nested(RoleGrantOut, allow_none=True, metadata={
        "description": "the pending grant when a role is given; null when roles were only taken away (done at once)"})


class RoleGrantsOut(Schema):
    grants = fields.List(fields.Nested(RoleGrantOut), required=True)
