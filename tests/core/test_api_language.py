"""An API caller reads refusals in their language: the Accept-Language header, else their stored choice, else
the site's default (docs/architecture.md, "Languages")."""

from __future__ import annotations

from sqlalchemy import text

from cellchain.core import db
from tests.conftest import signature

LIFT = "/api/v1/holds/1/lift"
NO_REASON_ZH = "请说明解除暂扣的原因"
NO_REASON_EN = "say why the hold is lifted"


def _chooses(app, username: str, language: str) -> None:
    with app.app_context():
        db.session().execute(text("UPDATE users SET language = :language WHERE username = :username"),
                             {"language": language, "username": username})
        db.commit()


def _refusal(api, client, **headers: str) -> str:
    response = client.post(LIFT, json={"signature": signature("qa", "approved"), "reason": " "},
                           headers={**api.headers("qa"), **headers})
    assert response.status_code == 400
    return response.get_json()["fields"]["reason"]


def test_a_chinese_reader_s_token_gets_refusals_in_chinese(app, api, client):
    _chooses(app, "qa", "zh")
    assert NO_REASON_ZH in _refusal(api, client)


def test_an_accept_language_header_overrides_the_stored_choice(app, api, client):
    _chooses(app, "qa", "zh")
    assert NO_REASON_EN in _refusal(api, client, **{"Accept-Language": "en-GB,en;q=0.9"})
    _chooses(app, "qa", "en")
    assert NO_REASON_ZH in _refusal(api, client, **{"Accept-Language": "zh-CN"})
    assert NO_REASON_ZH in _refusal(api, client, **{"Accept-Language": "fr, zh-Hans;q=0.5"})


def test_a_language_the_site_does_not_offer_falls_back_to_the_caller_s_choice_then_the_site_default(app, api,
                                                                                                    client):
    _chooses(app, "qa", "zh")
    assert NO_REASON_ZH in _refusal(api, client, **{"Accept-Language": "fr-FR, de;q=0.8"})
    _chooses(app, "qa", None)
    app.config["DEFAULT_LANGUAGE"] = "zh"
    assert NO_REASON_ZH in _refusal(api, client, **{"Accept-Language": "fr"})
    app.config["DEFAULT_LANGUAGE"] = "en"
    assert NO_REASON_EN in _refusal(api, client, **{"Accept-Language": "zh-TW"})


def test_an_api_answer_says_it_varies_with_the_accept_language_header(api, client):
    response = client.get("/api/v1/holds", headers=api.headers("qa"))
    assert "Accept-Language" in response.headers.get("Vary", "")


def test_the_pages_keep_the_session_s_language_whatever_the_browser_accepts(auth, client):
    auth.login("nurse")
    auth.post("/auth/language", {"language": "zh"})
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page
