"""Electronic signatures (21 CFR 11.50, 11.70, 11.200; Annex 11 section 14).

A signature is the signer's username and password entered at the moment of signing, the meaning of the
act, and the SHA-256 of the canonical JSON of what was signed. Later services (batch-record
verification, deviation closure, release, infusion) all sign through :func:`sign`, so every signature
is checked, audited and bound the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from cellchain.audit import trail
from cellchain.audit.models import Signature
from cellchain.core.canonical import canonical_json, sha256_hex
from cellchain.core.errors import Invalid, Unauthenticated
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.people import accounts, signature_attempts
from cellchain.people.rules.roles import Actor, require_role

MEANINGS = ("performed", "verified", "reviewed", "approved", "released", "rejected", "accepted", "closed",
            "authored", "administered")


@dataclass(frozen=True)
class SignatureInput:
    """What a person types to sign: the API's ``{"username", "password", "meaning"}``."""

    username: str
    password: str
    meaning: str


def parse_signature(data: Any, *, field: str = "signature") -> SignatureInput:
    """Read a signature object, naming each missing or malformed part (``signature.password`` ...)."""
    if not isinstance(data, dict):
        raise Invalid({field: translated(N_("give an e-signature: {username, password, meaning}"))})
    fields = {}
    values = {}
    for key in ("username", "password", "meaning"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            fields[f"{field}.{key}"] = translated(N_("required"))
        values[key] = value.strip() if isinstance(value, str) and key != "password" else value
    if not fields and values["meaning"] not in MEANINGS:
        fields[f"{field}.meaning"] = translated(N_("one of {choices}")).format(choices=', '.join(MEANINGS))
    if fields:
        raise Invalid(fields)
    return SignatureInput(**values)


def record_hash(content: dict[str, Any]) -> str:
    return sha256_hex(canonical_json(content))


def sign(session: Session, signature: SignatureInput, *, record_type: str, record_id: Any,
         content: dict[str, Any], policy: accounts.Policy, meanings: tuple[str, ...] = MEANINGS,
         roles: tuple[str, ...] = (), action: str = N_("sign this record"), typist: Actor | None = None) -> Signature:
    """Check the signer's password now and bind the signature to the hash of ``content``.

    A wrong password is refused (401) and the attempt audited. ``typist`` is the person logged in, who
    sent the signature: when it is their own, a wrong password counts toward their lock-out; when it is
    another person's (a co-signature), it counts against the typist, throttled, and never locks the
    signer (``people/signature_attempts.py``).
    """
    if signature.meaning not in meanings:
        raise Invalid({"signature.meaning": translated(N_(
            "here the meaning must be {meaning}")).format(meaning=' or '.join(meanings))})
    try:
        if typist is not None and signature_attempts.is_cosignature(typist, signature.username):
            signer = signature_attempts.check_cosigner(session, typist=typist, username=signature.username,
                                                       password=signature.password, policy=policy)
        else:
            signer = accounts.check_credentials(session, signature.username, signature.password, policy=policy,
                                                action="signature_failed")
    except Unauthenticated as wrong:  # the form names the field, so the page keeps the rest of what was typed
        raise Unauthenticated(translated(N_("the password does not match: {message}")).format(message=wrong.message),
                              {"signature.password": translated(N_("password does not match"))}) from None
    if roles:
        require_role(signer.roles, *roles, action=action)
    row = Signature(user_id=signer.id, signer_username=signer.username, signer_name=signer.full_name,
                    meaning=signature.meaning, signed_at=utcnow(), record_type=record_type,
                    record_id=str(record_id), record_hash=record_hash(content))
    session.add(row)
    session.flush()
    trail.record(session, actor=signer, record_type="signature", record_id=row.id, action="sign",
                 new={"record_type": record_type, "record_id": str(record_id), "meaning": row.meaning,
                      "record_hash": row.record_hash, "signer": signer.username},
                 at=row.signed_at)
    return row



def still_matches(signature: Signature, content: dict[str, Any]) -> bool:
    """Whether the record as it is now is what was signed (Annex 11 section 8.2 on printouts)."""
    return signature.record_hash == record_hash(content)
