"""The demo's instruments: registered with their due dates, used by the demo lots' steps, none unfit when used,
and the QA dashboard shows the counter falling due and the incubator overdue."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from cellchain.core import db
from cellchain.demo import loader as demo
from cellchain.equipment.models import Instrument, InstrumentUse
from cellchain.manufacturing.models import BatchStep, Lot
from cellchain.people.accounts import Policy
from cellchain.quality import release_gaps
from tests.conftest import FAST_HASH


def test_the_demo_lots_steps_used_the_demo_instruments_and_each_was_fit(app, auth, client):
    with app.app_context():
        session = db.session()
        demo.load(session, policy=Policy(hash_method=FAST_HASH), config=app.config)
        db.commit()
        kinds = {i.kind for i in session.exec(select(Instrument))}
        assert {"biosafety_cabinet", "incubator", "centrifuge", "cell_counter", "controlled_rate_freezer",
                "storage_unit"} <= kinds
        used_steps = set(session.exec(select(BatchStep.step_key).join(
            InstrumentUse, InstrumentUse.step_id == BatchStep.id)))
        assert {"fill", "harvest", "formulation", "bank_freeze", "passage:0"} <= used_steps
        assert session.exec(select(func.count()).select_from(InstrumentUse)).one() > 20
        lots = list(session.exec(select(Lot)))
        gaps = release_gaps.gaps_of(session, lots)
        assert not [g for found in gaps.values() for g in found if g.code == "instrument_unfit_when_used"]
    auth.login("qa")
    page = client.get("/").get_data(as_text=True)
    assert 'data-instrument="CC-01" data-service="calibration"' in page
    assert 'data-instrument="INC-02" data-service="maintenance"' in page
