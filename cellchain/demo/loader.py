"""Demo people and data: one account per role, password ``cellchain-demo``. Safe to run twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.demo import banking as demo_banking
from cellchain.demo import equipment as demo_equipment
from cellchain.demo import lab as demo_lab
from cellchain.demo import materials as demo_materials
from cellchain.demo import qc as demo_qc
from cellchain.demo import safety as demo_safety
from cellchain.demo import storage as demo_storage
from cellchain.demo import supply as demo_supply
from cellchain.demo import trial as demo_trial
from cellchain.demo import ward as demo_ward
from cellchain.people import accounts
from cellchain.people.models import User

DEMO_PASSWORD = "cellchain-demo"  # noqa: S105 - published demo password, printed by `make run`

PEOPLE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("lab", "Li Wei (lab technician)", ("lab",)),
    ("lab2", "Huang Tao (lab technician)", ("lab",)),  # the second person who verifies batch steps
    ("qc", "Chen Jing (QC analyst)", ("qc",)),
    ("qa", "Wang Fang (QA reviewer)", ("qa",)),
    ("coordinator", "Zhang Min (trial coordinator)", ("coordinator",)),
    ("nurse", "Liu Yang (nurse)", ("nurse",)),
    ("nurse2", "Zhao Lei (nurse)", ("nurse",)),
    ("admin", "Sun Hui (administrator)", ("admin",)),
    # the second administrator, who signs the role grants the first one asks for (docs/rules.md)
    ("admin2", "Ma Lin (administrator)", ("admin",)),
    ("auditor", "Zhou Qiang (auditor / monitor)", ("auditor",)),
    ("investigator", "Dr. Xu Ping (investigator)", ("investigator",)),
)


def is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def load_people(session: Session, *, policy: accounts.Policy) -> int:
    created = 0
    for username, full_name, roles in PEOPLE:
        if accounts.find_user(session, username) is None:
            accounts.create_user(session, actor=None, username=username, full_name=full_name,
                                 password=DEMO_PASSWORD, roles=list(roles), policy=policy)
            created += 1
    return created


def load(session: Session, *, policy: accounts.Policy, config: Mapping[str, Any]) -> int:
    """Everything the demo needs; each area adds its own loader here as it is built."""
    created = load_people(session, policy=policy)
    created += demo_equipment.load(session, config=config, policy=policy)  # before the steps that use it
    created += demo_materials.load(session, config=config, policy=policy)
    created += demo_lab.load(session, config=config, policy=policy)
    created += demo_qc.load(session, config=config, policy=policy)
    created += demo_supply.enrol(session, config=config, policy=policy)
    created += demo_trial.load(session, config=config, policy=policy)
    created += demo_ward.load(session, config=config, policy=policy)
    created += demo_storage.load(session, config=config, policy=policy)
    created += demo_banking.load(session, config=config, policy=policy)
    created += demo_supply.load(session, config=config, policy=policy)
    created += demo_safety.load(session, config=config, policy=policy)
    return created
