"""Where people look for labels: the lot page links its label pages, the menu links the reconciliation."""

from __future__ import annotations

from tests.factories.qc import db_session, make_lot


def test_lab_finds_vessel_labels_and_the_reconciliation_on_a_growing_lot(app, client, auth):
    with db_session(app) as session:
        number = make_lot(session, status="in_process").lot_number
    auth.login("lab")
    page = client.get(f"/lab/lots/{number}").get_data(as_text=True)
    links = page.split('data-testid="label-links"')[1].split("</p>")[0]
    assert f'href="/labels/print/vessel/{number}"' in links and 'href="/labels/"' in links
    assert f'href="/labels/print/qc/{number}"' in links and f'href="/labels/print/lot/{number}"' in links
    assert client.get(f"/labels/print/vessel/{number}").status_code == 200
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/labels/"' in nav and ">Labels</a>" in nav
    assert b"Label reconciliation" in client.get("/labels/").data


def test_a_lot_past_growing_offers_no_vessel_labels(app, client, auth):
    with db_session(app) as session:
        number = make_lot(session, status="awaiting_release").lot_number
    auth.login("qa")
    page = client.get(f"/lab/lots/{number}").get_data(as_text=True)
    links = page.split('data-testid="label-links"')[1].split("</p>")[0]
    assert "/labels/print/vessel/" not in links and 'href="/labels/"' in links


def test_qc_is_not_shown_label_pages_it_cannot_open(app, client, auth):
    with db_session(app) as session:
        number = make_lot(session, status="in_process").lot_number
    auth.login("qc")
    page = client.get(f"/lab/lots/{number}")
    if page.status_code == 200:
        assert b'data-testid="label-links"' not in page.data
    assert client.get("/labels/").status_code == 403
    assert b'href="/labels/"' not in client.get("/").data
