"""Configuration, the command line, error pages and headers."""

from __future__ import annotations

import pytest

from cellchain import create_app
from cellchain.core import config


def test_unknown_configuration_key_is_refused(tmp_path):
    with pytest.raises(config.ConfigError, match="DOSE_TOLERANSE"):
        config.load(str(tmp_path), environ={"CELLCHAIN_DOSE_TOLERANSE": "0.2"})


def test_a_site_cannot_give_one_local_identifier_letter_to_two_kinds(tmp_path):
    (tmp_path / "config.py").write_text('LOCAL_DATA_IDENTIFIERS = {"vial": "a", "box": "a"}\n')
    with pytest.raises(config.ConfigError, match="one letter to two kinds"):
        config.load(str(tmp_path), environ={})


def test_environment_overrides_instance_file_and_defaults(tmp_path):
    (tmp_path / "config.py").write_text("DOSE_TOLERANCE = 0.05\nPASSAGE_LIMIT = 4\n")
    merged = config.load(str(tmp_path), environ={"CELLCHAIN_PASSAGE_LIMIT": "6"})
    assert merged["DOSE_TOLERANCE"] == 0.05 and merged["PASSAGE_LIMIT"] == 6
    assert merged["INFUSION_WEEKS"] == [0, 4, 8, 12]


def test_missing_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = config.load(str(tmp_path), environ={})["SECRET_KEY"]
    second = config.load(str(tmp_path), environ={})["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg3():
    from cellchain.core.db import normalize_url
    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_testing_flag_comes_from_the_test_config(app):
    assert app.testing
    assert not create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"}).testing


def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unknown_page_says_not_found(client, auth):
    auth.login("lab")
    response = client.get("/no/such/page")
    assert response.status_code == 404 and b"Not found" in response.data


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and "error" in response.get_json()


def test_api_without_a_token_answers_401_json(client):
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401 and "error" in response.get_json()


def test_pages_carry_security_headers(client):
    response = client.get("/auth/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_login_redirect_never_leaves_the_site(client, auth):
    response = client.post("/auth/login", data={"username": "lab", "password": "cellchain-demo",
                                                "csrf_token": auth.csrf(), "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_demo_command_is_safe_to_run_twice(runner):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "0 new records" in second.output
    assert "nurse2" in second.output


def test_create_user_command_asks_for_the_password(runner, client, auth):
    result = runner.invoke(args=["create-user", "qa9", "--role", "qa", "--name", "Q A"],
                           input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    assert auth.login("qa9", "a-long-password").status_code == 302


@pytest.mark.parametrize(("typed", "read"), [("5,000,000", 5e6), ("5e6", 5e6), (" 12.5 ", 12.5), ("-1,234.5", -1234.5),
                                             ("1,5", None), ("5,00,000", None), ("five", None), ("1e999", None),
                                             ("", None)])
def test_numbers_are_read_as_people_type_them_and_never_guessed(typed, read):
    from cellchain.core.fields import number_as_typed

    assert number_as_typed(typed) == read
