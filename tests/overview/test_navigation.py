"""The menu offers each person exactly the area pages their roles may open: no dead links, nothing hidden."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from cellchain.overview.navigation import NAV

MENU_LINK = re.compile(r'<nav[^>]*>(.*?)</nav>', re.S)


@pytest.mark.parametrize("username", ["lab", "qc", "qa", "coordinator", "nurse", "admin", "auditor"])
def test_the_menu_links_every_area_page_the_person_may_open_and_no_other(app, client, auth, username):
    auth.login(username)
    home = client.get("/").get_data(as_text=True)
    menu = MENU_LINK.search(home).group(1)
    with app.test_request_context():
        urls = {label: url_for(endpoint) for label, endpoint in NAV}
    for label, url in urls.items():
        opens = client.get(url).status_code == 200
        assert (f'href="{url}"' in menu) == opens, (username, label)


def test_a_qc_analyst_finds_the_lab_pages_their_role_may_read(client, auth):
    auth.login("qc")
    menu = MENU_LINK.search(client.get("/").get_data(as_text=True)).group(1)
    assert 'href="/lab/"' in menu and client.get("/lab/").status_code == 200
