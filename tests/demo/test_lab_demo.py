"""The lab demo: made through the services, audited and signed like real work, and safe to load twice."""

from __future__ import annotations

from sqlmodel import select

from cellchain.audit import trail
from cellchain.core.types import utcnow
from cellchain.demo import lab as demo_lab
from cellchain.demo import loader as demo
from cellchain.manufacturing import batch, collections, lots
from cellchain.manufacturing.models import Bag, Collection
from cellchain.people.accounts import Policy
from tests.conftest import FAST_HASH
from tests.factories.lab import in_db

POLICY = Policy(hash_method=FAST_HASH)


def test_the_demo_has_a_lot_in_expansion_one_awaiting_qc_one_to_release_and_placebo(app):
    with in_db(app) as session:
        assert demo_lab.load(session, config=app.config, policy=POLICY) == 2 + 5 + 5 + 10 + 1
    with in_db(app) as session:
        growing = lots.lot_view(session, demo_lab.demo_lot(session, "expansion").lot_number)
        assert growing.lot.status == "in_process" and [p.number for p in growing.passages] == [0, 1, 2]
        assert all(p.harvested_at < utcnow() for p in growing.passages)
        for purpose in ("awaiting_qc", "to_release"):
            view = lots.lot_view(session, demo_lab.demo_lot(session, purpose).lot_number)
            assert view.lot.status == "awaiting_release" and view.record.complete
            assert [b.quality_status for b in view.bags] == ["quarantine"] * 3
            assert all(b.expires_at > utcnow() for b in view.bags)
            verified = [e for e in view.record.entries if e.signature is not None]
            assert {e.step.step_key for e in verified} == {"tissue_processing", "formulation", "fill"}
            assert all(e.signature.signer_username == "lab2" and e.performer.username == "lab" for e in verified)
        placebo = session.exec(select(Bag).where(Bag.kind == "placebo")).all()
        assert len(placebo) == 10 and {b.quality_status for b in placebo} == {"released"}
        assert trail.verify_chain(session).ok
        assert {e.record_type for e in trail.search(session, trail.AuditFilter(actor="lab"), limit=None)} >= {
            "collection", "collection_custody", "lot", "passage", "batch_step", "bag", "bag_custody"}


def test_loading_the_demo_twice_adds_nothing(app):
    with in_db(app) as session:
        demo.load(session, policy=POLICY, config=app.config)
        made = len(session.exec(select(Bag)).all())
    with in_db(app) as session:
        assert demo_lab.load(session, config=app.config, policy=POLICY) == 0
        assert len(session.exec(select(Bag)).all()) == made


def test_the_demo_password_is_the_published_one():
    assert demo_lab.DEMO_PASSWORD == demo.DEMO_PASSWORD


def test_the_demo_follows_the_configured_checklist(app):
    with in_db(app) as session:
        demo_lab.load(session, config=app.config, policy=POLICY)
        lot = demo_lab.demo_lot(session, "to_release")
        assert batch.missing_steps(session, lot) == []


def test_the_demo_has_a_pending_cord_with_a_late_result_and_one_still_awaited(app):
    with in_db(app) as session:
        demo_lab.load(session, config=app.config, policy=POLICY)
    with in_db(app) as session:
        cord = session.exec(select(Collection).where(Collection.donor_code == demo_lab.PENDING_DONOR)).one()
        view = collections.collection_view(session, cord.din)
        assert cord.eligibility == "pending"
        assert [r["params"]["test"] for r in cord.eligibility_reasons] == ["HTLV-I/II"]
        assert [(r.test, r.laboratory) for r in view.results if r.late] == [
            ("CMV", "Provincial CDC virology laboratory")]
