"""Randomization: one concealed allocation list, used strictly in order, one position per subject.

The list (``rules.allocation_list``: permuted blocks of 2 and 4, 1:1) is made once, from a fresh
recorded seed, the first time it is needed or by ``flask --app cellchain trial-init-list``. Its SHA-256
is recorded in the audit trail when it is made and each time it is extended, so anyone can later
rebuild it from the seeds and show it was not changed (``verify``).

Concealment: the seed and the entries live only in the ``randomization_lists`` row. No page, endpoint,
audit entry or log line shows them; what is shown is the hash, how many positions are used, and each
subject's own arm once randomized (the trial is open label).

Races (docs/rules.md, "Races"): the subject's row and the list's row are locked FOR UPDATE, always in that
order, so two requests for one subject serialise on the subject (the second sees the arm and is
refused) and requests for different subjects serialise on the list (each takes the next position).
``subjects.randomization_position`` is unique, so the database refuses a reused position too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cellchain.audit import trail
from cellchain.core.config import DEFAULTS
from cellchain.core.errors import Invalid, Reason, Refused
from cellchain.core.types import utcnow
from cellchain.core.words import N_, translated
from cellchain.identifiers.isbt128 import ChainOfIdentity
from cellchain.people.rules.roles import Actor, require_role
from cellchain.trial import subjects
from cellchain.trial.models import RandomizationList, Subject
from cellchain.trial.rules import allocation_list, lifecycle

LIST_ID = 1  # one trial, one list: a fixed key makes a second list impossible, even on two servers
RECORD_TYPE = "randomization_list"
RANDOMIZING_ROLES = ("coordinator",)
LIST_ROLES = ("coordinator", "admin")


@dataclass(frozen=True)
class ListCheck:
    """Whether the stored list rebuilds from its seeds and matches every hash recorded for it."""

    ok: bool
    list_hash: str | None
    used: int
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Balance:
    """Counts the coordinator may see: per arm, and how many list positions are used. Never what is next."""

    arm_a: int
    arm_b: int
    screened: int
    screen_failures: int
    awaiting: int
    used: int
    list_hash: str | None


def _lock_list(session: Session) -> RandomizationList | None:
    statement = select(RandomizationList).where(RandomizationList.id == LIST_ID).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).first()


def _as_domain(row: RandomizationList) -> allocation_list.AllocationList:
    return allocation_list.AllocationList(
        seed=row.seed, block_sizes=list(row.block_sizes), entries=list(row.entries),
        extensions=tuple(allocation_list.Extension(seed=e["seed"], blocks=e["blocks"]) for e in row.extensions))


def ensure_list(session: Session, *, actor: Actor | None, size: int) -> tuple[RandomizationList, bool]:
    """The list, locked; made now (and audited with its hash and size only) if it does not exist yet.

    Returns the row and whether it was made by this call. ``actor`` None is the command line.
    """
    if actor is not None:
        require_role(actor.roles, *LIST_ROLES, *RANDOMIZING_ROLES, action=N_("make the randomization list"))
    row = _lock_list(session)
    if row is not None:
        return row, False
    made = allocation_list.generate_list(allocation_list.new_seed(), size)
    row = RandomizationList(id=LIST_ID, seed=made.seed, entries=made.entries, block_sizes=made.block_sizes,
                            extensions=[], list_hash=made.digest, next_position=1,
                            created_by=actor.id if actor else None)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another server made it between our look and our insert: use theirs
        return _lock_list(session), False
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=LIST_ID, action="create",
                 new={"list_hash": row.list_hash, "size": len(row.entries)})
    return row, True


def chain_of_identity(fin: str, randomized_at: datetime, position: int) -> str:
    """The subject's chain-of-identity identifier (ISBT 128 DS 040): the facility's FIN, the year of the
    randomization and the list position (unique, never reused), checked by K. One value for the subject's
    whole therapy, issued at enrolment (docs/identifiers.md); migration 0025 gave it to earlier subjects."""
    return ChainOfIdentity.issue(fin, randomized_at.year, position).text


def randomize(session: Session, *, actor: Actor, subject_code: str, planned_subjects: int,
              now: datetime | None = None, fin: str = DEFAULTS["FACILITY_FIN"]) -> Subject:
    """Give an eligible subject the arm at the list's next position and its chain-of-identity identifier;
    once, and never changed. ``now`` (the time recorded as randomized) is passed only by the demo, whose
    subjects were randomized weeks ago."""
    require_role(actor.roles, *RANDOMIZING_ROLES, action=N_("randomize subjects"))
    subject = subjects.get_subject(session, subject_code, for_update=True)
    if subject.arm is not None:
        raise Refused(Reason("already_randomized", subject_code=subject.subject_code,
                             randomized_at=subject.randomized_at))
    if not subject.eligible:
        codes = ", ".join(r["code"] for r in subject.eligibility_reasons)
        raise Refused(Reason("subject_ineligible", subject_code=subject.subject_code, codes=codes))
    lifecycle.move(subject.status, lifecycle.RANDOMIZED, subject_code=subject.subject_code)
    row, _made = ensure_list(session, actor=actor, size=planned_subjects)
    position = row.next_position
    if position > len(row.entries):
        raise Refused(Reason("allocation_list_exhausted", positions=len(row.entries)))
    subject.arm, subject.randomization_position = row.entries[position - 1], position
    subject.randomized_at, subject.randomized_by = now or utcnow(), actor.id
    subject.chain_of_identity = chain_of_identity(fin, subject.randomized_at, position)
    subject.status = lifecycle.RANDOMIZED
    row.next_position = position + 1
    session.add_all([subject, row])
    session.flush()
    trail.record(session, actor=actor, record_type="subject", record_id=subject.subject_code, action="randomize",
                 old={"arm": None, "status": lifecycle.ELIGIBLE},
                 new={"arm": subject.arm, "list_position": position, "list_hash": row.list_hash,
                      "status": subject.status, "chain_of_identity": subject.chain_of_identity})
    return subject


# An amendment adds subjects by the dozen, not by the million; a bound keeps one request from
# building a list that holds the database's write lock for minutes.
MAX_EXTENSION = 1000


def extend(session: Session, *, actor: Actor | None, extra: int, reason: str) -> RandomizationList:
    """Append whole blocks (a new recorded seed) for at least ``extra`` more subjects; audited with the
    new hash and size. Entries already in the list never change."""
    if actor is not None:
        require_role(actor.roles, *LIST_ROLES, action=N_("extend the randomization list"))
    if not isinstance(reason, str) or not reason.strip():
        raise Invalid({"reason": translated(N_("say why the list is extended (e.g. enrolment raised by amendment 2)"))})
    if isinstance(extra, bool) or not isinstance(extra, int) or not 1 <= extra <= MAX_EXTENSION:
        raise Invalid({"extra": translated(N_(
            "a whole number of subjects from 1 to {max_extension}")).format(
            max_extension=MAX_EXTENSION)})
    row = _lock_list(session)
    if row is None:
        raise Refused(Reason("no_allocation_list"))
    old_hash, old_size = row.list_hash, len(row.entries)
    longer = allocation_list.extend_list(_as_domain(row), allocation_list.new_seed(), extra)
    row.entries, row.block_sizes = longer.entries, longer.block_sizes
    row.extensions = [{"seed": e.seed, "blocks": e.blocks} for e in longer.extensions]
    row.list_hash = longer.digest
    session.add(row)
    session.flush()
    trail.record(session, actor=actor, record_type=RECORD_TYPE, record_id=LIST_ID, action="extend",
                 old={"list_hash": old_hash, "size": old_size},
                 new={"list_hash": row.list_hash, "size": len(row.entries)}, reason=reason.strip())
    return row


def _recorded_hash(session: Session) -> str | None:
    entries = trail.history(session, RECORD_TYPE, LIST_ID)
    return json.loads(entries[-1].new_values)["list_hash"] if entries else None


def verify(session: Session) -> ListCheck:
    """Rebuild the list from its seeds; compare with its stored and audited hashes and the subjects' arms."""
    row = session.get(RandomizationList, LIST_ID)
    if row is None:
        return ListCheck(ok=True, list_hash=None, used=0)
    problems = []
    domain_list = _as_domain(row)
    if not allocation_list.verify_list(domain_list):
        problems.append("the entries do not rebuild from the recorded seeds")
    if domain_list.digest != row.list_hash:
        problems.append("the stored hash does not match the entries")
    if _recorded_hash(session) != row.list_hash:
        problems.append("the hash differs from the one recorded in the audit trail")
    randomized = session.exec(select(Subject).where(Subject.arm.is_not(None))).all()
    if sorted(s.randomization_position for s in randomized) != list(range(1, row.next_position)):
        problems.append("the positions used are not exactly 1 to the last one given")
    if any(row.entries[s.randomization_position - 1] != s.arm for s in randomized
           if 0 < s.randomization_position <= len(row.entries)):
        problems.append("a subject's arm differs from the list entry at their position")
    return ListCheck(ok=not problems, list_hash=row.list_hash, used=row.next_position - 1, problems=tuple(problems))


def balance(session: Session) -> Balance:
    def count(*where) -> int:
        return session.exec(select(func.count()).select_from(Subject).where(*where)).one()

    row = session.get(RandomizationList, LIST_ID)
    return Balance(arm_a=count(Subject.arm == "A"), arm_b=count(Subject.arm == "B"), screened=count(),
                   screen_failures=count(Subject.eligible.is_(False)),
                   awaiting=count(Subject.status == lifecycle.ELIGIBLE),
                   used=row.next_position - 1 if row else 0, list_hash=row.list_hash if row else None)
