"""Accounts: login with CSRF, lock-out after failed logins, roles per project, tenant isolation,
API keys hashed at rest, secure cookies, and the user commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from .conftest import PASSWORD, UNTIL, WebApp, bearer, require_web

require_web()


def csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "the form carries no CSRF token"
    return found.group(1).decode()


def login(client: Any, username: str, password: str) -> Any:
    page = client.get("/login/")
    return client.post("/login/", {"username": username, "password": password,
                                   "csrfmiddlewaretoken": csrf_token(page.content)})


def test_login_with_csrf_and_logout(app: WebApp) -> None:
    c = app.client(enforce_csrf_checks=True)
    assert c.get("/").status_code == 302  # anonymous: sent to the login page
    r = login(c, "ana", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/"
    assert c.get("/").status_code == 302  # one project: straight to its overview
    assert c.get("/p/main/explore/").status_code == 200
    assert c.get("/logout/").status_code == 405  # logging out is a POST with the CSRF token
    page = c.get("/p/main/explore/")
    assert c.post("/logout/", {"csrfmiddlewaretoken": csrf_token(page.content)}).status_code == 302
    assert c.get("/p/main/explore/").status_code == 302


def test_login_without_csrf_token_is_refused(app: WebApp) -> None:
    c = app.client(enforce_csrf_checks=True)
    r = c.post("/login/", {"username": "ana", "password": PASSWORD})
    assert r.status_code == 403
    assert b"Form expired" in r.content


def test_wrong_password_is_refused(app: WebApp) -> None:
    r = login(app.client(), "vic", "not the password")
    assert r.status_code == 200 and b"did not match" in r.content


def test_lock_out_after_repeated_failures(app: WebApp) -> None:
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("locky", "", PASSWORD)
    c = app.client()
    for _ in range(3):
        login(c, "locky", "wrong password")
    r = login(c, "locky", PASSWORD)  # even the right password is refused during the lock-out
    assert r.status_code == 429
    assert b"Too many failed logins" in r.content
    other = login(app.client(), "vic", PASSWORD)  # other user names are not affected
    assert other.status_code == 302


def test_session_cookie_is_secure_and_http_only(app: WebApp) -> None:
    c = app.client()
    login(c, "vic", PASSWORD)
    cookie = c.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert c.cookies["csrftoken"]["secure"]


def test_password_is_hashed(app: WebApp) -> None:
    user = app.users["ana"]
    user.refresh_from_db()
    assert PASSWORD not in user.password and user.password.startswith("pbkdf2_sha256$")


def test_api_keys_are_hashed_at_rest_and_revocable(app: WebApp) -> None:
    from cxlens.web.models import ApiKey

    new = ApiKey.issue(app.projects["main"], "temporary", ("read",))
    stored = ApiKey.objects.get(pk=new.key.pk)
    assert new.secret not in (stored.digest, stored.prefix, stored.name) and len(stored.digest) == 64
    assert app.client().get("/api/projects/main/status", headers=bearer(new.secret)).status_code == 200
    stored.revoke()
    assert app.client().get("/api/projects/main/status", headers=bearer(new.secret)).status_code == 401


def test_roles_on_the_api_with_a_session(app: WebApp) -> None:
    rows = {"rows": [{"customer_id": "role-test-1"}]}
    for user, expected in (("vic", 403), ("ana", 200), ("ada", 200)):
        c = app.client(user, enforce_csrf_checks=True)
        c.get("/p/main/customers/")  # a page with a form sets the csrftoken cookie
        token = c.cookies["csrftoken"].value
        r = c.post("/api/projects/main/ingest/customers", rows, content_type="application/json",
                   headers={"X-CSRFToken": token})
        assert r.status_code == expected, (user, r.content)


def test_tenant_isolation_on_pages(app: WebApp) -> None:
    oscar = app.client("oscar")
    for path in ("/p/main/", "/p/main/explore/", "/p/main/customers/", "/p/main/customers/C0000001/"):
        assert oscar.get(path).status_code == 404, path
    assert oscar.get("/p/other/explore/").status_code == 200
    assert app.client("vic").get("/p/other/explore/").status_code == 404
    assert b"Other company" not in app.client("vic").get(f"/p/main/explore/?until={UNTIL}").content


def test_tenant_isolation_on_the_api(app: WebApp) -> None:
    assert app.client("oscar").get("/api/projects/main/status").status_code == 404
    assert app.client("oscar").get("/api/projects/main/metrics/nps").status_code == 404
    r = app.client().get("/api/projects/main/customers/C0000001", headers=bearer(app.keys["other"]))
    assert r.status_code == 404
    r = app.client().post("/api/projects/main/ingest/customers", {"rows": [{"customer_id": "x"}]},
                          content_type="application/json", headers=bearer(app.keys["other"]))
    assert r.status_code == 404
    assert app.client().get("/api/projects/other/status", headers=bearer(app.keys["other"])).status_code == 200


def test_healthz_needs_no_login(app: WebApp) -> None:
    r = app.client().get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_users_commands(app: WebApp, tmp_path: Path) -> None:
    from cxlens.web.cli import apikeys, users

    runner = CliRunner()
    ws = ["-w", str(app.root)]
    weak = runner.invoke(users, ["create", "weak", "--password-stdin", *ws], input="1234\n")
    assert weak.exit_code == 2 and "password is not accepted" in weak.output
    ok = runner.invoke(users, ["create", "newbie", "--role", "analyst", "--password-stdin", *ws],
                       input=PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(users, ["create", "newbie", "--password-stdin", *ws], input=PASSWORD + "\n")
    assert again.exit_code == 2 and "exists already" in again.output
    bad_project = runner.invoke(users, ["role", "newbie", "viewer", "--project", "nope", *ws])
    assert bad_project.exit_code == 2 and "Unknown project 'nope'" in bad_project.output
    assert runner.invoke(users, ["role", "newbie", "viewer", *ws]).exit_code == 0
    listed = runner.invoke(users, ["list", "--format", "json", *ws]).output
    assert '"user": "newbie"' in listed and '"role": "viewer"' in listed
    made = runner.invoke(apikeys, ["create", "cli key", "--scope", "read", *ws])
    secret = made.stdout.strip()
    assert made.exit_code == 0 and secret.startswith("cxl_")
    assert app.client().get("/api/projects/main/status", headers=bearer(secret)).status_code == 200
    prefix = secret.split("_")[1]
    assert runner.invoke(apikeys, ["revoke", prefix, *ws]).exit_code == 0
    assert app.client().get("/api/projects/main/status", headers=bearer(secret)).status_code == 401


def test_settings_page_is_for_admins_only(app: WebApp) -> None:
    assert app.client("ada").get("/p/main/settings/").status_code == 200
    assert b"Settings</a>" in app.client("ada").get("/p/main/").content
    for user, status in (("ana", 403), ("vic", 403), ("oscar", 404)):
        assert app.client(user).get("/p/main/settings/").status_code == status, user
        assert app.client(user).post("/p/main/settings/", {"action": "create_key", "name": "x",
                                                            "scopes": ["read"]}).status_code == status, user
    assert b"Settings</a>" not in app.client("vic").get("/p/main/customers/").content


def test_admin_manages_members(app: WebApp) -> None:
    from django.contrib.auth import get_user_model

    from cxlens.web.models import Membership

    get_user_model().objects.create_user("mia", "mia@example.com", PASSWORD)
    ada = app.client("ada")
    assert app.client().get("/p/main/explore/").status_code == 302
    assert ada.post("/p/main/settings/", {"action": "set_role", "username": "mia", "role": "viewer"}).status_code == 302
    mia = app.client()
    mia.force_login(get_user_model().objects.get(username="mia"))
    assert mia.get("/p/main/explore/").status_code == 200
    ada.post("/p/main/settings/", {"action": "set_role", "username": "mia", "role": "analyst"})
    assert Membership.objects.get(user__username="mia").role == "analyst"
    bad = ada.post("/p/main/settings/", {"action": "set_role", "username": "ghost", "role": "viewer"})
    assert bad.status_code == 400 and b"There is no user" in bad.content
    bad = ada.post("/p/main/settings/", {"action": "set_role", "username": "mia", "role": "owner"})
    assert bad.status_code == 400 and b"must be one of viewer, analyst, admin" in bad.content
    last_admin = ada.post("/p/main/settings/", {"action": "set_role", "username": "ada", "role": "viewer"})
    assert last_admin.status_code == 400 and b"at least one admin" in last_admin.content
    assert ada.post("/p/main/settings/", {"action": "remove_member", "username": "mia"}).status_code == 302
    assert mia.get("/p/main/explore/").status_code == 404


def test_admin_creates_a_key_shown_once_and_revokes_it(app: WebApp) -> None:
    ada = app.client("ada")
    r = ada.post("/p/main/settings/", {"action": "create_key", "name": "survey tool", "scopes": ["ingest"]})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    secret = re.search(rb'id="new-key-secret">([^<]+)<', r.content)
    assert secret
    key = secret.group(1).decode()
    posted = app.client().post("/api/projects/main/ingest/customers", {"rows": [{"customer_id": "via-ui-key"}]},
                               content_type="application/json", headers=bearer(key))
    assert posted.status_code == 200
    assert key.encode() not in ada.get("/p/main/settings/").content  # never shown again
    prefix = key.split("_")[1]
    assert ada.post("/p/main/settings/", {"action": "revoke_key", "prefix": prefix}).status_code == 302
    assert app.client().get("/api/projects/main/status", headers=bearer(key)).status_code == 401
    bad = ada.post("/p/main/settings/", {"action": "create_key", "name": "bad", "scopes": ["manage"]})
    assert bad.status_code == 400 and b"scopes must be one or more of ingest, read" in bad.content


def test_django_checks_and_migrations_are_clean(app: WebApp) -> None:
    from django.core.management import call_command

    call_command("check", fail_level="WARNING", verbosity=0)
    call_command("makemigrations", "cxweb", check=True, dry_run=True, verbosity=0)  # exits 1 on drift


def test_admin_site_is_for_superusers(app: WebApp) -> None:
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    c = app.client()
    c.force_login(root)
    page = c.get("/admin/cxweb/apikey/")
    assert page.status_code == 200 and b"dashboards" in page.content  # a key's name, never its secret
    static = app.client().get("/static/admin/css/base.css")  # served by whitenoise
    try:
        assert static.status_code == 200 and b"".join(static.streaming_content)
    finally:
        static.close()
    assert app.client("ada").get("/admin/").status_code == 302  # a project admin is not a site admin
