"""Randomization: permuted blocks in list order, once per subject, concealed, even when requests race."""

from __future__ import annotations

import json
import re
import threading

from sqlmodel import select

from cellchain.audit.models import AuditEntry
from cellchain.core import db
from cellchain.identifiers.isbt128 import ChainOfIdentity
from cellchain.people import accounts
from cellchain.trial import randomization, subjects
from cellchain.trial.models import RandomizationList, Subject
from tests.conftest import ApiActions
from tests.factories.trial import eligible_answers, randomized, register


def _audit(session, action: str) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_simulated_50_subject_trial_stays_balanced_and_never_reuses_a_position(app):
    with app.app_context():
        session = db.session()
        coordinator = accounts.find_user(session, "coordinator")
        protocol = subjects.Protocol.from_config(app.config)
        arms = []
        for _ in range(50):
            subject = subjects.register(session, actor=coordinator, data=eligible_answers(), protocol=protocol)
            arms.append(randomization.randomize(session, actor=coordinator, subject_code=subject.subject_code,
                                                planned_subjects=50).arm)
            assert abs(arms.count("A") - arms.count("B")) <= 2
        db.commit()
        positions = [s.randomization_position for s in session.exec(select(Subject).order_by(Subject.id))]
        assert positions == list(range(1, 51))
        audited = [json.loads(e.new_values)["list_position"] for e in _audit(session, "randomize")]
        assert audited == list(range(1, 51))
        row = session.get(RandomizationList, randomization.LIST_ID)
        assert arms == row.entries[:50] and row.next_position == 51
        assert randomization.verify(session).ok


def test_eight_concurrent_randomizations_of_one_subject_give_one_arm(app, api):
    subject_id = register(api)["subject_id"]
    clients = [ApiActions(app.test_client()) for _ in range(8)]
    for client in clients:
        client.token("coordinator")  # log in before the race, so only the randomizations race
    barrier, answers = threading.Barrier(8), []

    def attempt(client: ApiActions) -> None:
        barrier.wait()
        response = client.post(f"/api/v1/subjects/{subject_id}/randomize", as_="coordinator")
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, _ in answers) == [200] + [409] * 7
    winner = next(body for status, body in answers if status == 200)
    assert all(body["reasons"][0]["code"] == "already_randomized" for status, body in answers if status == 409)
    assert api.get(f"/api/v1/subjects/{subject_id}", as_="coordinator").get_json()["arm"] == winner["arm"]
    with app.app_context():
        session = db.session()
        assert len(_audit(session, "randomize")) == 1
        assert session.get(RandomizationList, randomization.LIST_ID).next_position == 2
        assert len(session.exec(select(RandomizationList)).all()) == 1


def test_a_randomization_is_never_changed(api):
    subject = randomized(api)
    again = api.post(f"/api/v1/subjects/{subject['subject_id']}/randomize", as_="coordinator")
    assert again.status_code == 409 and again.get_json()["reasons"][0]["code"] == "already_randomized"
    assert api.get(f"/api/v1/subjects/{subject['subject_id']}", as_="auditor").get_json()["arm"] == subject["arm"]


def test_an_ineligible_subject_cannot_be_randomized(app, api):
    subject = register(api, active_infection=True)
    response = api.post(f"/api/v1/subjects/{subject['subject_id']}/randomize", as_="coordinator")
    assert response.status_code == 409 and response.get_json()["reasons"][0]["code"] == "subject_ineligible"
    with app.app_context():
        assert db.session().get(RandomizationList, randomization.LIST_ID) is None  # no list spent on it


def test_only_the_coordinator_randomizes(api):
    subject = register(api)
    assert api.post(f"/api/v1/subjects/{subject['subject_id']}/randomize", as_="admin").status_code == 403
    assert api.post("/api/v1/subjects/SUBJ-0404/randomize", as_="coordinator").status_code == 404


def test_the_list_is_audited_with_its_hash_and_size_but_never_its_seed_or_entries(app, api):
    subject = randomized(api)
    with app.app_context():
        session = db.session()
        row = session.get(RandomizationList, randomization.LIST_ID)
        made = _audit(session, "create")[-1]
        assert made.record_type == "randomization_list"
        assert json.loads(made.new_values) == {"list_hash": row.list_hash, "size": len(row.entries)}
        given = json.loads(_audit(session, "randomize")[0].new_values)
        assert given == {"arm": subject["arm"], "list_position": 1, "list_hash": row.list_hash,
                         "status": "randomized", "chain_of_identity": subject["chain_of_identity"]}
        for entry in session.exec(select(AuditEntry)):
            assert row.seed not in (entry.new_values or "") + (entry.old_values or "")
            assert "entries" not in (entry.new_values or "")


def _leaks(text: str, row: RandomizationList) -> list[str]:
    """Any trace of the list in a response: its seed, its fields, or a run of its arms in any spelling."""
    compact = re.sub(r"\s", "", text)
    head = row.entries[:8]
    marks = (row.seed, "block_sizes", "".join(head), '"' + '","'.join(head) + '"', "'" + "','".join(head) + "'")
    return [m for m in marks if m in compact] + re.findall(r'"entries":\[', compact)


def test_no_page_or_endpoint_shows_the_lists_entries_or_seed(app, api, client, auth):
    first = randomized(api)["subject_id"]
    randomized(api)
    urls = ["/trial/", "/trial/balance", f"/trial/subjects/{first}", "/audit/", "/audit/verify",
            "/api/v1/subjects", f"/api/v1/subjects/{first}", f"/api/v1/subjects/{first}/visits",
            "/api/v1/randomization-list", "/api/v1/audit/verify"]
    with app.app_context():
        row = db.session().get(RandomizationList, randomization.LIST_ID)
        rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments
                 and r.endpoint.startswith(("trial.", "audit.", "api.")) and "audit" in r.endpoint]
        urls += [str(r.rule) for r in rules]
    for username in ("coordinator", "auditor", "admin"):
        auth.login(username)
        bearer = api.headers(username)
        for url in urls:
            response = client.get(url, headers=bearer if url.startswith("/api/") else {})
            assert _leaks(response.get_data(as_text=True), row) == [], (username, url)
        auth.logout()


def test_an_exhausted_list_is_extended_with_a_new_recorded_hash(app, api, runner):
    with app.app_context():
        row, made = randomization.ensure_list(db.session(), actor=None, size=2)
        db.commit()
        size, first_hash = len(row.entries), row.list_hash
    assert made
    for _ in range(size):
        randomized(api)
    subject = register(api)["subject_id"]
    refused = api.post(f"/api/v1/subjects/{subject}/randomize", as_="coordinator")
    assert refused.status_code == 409 and refused.get_json()["reasons"][0]["code"] == "allocation_list_exhausted"
    assert api.post("/api/v1/randomization-list/extend", as_="admin", json={"extra": 4}).status_code == 400
    extended = api.post("/api/v1/randomization-list/extend", as_="admin",
                        json={"extra": 4, "reason": "enrolment raised by amendment 2"})
    assert extended.status_code == 200 and extended.get_json()["list_hash"] != first_hash
    assert api.post(f"/api/v1/subjects/{subject}/randomize", as_="coordinator").status_code == 200
    assert api.get("/api/v1/randomization-list", as_="auditor").get_json()["verified"] is True
    with app.app_context():
        entry = _audit(db.session(), "extend")[0]
        assert json.loads(entry.old_values) == {"list_hash": first_hash, "size": size}
        assert entry.reason == "enrolment raised by amendment 2" and entry.actor == "admin"
    by_nurse = api.post("/api/v1/randomization-list/extend", as_="nurse", json={"extra": 2, "reason": "x"})
    assert by_nurse.status_code == 403


def test_the_list_is_made_once_from_the_command_line_and_verifies(app, runner):
    first = runner.invoke(args=["trial-init-list"])
    second = runner.invoke(args=["trial-init-list"])
    assert first.exit_code == 0 and first.output.startswith("Made: ")
    assert second.output.startswith("Already made: ")
    with app.app_context():
        row = db.session().get(RandomizationList, randomization.LIST_ID)
        assert row.list_hash in first.output and row.seed not in first.output
        assert len(row.entries) >= app.config["TRIAL_PLANNED_SUBJECTS"]
    assert runner.invoke(args=["trial-verify-list"]).exit_code == 0


def test_a_changed_list_entry_is_caught_by_verification(app, runner):
    runner.invoke(args=["trial-init-list"])
    with app.app_context():
        session = db.session()
        row = session.get(RandomizationList, randomization.LIST_ID)
        row.entries = ["B" if arm == "A" else "A" for arm in row.entries[:1]] + row.entries[1:]
        session.add(row)
        db.commit()
    result = runner.invoke(args=["trial-verify-list"])
    assert result.exit_code == 1 and "rebuild" in result.output


def test_randomization_issues_the_subjects_chain_of_identity_identifier_once(app, api):
    first, second = register(api), register(api)
    answers = [api.post(f"/api/v1/subjects/{s['subject_id']}/randomize", as_="coordinator").get_json()
               for s in (first, second)]
    cois = [a["chain_of_identity"] for a in answers]
    assert all(re.fullmatch(r"CH" + app.config["FACILITY_FIN"] + r"[0-9]{2}[0-9]{6}[0-9A-Z*]", c) for c in cois)
    assert len(set(cois)) == 2
    assert [ChainOfIdentity.parse(c).text for c in cois] == cois  # K checks
    shown = api.get(f"/api/v1/subjects/{first['subject_id']}", as_="auditor").get_json()
    assert shown["chain_of_identity"] == cois[0]
    api.post(f"/api/v1/subjects/{first['subject_id']}/randomize", as_="coordinator")
    with app.app_context():
        session = db.session()
        stored = session.exec(select(Subject).where(Subject.subject_code == first["subject_id"])).one()
        assert stored.chain_of_identity == cois[0]
        entry = _audit(session, "randomize")[0]
        assert json.loads(entry.new_values)["chain_of_identity"] == cois[0]


def test_a_subject_not_yet_randomized_has_no_chain_of_identity_identifier(api):
    subject = register(api)
    assert api.get(f"/api/v1/subjects/{subject['subject_id']}", as_="auditor").get_json()["chain_of_identity"] is None
