"""Input the app database could not store is refused with a clear message, never a server error."""

from __future__ import annotations

import json
from pathlib import Path

import cxlens

from .conftest import WebApp, bearer, require_web, run_cli

require_web()


def test_a_nul_character_in_a_query_a_form_or_a_json_body_is_a_400_naming_the_field(app: WebApp) -> None:
    client = app.client("ada")
    page = client.get("/p/main/customers/", {"q": "C\x00"})
    assert page.status_code == 400 and "'q'" in page.content.decode() and "NUL" in page.content.decode()
    form = app.client("ada").post("/p/main/surveys/", {"title": "t\x00"})
    assert form.status_code == 400
    api = app.client().post("/api/projects/main/ingest/responses", data=json.dumps({"rows": [{"comment": "a\x00"}]}),
                            content_type="application/json", **{"HTTP_" + k.upper(): v for k, v in
                                                                 bearer(app.keys["ingest"]).items()})
    body = api.json()
    assert api.status_code == 400 and body["error"]["code"] == "invalid_input" and body["error"]["field"] == "body"


def test_clean_text_passes_the_guard(app: WebApp) -> None:
    assert app.client("ada").get("/p/main/customers/", {"q": "C-ÿ ñ"}).status_code == 200


def test_names_too_long_for_the_app_database_are_refused_by_the_command_line(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    cxlens.init(root).close()
    made = run_cli("users", "create", "u" * 200, "--password-stdin", "-w", str(root), stdin="Lens-test-password-7\n")
    assert made.returncode != 0 and "The username 'uuuu" in made.stderr and "at most 150 characters" in made.stderr
    key = run_cli("apikeys", "create", "k" * 250, "--scope", "read", "-w", str(root))
    assert key.returncode != 0 and "The name 'kkkk" in key.stderr and "at most 200 characters" in key.stderr
    assert "Traceback" not in made.stderr + key.stderr
