"""A refused page form shows its page again with the reasons, never the bare error page: every form post of
the site, sent empty by a person allowed to send it, answers with a page that holds a form and says why."""

from __future__ import annotations

from tests.conftest import AuthActions, new_submission_id
from tests.factories.lab import in_db
from tests.factories.security import (
    PEOPLE,
    add_prints_and_deviation,
    add_sent_print_job,
    audit_count,
    load_site,
    routes,
)
from tests.security.test_roles import NOT_ROLE_GATED, PAGE_POSTS

ERROR_PAGE = 'class="card error-page"'
# Forms whose record this generic site does not hold under the key the sweep fills in; their refusals on their
# own pages are tested with their areas.
NOT_SWEPT: set[str] = set()
RETRY = "/labels/jobs/<int:job_id>/retry"
# A material lot's forms, filled with the demo's first material lot (``material_code``): each refused naming
# its field, nothing written.
MATERIAL_FORMS = {"/materials/lots/<material_code>/certificates": "certificate",
                  "/materials/lots/<material_code>/release": "signature",
                  "/materials/lots/<material_code>/reject": "signature"}


def _sender(rule: str) -> str:
    """The person the sweep sends a form as: the first, by name, whose role may send it."""
    return next(u for u, role in sorted(PEOPLE.items()) if role in PAGE_POSTS[rule])


def test_every_page_form_sent_empty_is_refused_on_its_own_page_not_the_error_page(app, client, api):
    site = add_sent_print_job(app, add_prints_and_deviation(client, api, load_site(app)), _sender(RETRY))
    browsers: dict[str, AuthActions] = {}
    on_error_page = []
    answered: dict[str, tuple[int, str, bool]] = {}
    for route in routes(app, api=False):
        if route.method != "POST" or route.rule in NOT_ROLE_GATED or route.rule in NOT_SWEPT:
            continue
        username = _sender(route.rule)
        if username not in browsers:
            browsers[username] = AuthActions(app.test_client())
            assert browsers[username].login(username).status_code == 302
        actions = browsers[username]
        with in_db(app) as session:
            before = audit_count(session)
        response = actions._client.post(route.url(site), data={"csrf_token": actions.csrf(),
                                                                "submission_id": new_submission_id()})
        page = response.get_data(as_text=True)
        with in_db(app) as session:
            answered[route.rule] = (response.status_code, page, audit_count(session) == before)
        assert response.status_code < 500, route.rule
        said = 'role="alert"' in page or 'class="errors"' in page  # the reasons, shown where the form is
        if response.status_code >= 400 and (ERROR_PAGE in page or "<form" not in page or not said):
            on_error_page.append(f"POST {route.rule} as {username}: {response.status_code}")
    assert on_error_page == [], "\n".join(on_error_page)
    status, page, unwritten = answered[RETRY]  # a job the printer took is not sent again
    assert status == 409 and 'data-reason="print_job_not_failed"' in page and unwritten
    for rule, field in MATERIAL_FORMS.items():
        status, page, unwritten = answered[rule]
        assert status == 400 and field in page and unwritten, rule
