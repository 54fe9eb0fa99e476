"""Another person's password typed into a co-signature: counted against the person typing, never the signer.

At the bedside the nurse starting an infusion holds the tablet and the second nurse signs on it
(docs/rules.md, "E-signatures"). The signature field takes any username, so without care it is a password
oracle aimed at any account (QA, an administrator) that skips the login throttle, and five wrong tries
would lock that other person out. Here a wrong password in someone else's signature:

- counts against the logged-in person who sent it, in the login throttle's table under the key
  ``signature:<their user id>`` (so the count follows the person, not the computer): after
  ``SIGNATURE_THROTTLE_FAILURES`` in ``LOGIN_THROTTLE_WINDOW_SECONDS`` their co-signatures are refused
  (429) before any password is checked, a right one too, so guessing goes no faster than the throttle;
- never touches the signer's account (no failed-login count, no lock);
- is audited and reported to QA in the in-app inbox.
"""

from __future__ import annotations

from flask_babel import gettext
from sqlmodel import Session

from cellchain.audit import trail
from cellchain.core import db
from cellchain.core.errors import Forbidden, Throttled, Unauthenticated
from cellchain.core.words import N_, translated
from cellchain.notices import inbox
from cellchain.people import accounts, login_guard
from cellchain.people.models import User
from cellchain.people.rules.roles import Actor

NOTICE_KIND = "signature_failed"
WRONG = N_("the co-signer's username or password is wrong")


def typist_key(user_id: int) -> str:
    """Where the throttle table counts one person's wrong co-signature passwords (its ``address`` column)."""
    return f"signature:{user_id}"


def _throttle(policy: accounts.Policy) -> login_guard.ThrottlePolicy:
    return login_guard.ThrottlePolicy(failures=policy.signature_failures,
                                      window_seconds=policy.throttle_window_seconds, address_failures=0)


def is_cosignature(typist: Actor | None, username: str) -> bool:
    """Whether the signature is someone else's than the logged-in person's (who typed it in)."""
    return typist is not None and username.strip().lower() != typist.username.strip().lower()


def check_cosigner(session: Session, *, typist: Actor, username: str, password: str,
                   policy: accounts.Policy) -> User:
    """The co-signer behind ``username`` and ``password``, typed in by ``typist``; see the module's doc."""
    limits = _throttle(policy)
    try:
        login_guard.refuse_if_throttled(session, typist_key(typist.id), typist.username, policy=limits)
    except Throttled as throttled:
        raise Throttled(translated(N_("too many wrong passwords were typed into other people's signatures from your "
                                      "account; try again in {seconds} seconds")).format(seconds=throttled.retry_after),
                        retry_after=throttled.retry_after) from None
    signer = accounts.find_user(session, username)
    if signer is not None and signer.is_locked:
        raise Forbidden(translated(N_("the co-signer's account is locked; an administrator can unlock it")))
    if not accounts.password_matches(signer, password, policy=policy) or (signer is not None and not signer.active):
        who = (typist.id, typist.username)
        named, known = username[:64], signer is not None
        db.defer(lambda s: record_failure(s, typist_id=who[0], typist_username=who[1], signer=named,
                                          known_user=known, policy=policy))
        raise Unauthenticated(translated(WRONG))
    return signer


def record_failure(session: Session, *, typist_id: int, typist_username: str, signer: str, known_user: bool,
                   policy: accounts.Policy) -> None:
    """Count, audit and report one wrong co-signature password (run deferred: the request rolls back)."""
    login_guard.record_failure(session, typist_key(typist_id), typist_username, policy=_throttle(policy))
    trail.record(session, actor=None, record_type="user", record_id=typist_id, action="cosignature_failed",
                 new={"typist": typist_username, "signer": signer, "known_user": known_user})
    inbox.notify(session, roles=("qa",), kind=NOTICE_KIND,
                 subject=lambda: gettext("Wrong password in a co-signature typed by %(typist)s",
                                         typist=typist_username),
                 body=lambda: gettext(
                     "%(typist)s sent a signature for '%(signer)s' with a wrong password. It counts against "
                     "%(typist)s only; '%(signer)s' is not locked. Repeated tries are throttled and may be "
                     "someone guessing a colleague's password.", typist=typist_username, signer=signer))
