"""A populated site for hostile-input tests: the demo data, real keys for every URL parameter, and the rules.

The role and CSRF tests call every route the app registers. To get past a 404 to the gate that matters,
URL parameters name real records (the demo's released lot, its bag and cord, a randomized subject, a
printed label, an open deviation); ``fill`` puts them into a rule's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, select

from cellchain.audit.models import AuditEntry
from cellchain.banking.models import CellBank, Vial
from cellchain.demo import loader as demo
from cellchain.manufacturing.models import Bag, BatchStep, Lot
from cellchain.materials.models import MaterialLot
from cellchain.people import accounts
from cellchain.people.accounts import Policy
from cellchain.people.models import User
from cellchain.trial.models import Subject, Visit
from tests.conftest import FAST_HASH
from tests.factories import storage
from tests.factories.lab import in_db

# Every demo person and the one role each holds (lab2 and nurse2 are the second lab technician and nurse).
PEOPLE: dict[str, str] = {username: roles[0] for username, _name, roles in demo.PEOPLE}
ROLES = frozenset(PEOPLE.values())
_PARAM = re.compile(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str

    def url(self, values: dict[str, str]) -> str:
        return fill(self.rule, values)


def fill(rule: str, values: dict[str, str]) -> str:
    """The rule's path with each ``<converter:name>`` replaced by ``values[name]`` (URL-quoted)."""
    return _PARAM.sub(lambda m: quote(str(values[m.group(1)]), safe=""), rule)


def routes(app: Flask, *, api: bool) -> list[Route]:
    """Every (method, rule) the app answers, under /api/ or outside it; static files left out."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") != api:
            continue
        for method in sorted(rule.methods - SKIPPED_METHODS):
            found.append(Route(method, rule.rule, rule.endpoint))
    return sorted(set(found), key=lambda r: (r.rule, r.method))


def audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEntry)).one()


def load_site(app: Flask) -> dict[str, str]:
    """Load the demo, add a spare account for the admin forms, and return a key for every URL parameter."""
    with in_db(app) as session:
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
        accounts.create_user(session, actor=None, username="spare", full_name="Spare account",
                             password="quiet-harbour-42", roles=["lab"], policy=Policy(hash_method=FAST_HASH))
        place = storage.site(session)
    with in_db(app) as session:
        # A released lot started straight from its cord (its lot number is the cord's DIN), the same on every
        # database: the demo also releases banks' lots and dosing lots thawed from them.
        lot = session.exec(select(Lot).where(Lot.status == "released", Lot.source_vial_id.is_(None),
                                             Lot.purpose == "dosing").order_by(Lot.id)).first()
        bank = session.exec(select(CellBank).order_by(CellBank.id)).first()
        vial = session.exec(select(Vial).where(Vial.bank_id == bank.id).order_by(Vial.number)).first()
        bag = session.exec(select(Bag).where(Bag.lot_id == lot.id).order_by(Bag.id)).first()
        subject = session.exec(select(Subject).where(Subject.arm.is_not(None)).order_by(Subject.id)).first()
        visit = session.exec(select(Visit).where(Visit.subject_id == subject.id).order_by(Visit.id)).first()
        step = session.exec(select(BatchStep).where(BatchStep.lot_id == lot.id).order_by(BatchStep.id)).first()
        spare = session.exec(select(User).where(User.username == "spare")).one()
        material_lot = session.exec(select(MaterialLot).order_by(MaterialLot.id)).first()
        return {"lot_id": lot.lot_number, "bag_id": bag.bag_code, "bag_code": bag.bag_code, "din": lot.din,
                "subject_code": subject.subject_code, "subject_id": subject.subject_code, "visit_id": str(visit.id),
                "step_id": str(step.id), "user_id": str(spare.id), "item_type": "bag", "key": bag.bag_code,
                "infusion_id": "1", "check_id": "1", "excursion_id": "1", "shipment_id": "SHP-NONE", "hold_id": "1",
                "notice_id": "1", "event_id": "1", "return_id": "1", "kind": "lot", "code": lot.lot_number,
                "mail_id": "1", "deviation_id": "1", "certificate_id": "1", "printer_id": "1", "job_id": "1",
                "bank_code": bank.bank_code, "vial_code": vial.vial_code, "record_type": "lot", "grant_id": "1",
                "unit_code": place.unit.code, "location_code": place.rack.code, "box_code": place.box.code,
                "position_code": f"{place.box.code}-A1", "instrument_code": place.unit.code,
                "material_code": material_lot.code}


def add_prints_and_deviation(client, api, values: dict[str, str]) -> dict[str, str]:
    """Print every label kind once (lab) and open a deviation (QA), so label ids and the deviation are real.

    Printed once, a label's next print is a reprint, which QA may make; so every role table row is
    about the role, not about which caller happened to print first. (Vessel labels print only while a
    lot grows: on the released lot every printer gets the same 409.)
    """
    lot, subject = values["lot_id"], values["subject_code"]
    for path in (f"/api/v1/lots/{lot}/labels.pdf", f"/api/v1/collections/{values['din']}/label.pdf",
                 f"/api/v1/lots/{lot}/qc-tube-labels.pdf", f"/api/v1/subjects/{subject}/wristband.pdf"):
        printed = api.get(path, as_="lab")
        assert printed.status_code == 200, (path, printed.get_data(as_text=True)[:300])
    listed = api.get(f"/api/v1/labels?target=bag&key={values['bag_id']}", as_="lab").get_json()["labels"]
    opened = api.post("/api/v1/deviations", as_="qa", json={"kind": "procedural", "lot_id": lot,
                                                             "description": "role-matrix test deviation"})
    assert opened.status_code == 201, opened.get_json()
    printer = api.post("/api/v1/printers", as_="qa", json={  # a registered printer, so its forms find it
        "name": "Role matrix printer", "place": "GMP lab", "kind": "zpl", "address": "127.0.0.1:9", "dpi": 203,
        "label_sizes": ["101.6x101.6"]})
    assert printer.status_code == 201, printer.get_json()
    return {**values, "label_id": str(listed[0]["label_id"]), "number": opened.get_json()["number"],
            "printer_id": str(printer.get_json()["id"])}


def add_sent_print_job(app: Flask, values: dict[str, str], username: str) -> dict[str, str]:
    """A wristband print job ``username`` sent to the registered printer and the printer took: its retry form,
    sent again, is refused (the job did not fail) on the jobs page. ``job_id`` names it."""
    from cellchain.labelling.printing.models import PrintJob

    with in_db(app) as session:
        sender = session.exec(select(User).where(User.username == username)).one()
        job = PrintJob(printer_id=int(values["printer_id"]), label_kind="wristband", target="subject",
                       item_key=values["subject_code"], label_ids=[], fmt="zpl", dpi=203, document=b"^XA^XZ",
                       status="sent", attempts=1, created_by=sender.id)
        session.add(job)
        session.flush()
        return {**values, "job_id": str(job.id)}
