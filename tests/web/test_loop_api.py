"""The loop's settings over the REST API: notification channels (with "send a test"), teams and the
SLA settings. Every operation for every role and key scope, another project's objects invisible,
bad input explained with the field it names, secrets never returned in full."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from .conftest import WebApp, bearer, require_web
from .test_loop_service import T0, LoopProject, make_loop_project

require_web()

SLUG = "loopapi"
BASE = f"/api/projects/{SLUG}/loop"


@pytest.fixture(scope="module")
def la(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> LoopProject:
    return make_loop_project(app, tmp_path_factory.mktemp("loopapi") / "ws", SLUG, ("una",))


@pytest.fixture(scope="module")
def other(app: WebApp, tmp_path_factory: pytest.TempPathFactory) -> LoopProject:
    """Another project, whose channels and teams the first one's callers must not reach."""
    return make_loop_project(app, tmp_path_factory.mktemp("loopapi2") / "ws", "loopapi2")


@pytest.fixture(scope="module")
def keys(la: LoopProject) -> dict[str, str]:
    from cxlens.web.models import ApiKey

    return {"read": ApiKey.issue(la.project, "settings reader", ("read",)).secret,
            "ingest": ApiKey.issue(la.project, "settings writer", ("ingest", "read")).secret}


def call(client: Any, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    send = getattr(client, method.lower())
    headers = bearer(key) if key else {}
    if body is None:
        return send(BASE + path, headers=headers)
    return send(BASE + path, json.dumps(body), content_type="application/json", headers=headers)


def error(response: Any) -> dict[str, Any]:
    assert set(response.json()) == {"error"}, response.content
    return response.json()["error"]


# ---------------------------------------------------------------------------------- channels


def test_channel_operations_need_admin_to_write_and_read_to_read(app: WebApp, la: LoopProject,
                                                                 keys: dict[str, str]) -> None:
    body = {"name": "roles hook", "kind": "webhook", "url": "https://hooks.example.com/in"}
    for who in ("vic", "ana"):
        refused = call(la.client(who), "POST", "/channels", body)
        assert refused.status_code == 403 and error(refused)["code"] == "forbidden", who
    for scope in ("read", "ingest"):  # keys never manage
        assert call(app.client(), "POST", "/channels", body, keys[scope]).status_code == 403
    made = call(la.client("ada"), "POST", "/channels", body)
    assert made.status_code == 201, made.content
    cid = made.json()["id"]
    for who in ("vic", "ana", "ada"):
        assert call(la.client(who), "GET", "/channels").status_code == 200
        assert call(la.client(who), "GET", f"/channels/{cid}").status_code == 200
    assert call(app.client(), "GET", f"/channels/{cid}", key=keys["read"]).status_code == 200
    assert call(app.client(), "GET", "/channels").status_code == 401
    for method, path, payload in (("PATCH", f"/channels/{cid}", {"active": False}),
                                  ("POST", f"/channels/{cid}/test", None), ("DELETE", f"/channels/{cid}", None)):
        assert call(la.client("vic"), method, path, payload).status_code == 403, (method, path)
        assert call(la.client("ana"), method, path, payload).status_code == 403, (method, path)
        assert call(app.client(), method, path, payload, keys["ingest"]).status_code == 403, (method, path)
    assert call(la.client("ada"), "DELETE", f"/channels/{cid}").status_code == 204
    gone = call(la.client("ada"), "GET", f"/channels/{cid}")
    assert gone.status_code == 404 and error(gone)["field"] == "channel_id"


def test_secrets_are_never_returned_in_full(la: LoopProject) -> None:
    from cxlens.web.loop.models import Channel

    admin = la.client("ada")
    made = call(admin, "POST", "/channels", {"name": "signed", "kind": "webhook",
                                             "url": "https://bob:hunter2@hooks.example.com/in?token=t0ps3cret"})
    assert made.status_code == 201
    created = made.json()
    secret = Channel.objects.get(pk=created["id"]).secret
    # the secret is made here and shown in this answer only
    assert created["signing_secret"] == secret and secret.startswith("whsec_")
    assert created["secret"] == {"set": True, "last4": secret[-4:]}
    assert created["url"] == "https://hooks.example.com/…/in?…"  # the path may hold a token: its last 4 only
    discord = call(admin, "POST", "/channels", {"name": "discord", "kind": "webhook",
                                                "url": "https://discord.com/api/webhooks/123/Sup3rS3cretT0ken"})
    assert discord.status_code == 201 and discord.json()["url"] == "https://discord.com/…0ken"
    assert "Sup3rS3cret" not in call(admin, "GET", "/channels").content.decode()
    slack = call(admin, "POST", "/channels", {"name": "chat", "kind": "slack",
                                              "url": "https://hooks.slack.com/services/T0AAA/B0BBB/XyZsecretToken9"})
    assert slack.status_code == 201 and slack.json()["signing_secret"] is None
    assert slack.json()["url"] == "https://hooks.slack.com/…ken9" and slack.json()["secret"] is None
    listed = call(admin, "GET", "/channels").content.decode()
    one = call(admin, "GET", f"/channels/{created['id']}").content.decode()
    page = admin.get(f"/p/{SLUG}/loop/channels/").content.decode()
    for text in (listed, one, page):
        for hidden in (secret, "t0ps3cret", "hunter2", "XyZsecretToken9", "T0AAA"):
            assert hidden not in text, hidden
    assert json.loads(one)["secret"] == {"set": True, "last4": secret[-4:]}
    # a new secret on request, shown once; the old one stops working
    rotated = call(admin, "PATCH", f"/channels/{created['id']}", {"rotate_secret": True})
    assert rotated.status_code == 200
    new = rotated.json()["signing_secret"]
    assert new != secret and new == Channel.objects.get(pk=created["id"]).secret
    assert "signing_secret" not in call(admin, "GET", f"/channels/{created['id']}").json()
    refused = call(admin, "PATCH", f"/channels/{slack.json()['id']}", {"rotate_secret": True})
    assert refused.status_code == 400 and error(refused)["field"] == "rotate_secret"
    for c in (created["id"], slack.json()["id"]):
        assert call(admin, "DELETE", f"/channels/{c}").status_code == 204


def test_channel_create_and_patch_change_what_is_given(la: LoopProject) -> None:
    admin = la.client("ada")
    made = call(admin, "POST", "/channels", {"name": "ops mail", "kind": "email",
                                             "emails": "ops@example.com; lead@example.com",
                                             "events": ["case.opened", "case.escalated"]})
    assert made.status_code == 201, made.content
    got = made.json()
    assert (got["kind"], got["emails"], got["events"], got["active"], got["url"], got["secret"]) == (
        "email", ["ops@example.com", "lead@example.com"], ["case.opened", "case.escalated"], True, None, None)
    changed = call(admin, "PATCH", f"/channels/{got['id']}", {"events": [], "active": False, "name": "ops"})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["events"], changed.json()["active"]) == ("ops", [], False)
    assert changed.json()["emails"] == ["ops@example.com", "lead@example.com"]  # not given: unchanged
    same_kind = call(admin, "PATCH", f"/channels/{got['id']}", {"kind": "email", "emails": ["new@example.com"]})
    assert same_kind.status_code == 200 and same_kind.json()["emails"] == ["new@example.com"]
    assert call(admin, "DELETE", f"/channels/{got['id']}").status_code == 204


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": "x", "kind": "pigeon"}, "kind", "The 'kind' must be one of webhook, email, slack. Got 'pigeon' instead."),
    ({"name": "x", "kind": "webhook", "url": "ftp://files.example.com"}, "url",
     "A webhook channel needs a 'url' starting with http:// or https:// and naming a host. Got 'ftp://files."),
    ({"name": "x", "kind": "webhook", "url": "https://"}, "url", "naming a host"),
    ({"name": "x", "kind": "email", "emails": ["ops@example.com", "not-an-address"]}, "emails",
     "Got 'not-an-address' instead."),
    ({"name": "x", "kind": "email"}, "emails", "needs one or more addresses in 'emails'"),
    ({"name": "x", "kind": "slack", "url": "https://hooks.example.com/x", "events": ["case.exploded"]}, "events",
     "The 'events' must be among case.opened, case.assigned"),
    ({"name": "  ", "kind": "slack", "url": "https://hooks.example.com/x"}, "name", "'name' must not be empty"),
    ({"name": "a\nb", "kind": "slack", "url": "https://hooks.example.com/x"}, "name",
     "The 'name' must be printable text without line breaks or control characters. Got '\\n' at position 2."),
    ({"name": "x", "kind": "webhook", "url": "https://a.example.com/", "emails": ["ops@example.com"]}, "emails",
     "A webhook channel has no 'emails': it sends to its 'url'."),
    ({"name": "x", "kind": "slack", "url": "hooks.slack.com/services/T0/B0/s3cr3tToken"}, "url",
     "Got 'hooks.slack.…' instead."),
])
def test_bad_channels_are_refused_with_the_field(la: LoopProject, body: dict[str, Any], field: str,
                                                 message: str) -> None:
    from cxlens.web.loop.models import Channel

    before = Channel.objects.filter(project=la.project).count()
    refused = call(la.client("ada"), "POST", "/channels", body)
    assert refused.status_code == 400, refused.content
    assert (error(refused)["code"], error(refused)["field"]) == ("invalid_input", field)
    assert message in error(refused)["message"]
    assert Channel.objects.filter(project=la.project).count() == before


def test_channel_patch_refuses_what_does_not_fit_the_kind(la: LoopProject) -> None:
    admin = la.client("ada")
    made = call(admin, "POST", "/channels", {"name": "kinds", "kind": "webhook", "url": "https://a.example.com/"})
    cid = made.json()["id"]
    call(admin, "POST", "/channels", {"name": "taken", "kind": "webhook", "url": "https://b.example.com/"})
    for body, field, message in (
            ({"kind": "email"}, "kind", "The 'kind' of a channel cannot change (this one is a webhook channel)"),
            ({"emails": ["a@example.com"]}, "emails", "A webhook channel has no 'emails': it sends to its 'url'."),
            ({"name": "taken"}, "name", "A channel named 'taken' exists already; choose another 'name'."),
            ({"url": "mailto:x@example.com"}, "url", "needs a 'url' starting with http://")):
        refused = call(admin, "PATCH", f"/channels/{cid}", body)
        assert refused.status_code == 400 and error(refused)["field"] == field, body
        assert message in error(refused)["message"]
    invalid = call(admin, "PATCH", f"/channels/{cid}", {"active": "maybe"})
    assert invalid.status_code == 422 and error(invalid)["field"] == "active"
    assert call(admin, "GET", f"/channels/{cid}").json()["url"] == "https://a.example.com/"  # nothing changed


def test_another_projects_channels_and_teams_are_invisible(app: WebApp, la: LoopProject, other: LoopProject,
                                                          keys: dict[str, str]) -> None:
    from cxlens.web.loop import service

    channel, _ = service.create_channel(other.project, {"name": "theirs", "kind": "webhook",
                                                        "url": "https://theirs.example.com/"})
    team = service.create_team(other.project, {"name": "their team", "members": ["loopapi2-ana"]})
    admin = la.client("ada")
    for method, path, body in (("GET", f"/channels/{channel.pk}", None),
                               ("PATCH", f"/channels/{channel.pk}", {"name": "mine now"}),
                               ("POST", f"/channels/{channel.pk}/test", None),
                               ("DELETE", f"/channels/{channel.pk}", None),
                               ("PATCH", f"/teams/{team.pk}", {"name": "mine now"}),
                               ("DELETE", f"/teams/{team.pk}", None)):
        found = call(admin, method, path, body)
        assert found.status_code == 404 and error(found)["code"] == "not_found", (method, path)
    assert "theirs" not in call(admin, "GET", "/channels").content.decode()
    assert "their team" not in call(admin, "GET", "/teams").content.decode()
    channel.refresh_from_db()
    assert channel.name == "theirs" and team.name == "their team"
    # and the other project's own path is not this admin's (nor this project's key's)
    assert admin.get("/api/projects/loopapi2/loop/channels").status_code == 404
    assert app.client().get("/api/projects/loopapi2/loop/teams", headers=bearer(keys["read"])).status_code == 404
    # ids the database cannot hold are simply not found
    for ref in (str(2**70), "0"):
        assert call(admin, "GET", f"/channels/{ref}").status_code == 404


def test_send_a_test_event_to_a_webhook(la: LoopProject, http_receiver: Any) -> None:
    from cxlens.web.loop import notify
    from cxlens.web.loop.models import Delivery

    admin = la.client("ada")
    made = call(admin, "POST", "/channels", {"name": "test me", "kind": "webhook", "url": http_receiver.url + "/t",
                                             "events": ["case.closed"], "active": False})
    secret, cid = made.json()["signing_secret"], made.json()["id"]
    sent = call(admin, "POST", f"/channels/{cid}/test")
    assert sent.status_code == 200, sent.content
    got = sent.json()
    assert (got["event"], got["status"], got["response_code"], got["attempts"], got["channel"]) == (
        "channel.test", "delivered", 200, 1, "test me")
    [request] = http_receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-cxlens-event"] == "channel.test"
    assert notify.verify(secret, headers["x-cxlens-timestamp"], request["body"], headers["x-cxlens-signature"])
    assert json.loads(request["body"])["channel"] == "test me"
    http_receiver.down = True
    failed = call(admin, "POST", f"/channels/{cid}/test").json()
    assert (failed["status"], failed["response_code"], failed["last_error"]) == ("failed", 503,
                                                                                 "HTTP 503 Service Unavailable")
    assert failed["next_attempt_at"] is None  # a test is not retried by itself
    assert Delivery.objects.get(pk=failed["id"]).status == "failed"
    log = call(admin, "GET", "/deliveries?status=failed").json()
    assert failed["id"] in [d["id"] for d in log]
    assert call(admin, "DELETE", f"/channels/{cid}").status_code == 204


def test_send_a_test_email(la: LoopProject, smtp_server: Any) -> None:
    from django.test import override_settings

    admin = la.client("ada")
    cid = call(admin, "POST", "/channels", {"name": "test mail", "kind": "email",
                                            "emails": ["desk@example.com"]}).json()["id"]
    with override_settings(**smtp_server.settings()):
        sent = call(admin, "POST", f"/channels/{cid}/test")
    assert sent.status_code == 200 and sent.json()["status"] == "delivered"
    [message] = smtp_server.to("desk@example.com")
    assert message["Subject"] == "[Loop loopapi] Test of the notification channel test mail"
    with override_settings(**smtp_server.settings()):  # the page's "Send test" button does the same
        page = admin.post(f"/p/{SLUG}/loop/channels/", {"action": "test_channel", "channel": cid})
    assert page.status_code == 200
    assert "Test message delivered to test mail (desk@example.com)." in page.content.decode()
    assert len(smtp_server.to("desk@example.com")) == 2
    assert call(admin, "DELETE", f"/channels/{cid}").status_code == 204


# ------------------------------------------------------------------------------------- teams


def test_teams_crud_and_round_robin_state(app: WebApp, la: LoopProject, keys: dict[str, str]) -> None:
    from cxlens.web.loop import service

    admin = la.client("ada")
    body = {"name": "care", "members": ["loopapi-una", "loopapi-ana"]}
    assert call(la.client("ana"), "POST", "/teams", body).status_code == 403
    assert call(app.client(), "POST", "/teams", body, keys["ingest"]).status_code == 403
    made = call(admin, "POST", "/teams", body)
    assert made.status_code == 201, made.content
    team = made.json()
    # members in round-robin order (by user id: ana was made before una)
    assert (team["name"], team["members"], team["next_member"]) == ("care", ["loopapi-ana", "loopapi-una"],
                                                                    "loopapi-ana")
    assert call(la.client("vic"), "GET", "/teams").json() == [team]
    assert call(app.client(), "GET", "/teams", key=keys["read"]).status_code == 200
    case, _ = service.open_case(la.project, customer_id="L1", reason="team api", now=T0,
                                team=service.get_team(la.project, team["id"]))
    assert case.owner.username == "loopapi-ana"
    assert call(admin, "GET", "/teams").json()[0]["next_member"] == "loopapi-una"
    moved = call(admin, "PATCH", f"/teams/{team['id']}", {"next_member": "loopapi-ana"})
    assert moved.status_code == 200 and moved.json()["next_member"] == "loopapi-ana"
    renamed = call(admin, "PATCH", f"/teams/{team['id']}", {"name": "customer care", "members": ["loopapi-una"]})
    assert (renamed.json()["name"], renamed.json()["members"]) == ("customer care", ["loopapi-una"])
    assert renamed.json()["next_member"] == "loopapi-una"
    assert call(la.client("ana"), "DELETE", f"/teams/{team['id']}").status_code == 403
    assert call(admin, "DELETE", f"/teams/{team['id']}").status_code == 204
    case.refresh_from_db()
    assert case.team is None and case.owner.username == "loopapi-ana"  # the case stays, without its team
    assert call(admin, "PATCH", f"/teams/{team['id']}", {"name": "x"}).status_code == 404


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"name": "bad", "members": ["ghost"]}, "members", "The team 'members' must be usernames. There is no user "
                                                        "'ghost'."),
    ({"name": "bad", "members": ["loopapi-vic"]}, "members", "'loopapi-vic' cannot join a team: team members "
                                                             "must be active analysts or admins"),
    ({"name": "bad", "members": ["loopapi-ana"], "next_member": "loopapi-ada"}, "next_member",
     "The 'next_member' must be one of the team's members who can take cases (loopapi-ana). Got 'loopapi-ada'"),
    ({"name": ""}, "name", "The team's 'name' must not be empty."),
])
def test_bad_teams_are_refused_with_the_field(la: LoopProject, body: dict[str, Any], field: str,
                                              message: str) -> None:
    from cxlens.web.loop.models import Team

    refused = call(la.client("ada"), "POST", "/teams", body)
    assert refused.status_code == 400, refused.content
    assert error(refused)["field"] == field and message in error(refused)["message"]
    assert not Team.objects.filter(project=la.project, name="bad").exists()  # nothing half-made


def test_team_names_are_unique(la: LoopProject) -> None:
    admin = la.client("ada")
    first = call(admin, "POST", "/teams", {"name": "night shift"})
    assert first.status_code == 201 and first.json()["next_member"] is None  # nobody to take a case
    again = call(admin, "POST", "/teams", {"name": "night shift"})
    assert again.status_code == 400 and "A team named 'night shift' exists already" in error(again)["message"]
    assert call(admin, "DELETE", f"/teams/{first.json()['id']}").status_code == 204


# ------------------------------------------------------------------------------ SLA settings


def test_settings_read_by_viewers_changed_by_admins(app: WebApp, la: LoopProject, keys: dict[str, str]) -> None:
    from cxlens.web.loop import service

    shown = call(la.client("vic"), "GET", "/settings")
    assert shown.status_code == 200
    assert shown.json() == {"timezone": "UTC", "business_hours": True, "days": ["mon", "tue", "wed", "thu", "fri"],
                            "opens": "09:00", "closes": "17:00", "holidays": [],
                            "targets": {"low": {"acknowledge": 16, "resolve": 80},
                                        "normal": {"acknowledge": 8, "resolve": 40},
                                        "high": {"acknowledge": 4, "resolve": 24},
                                        "urgent": {"acknowledge": 1, "resolve": 8}},
                            "high_value": None, "followup_survey": None}
    assert call(app.client(), "GET", "/settings", key=keys["read"]).json() == shown.json()
    change = {"timezone": "Europe/Berlin"}
    assert call(la.client("vic"), "PATCH", "/settings", change).status_code == 403
    assert call(la.client("ana"), "PATCH", "/settings", change).status_code == 403
    assert call(app.client(), "PATCH", "/settings", change, keys["ingest"]).status_code == 403
    try:
        done = call(la.client("ada"), "PATCH", "/settings", {
            "timezone": "Europe/Berlin", "days": "mon-thu", "opens": "08:00", "closes": "16:30",
            "holidays": ["2026-12-25", "2026-12-24"], "targets": {"urgent": {"acknowledge": 2}}, "high_value": 500})
        assert done.status_code == 200, done.content
        got = done.json()
        # the calendar in its canonical form; the urgent resolve target was not given and stays
        assert (got["days"], got["opens"], got["closes"], got["holidays"]) == (
            ["mon", "tue", "wed", "thu"], "08:00", "16:30", ["2026-12-24", "2026-12-25"])
        assert got["targets"]["urgent"] == {"acknowledge": 2, "resolve": 8} and got["high_value"] == 500
        assert call(la.client("vic"), "GET", "/settings").json() == got
        # a case opened now follows them: Thursday 2026-11-26 15:00 CET + 2 business hours (08:00-16:30,
        # Monday to Thursday) = 1.5 h on Thursday, then 0.5 h from Monday 08:00 -> Monday 08:30 CET
        opened = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
        case, _ = service.open_case(la.project, customer_id="L2", reason="sla api", now=opened, priority="urgent")
        assert case.ack_due_at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
        off = call(la.client("ada"), "PATCH", "/settings", {"business_hours": False, "high_value": None})
        assert (off.json()["business_hours"], off.json()["high_value"], off.json()["timezone"]) == (
            False, None, "Europe/Berlin")
    finally:
        service.update_sla_settings(la.project, {"timezone": "UTC", "days": "mon-fri", "opens": "09:00",
                                                 "closes": "17:00", "holidays": [], "business_hours": True,
                                                 "targets": {"urgent": {"acknowledge": 1, "resolve": 8}},
                                                 "high_value": None})


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"timezone": "Mars/Olympus"}, "timezone", "Got 'Mars/Olympus' instead."),
    ({"days": ["mon", "someday"]}, "days", "Calendar 'days[1]' must be a weekday name (mon … sun)"),
    ({"days": []}, "days", "must be a non-empty set of weekdays"),
    ({"opens": "25:00"}, "opens", "Calendar 'opens' must be a local time such as '09:00'"),
    ({"opens": "09:00:30"}, "opens", "The 'opens' time must be hours and minutes such as '09:00'."),
    ({"opens": "18:00"}, "closes", "Calendar 'closes' must be after 'opens'"),
    ({"holidays": ["2026-02-30"]}, "holidays", "Calendar 'holidays[0]' must be a date such as '2026-12-25'."),
    ({"targets": {"asap": {"acknowledge": 1}}}, "targets.asap", "Unknown priority 'asap' in the SLA 'targets'. "
                                                                "The priorities are: low, normal, high, urgent."),
    ({"targets": {"high": {"acknowledge": 0}}}, "targets.high.acknowledge",
     "The SLA target 'high.acknowledge' must be more than 0 hours. Got 0 instead."),
    ({"targets": {"low": {"resolve": 1e9}}}, "targets.low.resolve",
     "would take more than 5 years of this calendar's 40 business hours a week. Give at most 10400 hours"),
    ({"high_value": -5}, "high_value", "The 'high_value' must be a number of 0 or more"),
    ({"followup_survey": "no-such-survey"}, "followup_survey", "There is no survey 'no-such-survey' in this project"),
])
def test_bad_settings_are_refused_with_the_field_and_nothing_changes(la: LoopProject, body: dict[str, Any],
                                                                     field: str, message: str) -> None:
    before = call(la.client("ada"), "GET", "/settings").json()
    refused = call(la.client("ada"), "PATCH", "/settings", {**body, "timezone": body.get("timezone", "Asia/Tokyo")})
    assert refused.status_code == 400, refused.content
    assert (error(refused)["code"], error(refused)["field"]) == ("invalid_input", field)
    assert message in error(refused)["message"]
    assert call(la.client("ada"), "GET", "/settings").json() == before  # the valid part was not saved either


def test_settings_document_their_operations(app: WebApp) -> None:
    """Every settings operation is in the OpenAPI document with its body, its answer and its errors."""
    spec = app.client().get("/api/openapi.json").json()
    paths = spec["paths"]
    expected = {"/api/projects/{project}/loop/channels": {"get": "200", "post": "201"},
                "/api/projects/{project}/loop/channels/{channel_id}": {"get": "200", "patch": "200", "delete": "204"},
                "/api/projects/{project}/loop/channels/{channel_id}/test": {"post": "200"},
                "/api/projects/{project}/loop/teams": {"get": "200", "post": "201"},
                "/api/projects/{project}/loop/teams/{team_id}": {"patch": "200", "delete": "204"},
                "/api/projects/{project}/loop/settings": {"get": "200", "patch": "200"}}
    for path, operations in expected.items():
        for method, ok in operations.items():
            responses = paths[path][method]["responses"]
            assert {ok, "400", "403", "404"} <= set(responses), (path, method)
            if method in ("post", "patch") and not path.endswith("/test"):
                schema = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
                assert "properties" in schema and "$defs" not in json.dumps(schema), (path, method)
