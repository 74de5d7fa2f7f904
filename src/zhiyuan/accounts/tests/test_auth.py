"""Signing in and out, the language of the UI, lockout, password change, the role badge,
fail-loud production settings, and the staff-only API docs."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from zhiyuan.accounts.models import Role
from zhiyuan.accounts.services import api_token_issue
from zhiyuan.conftest import PASSWORD

LOGIN_URL = "/accounts/login/"


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def _zh(message: str) -> str:
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


def _signed_in_user_id(client: Client):
    return client.session.get("_auth_user_id")


# ---------------------------------------------------------------- language


@pytest.mark.django_db
def test_login_page_is_chinese_by_default():
    response = Client().get(LOGIN_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert _lang(html) == "zh-hans"
    assert "登录" in html  # "Sign in"
    assert ">Sign in<" not in html


@pytest.mark.django_db
def test_browser_language_does_not_switch_the_ui():
    html = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get(LOGIN_URL).content.decode()
    assert _lang(html) == "zh-hans"


@pytest.mark.django_db
def test_language_switch_to_english_and_back():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": LOGIN_URL})
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    html = client.get(LOGIN_URL).content.decode()
    assert _lang(html) == "en"
    assert ">Sign in<" in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": LOGIN_URL})
    assert _lang(client.get(LOGIN_URL).content.decode()) == "zh-hans"


@pytest.mark.django_db
def test_unsupported_language_cookie_falls_back_to_chinese():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert _lang(client.get(LOGIN_URL).content.decode()) == "zh-hans"


def test_language_switch_is_offered_on_every_page(login):
    html = login("specialist").get("/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert '<option value="en"' in html and '<option value="zh-hans"' in html


# ---------------------------------------------------------------- sign in, lockout


def _post_login(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def test_sign_in_and_out(personas):
    client = Client()
    response = _post_login(client, "zhuanyuan", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert str(_signed_in_user_id(client)) == str(personas["specialist"].pk)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert _signed_in_user_id(client) is None
    assert client.get("/")["Location"].startswith(LOGIN_URL)


def test_wrong_password_is_refused_with_a_chinese_message(personas):
    client = Client()
    response = _post_login(client, "zhuanyuan", "wrong-password")
    assert response.status_code == 200
    assert _signed_in_user_id(client) is None
    html = response.content.decode()
    assert "alert-danger" in html
    assert re.search(r'alert-danger">[^<]*[\u4e00-\u9fff]', html), "the error is not in Chinese"


def test_failures_below_the_limit_do_not_lock(personas):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _post_login(client, "zhuanyuan", "wrong-password").status_code == 200
    response = _post_login(client, "zhuanyuan", PASSWORD)
    assert response.status_code == 302
    assert str(_signed_in_user_id(client)) == str(personas["specialist"].pk)


def test_lockout_after_the_failure_limit(personas):
    assert settings.AXES_ENABLED
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, "zhuanyuan", "wrong-password")
    response = _post_login(client, "zhuanyuan", PASSWORD)
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert _signed_in_user_id(client) is None
    html = response.content.decode()
    assert _zh("Too many failed sign-in attempts. This account is locked for a while; "
               "try again later or ask the administrator.") in html
    assert "锁定" in html


def test_locked_username_stays_locked_from_another_address(personas):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(Client(), "zhuanyuan", "wrong-password", REMOTE_ADDR="10.0.0.1")
    client = Client()
    response = _post_login(client, "zhuanyuan", PASSWORD, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert _signed_in_user_id(client) is None


# ---------------------------------------------------------------- password change


NEW_PASSWORD = "Hetang-zhiyuan-2026!"


def test_password_change(personas):
    client = Client()
    _post_login(client, "zhuanyuan", PASSWORD)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    assert client.get("/").status_code == 200  # still signed in
    specialist = personas["specialist"]
    specialist.refresh_from_db()
    assert specialist.check_password(NEW_PASSWORD)
    fresh = Client()
    assert _post_login(fresh, "zhuanyuan", PASSWORD).status_code == 200
    assert _post_login(fresh, "zhuanyuan", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("not-the-old-one", NEW_PASSWORD, NEW_PASSWORD, "old_password"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "new_password2"),
        (PASSWORD, "12345678", "12345678", "new_password2"),
    ],
    ids=["wrong old password", "mismatch", "too weak"],
)
def test_password_change_refused(login, personas, old, new1, new2, field):
    response = login("specialist").post(
        "/accounts/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert f'data-field="{field}"' in response.content.decode()
    specialist = personas["specialist"]
    specialist.refresh_from_db()
    assert specialist.check_password(PASSWORD)


def test_password_change_needs_a_login(db):
    assert Client().get("/accounts/password/")["Location"].startswith(LOGIN_URL)


# ---------------------------------------------------------------- role badge


@pytest.mark.parametrize(
    ("key", "role"),
    [("specialist", Role.SPECIALIST), ("leader", Role.LEADER), ("firm_a", Role.ENTERPRISE), ("bank", Role.BANK)],
)
def test_role_badge_on_every_page(login, firm_a, key, role):
    client = login(key)
    with translation.override("zh-hans"):
        label = str(role.label)
    with translation.override("en"):
        assert label != str(role.label)  # the Chinese label, not the English msgid
    for url in ["/", "/accounts/password/"]:
        html = client.get(url).content.decode()
        badge = re.search(r'data-testid="role-badge">([^<]*)<', html)
        assert badge, url
        assert badge.group(1).strip() == label


def test_no_badge_when_signed_out(db):
    assert 'data-testid="role-badge"' not in Client().get(LOGIN_URL).content.decode()


# ---------------------------------------------------------------- settings fail loudly


def _settings_process(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZHIYUAN_") and k != "DATABASE_URL"}
    clean.update(DJANGO_SETTINGS_MODULE="zhiyuan.config.settings", ZHIYUAN_DATA_DIR=str(tmp_path), **env)
    code = "import django; django.setup(); from django.conf import settings; print('DEBUG', settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_production_starts_with_a_real_secret_key(tmp_path):
    result = _settings_process(
        tmp_path, ZHIYUAN_ENV="production", ZHIYUAN_SECRET_KEY="k" * 20 + "9f3a61c0e7d24b58a1",
        ZHIYUAN_ALLOWED_HOSTS="zhiyuan.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


@pytest.mark.parametrize(
    "secret",
    [None, "zhiyuan-insecure-development-key-do-not-use-in-production", "short-key"],
    ids=["missing", "default", "too short"],
)
def test_production_refuses_a_missing_or_default_secret_key(tmp_path, secret):
    env = {"ZHIYUAN_ENV": "production", "ZHIYUAN_ALLOWED_HOSTS": "zhiyuan.example.org"}
    if secret is not None:
        env["ZHIYUAN_SECRET_KEY"] = secret
    result = _settings_process(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ZHIYUAN_SECRET_KEY" in result.stderr


def test_production_requires_allowed_hosts(tmp_path):
    result = _settings_process(tmp_path, ZHIYUAN_ENV="production", ZHIYUAN_SECRET_KEY="s" * 50)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "ZHIYUAN_ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("ZHIYUAN_DEBUG", "maybe"), ("ZHIYUAN_LOGIN_FAILURE_LIMIT", "five"), ("ZHIYUAN_ENV", "staging")],
)
def test_unparseable_settings_fail_loudly(tmp_path, name, value):
    env = {"ZHIYUAN_ENV": "test", name: value}
    result = _settings_process(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr and value in result.stderr


def test_a_valid_boolean_is_accepted(tmp_path):
    result = _settings_process(tmp_path, ZHIYUAN_ENV="test", ZHIYUAN_DEBUG="yes")
    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout


# ---------------------------------------------------------------- API schema and docs: staff only


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
@pytest.mark.parametrize("key", ["admin", "leader", "specialist", "statistics"])
def test_api_docs_open_to_district_staff(login, url, key):
    assert login(key).get(url).status_code == 200


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
@pytest.mark.parametrize("key", ["firm_a", "bank", "city"])
def test_api_docs_closed_to_everyone_else(login, url, key):
    response = login(key).get(url)
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_api_docs_closed_to_a_city_token_and_to_anonymous(personas, url):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(actor=None, user=personas['city']).key}")
    assert client.get(url).status_code == 403
    assert APIClient().get(url).status_code in {401, 403}


def test_schema_describes_the_enterprise_api(login):
    schema = login("specialist").get("/api/schema/", {"format": "json"}).json()
    assert "/api/enterprises/" in schema["paths"]
    assert "/api/enterprises/{id}/" in schema["paths"]
    assert {"get", "post"} <= set(schema["paths"]["/api/enterprises/"])


def test_api_docs_load_no_external_script_or_stylesheet(login):
    client = login("specialist")
    html = client.get("/api/docs/").content.decode()
    assets = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    external = [a for a in assets if re.match(r"^(https?:)?//", a)]
    assert not external
    assert not re.search(r"https?://[^\"'\s]*(cdn|unpkg|jsdelivr|cdnjs)", html)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body, asset


def test_base_page_assets_are_served_locally(login):
    client = login("specialist")
    html = client.get("/").content.decode()
    assets = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert any("htmx" in a for a in assets) and any("bootstrap" in a and a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset
