"""A refused page form shows its page again with the reasons, never the bare error page: every form post of
the site, sent empty by a person allowed to send it, answers with a page that holds a form and says why."""

from __future__ import annotations

from tests.conftest import AuthActions, new_submission_id
from tests.factories.security import PEOPLE, add_prints_and_deviation, load_site, routes
from tests.security.test_roles import NOT_ROLE_GATED, PAGE_POSTS

ERROR_PAGE = 'class="card error-page"'
# Forms whose record this generic site does not hold under the key the sweep fills in (a material lot's code,
# a print job the person did not send); their refusals on their own pages are tested with their areas
# (tests/materials, tests/labelling/test_printer_pages.py).
NOT_SWEPT = {"/labels/jobs/<int:job_id>/retry", "/materials/lots/<code>/certificates",
             "/materials/lots/<code>/reject", "/materials/lots/<code>/release"}


def test_every_page_form_sent_empty_is_refused_on_its_own_page_not_the_error_page(app, client, api):
    site = add_prints_and_deviation(client, api, load_site(app))
    browsers: dict[str, AuthActions] = {}
    on_error_page = []
    for route in routes(app, api=False):
        if route.method != "POST" or route.rule in NOT_ROLE_GATED or route.rule in NOT_SWEPT:
            continue
        username = next(u for u, role in sorted(PEOPLE.items()) if role in PAGE_POSTS[route.rule])
        if username not in browsers:
            browsers[username] = AuthActions(app.test_client())
            assert browsers[username].login(username).status_code == 302
        actions = browsers[username]
        response = actions._client.post(route.url(site), data={"csrf_token": actions.csrf(),
                                                                "submission_id": new_submission_id()})
        page = response.get_data(as_text=True)
        assert response.status_code < 500, route.rule
        said = 'role="alert"' in page or 'class="errors"' in page  # the reasons, shown where the form is
        if response.status_code >= 400 and (ERROR_PAGE in page or "<form" not in page or not said):
            on_error_page.append(f"POST {route.rule} as {username}: {response.status_code}")
    assert on_error_page == [], "\n".join(on_error_page)
