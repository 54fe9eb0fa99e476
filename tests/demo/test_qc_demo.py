"""The demo QC loader: results through the QC service, the demo lot released under every rule, safe twice."""

from __future__ import annotations

from cellchain.core import db
from cellchain.demo import lab as demo_lab
from cellchain.demo import qc as demo_qc
from cellchain.people import accounts
from cellchain.people.security import policy
from cellchain.quality import qc, release, release_gaps


def _load_demo(app) -> int:
    session = db.session()
    demo_lab.load(session, config=app.config, policy=policy())
    created = demo_qc.load(session, config=app.config, policy=policy())
    db.commit()
    return created


def test_demo_qc_results_go_through_the_qc_service_and_load_once(app):
    with app.app_context():
        created = _load_demo(app)
        session = db.session()
        waiting, ready = demo_lab.demo_lot(session, "awaiting_qc"), demo_lab.demo_lot(session, "to_release")
        assert set(qc.missing_tests(session, waiting)) == {"sterility", "mycoplasma", "endotoxin", "gram_stain",
                                                           "cell_count"}
        assert qc.missing_tests(session, ready) == ["sterility"]  # the 14-day culture, read after release
        assert [t.code for t in release_gaps.pending_after_release(session, ready)] == ["sterility"]
        assert [g for g in release_gaps.of_lot(session, ready) if g.code.startswith("qc_")] == []
        assert all(row.recorded_by == accounts.find_user(session, "qc").id
                   for row in qc.results_of(session, ready))
        assert created >= len(demo_qc.FIRST_DAY) + len(demo_qc.DEMO_VALUES)
        assert demo_qc.load(session, config=app.config, policy=policy()) == 0


def test_the_demo_lot_made_to_be_released_is_released_by_the_demo_qa_reviewer(app):
    with app.app_context():
        _load_demo(app)
        lot = demo_lab.demo_lot(db.session(), "to_release")
        assert lot.status == "released", release.release_gaps(db.session(), lot)
