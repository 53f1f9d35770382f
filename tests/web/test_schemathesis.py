"""Property-based tests of the REST API from its own OpenAPI document (schemathesis).

Schemathesis reads ``/api/openapi.json`` of a real ``cxlens serve`` process and, for every operation,
sends a bounded number of generated requests (valid and invalid parameters and bodies) and checks
every answer: no server error (5xx), a status code the document lists for the operation, the
documented content type, and a body that matches the documented schema (the one error shape for 4xx).

It runs twice over every operation: with an API key (scopes ingest and read) and as a logged-in admin
(browser session with the CSRF token). The server serves a workspace of its own, so the rows, rules and
cases the generated requests create never reach the other web tests.

More examples per operation: ``CXLENS_SCHEMATHESIS_EXAMPLES=200 pytest tests/web/test_schemathesis.py``.

Why a real server: the requests go through waitress, every middleware and the server's background jobs
(alert rules act on the generated rows), as in production, and Django stays configured once per test
process. Why Hypothesis drives ``operation.as_strategy()`` here instead of ``schema.parametrize()``: the
schema exists only once the server runs, and schemathesis's fixture-based loader
(``schemathesis.pytest.from_fixture``) does not work with pytest 9.2 (it renames ``request.node._nodeid``);
pytest's own subtests report each operation instead.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .conftest import PASSWORD, Served, make_demo, require_web, running_server

require_web()
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install 'cxlens[dev]')")
requests = pytest.importorskip("requests", reason="requests is not installed (pip install 'cxlens[dev]')")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402 - only once schemathesis is known to be there
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("CXLENS_SCHEMATHESIS_EXAMPLES", "15"))
PROJECT = "main"

# The checks that hold for every answer. Not run: negative_data_rejection / positive_data_acceptance
# (the core refuses some values the schema allows, e.g. an unknown column in 'by', with a documented
# 400, and accepts some the generator calls invalid, e.g. extra JSON keys), the stateful checks
# (use_after_free, ensure_resource_availability: no links in the document) and ignored_auth (the
# anonymous refusal of every operation is pinned by tests/web/test_api.py).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# ------------------------------------------------------------------------ a server of its own


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = make_demo(tmp_path_factory.mktemp("schemathesis") / "ws", seed=13)
    # The rate limit would answer 429 after 600 requests a minute; it has tests of its own.
    env = {**os.environ, "CXLENS_SECURE_COOKIES": "false", "CXLENS_API_RATE": "off"}
    env.pop("CXLENS_DATABASE_URL", None)
    with running_server(root, env) as server:
        yield server


def admin_session(server: Served) -> requests.Session:
    """A browser session logged in as the admin 'sam', sending the CSRF token on every request."""
    session = requests.Session()
    page = session.get(server.url + "/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    done = session.post(server.url + "/login/", data={"csrfmiddlewaretoken": token.group(1), "username": "sam",
                                                      "password": PASSWORD},
                        headers={"Referer": server.url + "/login/"}, timeout=60)
    assert done.ok and "sessionid" in session.cookies, done.text[:500]
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def load_schema(server: Served) -> Any:
    # No generated 'Authorization' header or 'sessionid' cookie: each test sends its own credentials.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    return schemathesis.openapi.from_url(server.url + "/api/openapi.json", config=config,
                                         headers={"Authorization": f"Bearer {server.key}"}, timeout=60)


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) > 20, [op.label for op in found]
    return found


def known_values() -> dict[str, list[str]]:
    """Path values that exist in the demo workspace: with generated ones only, these operations answer 404."""
    from cxlens.metrics import metric_names

    return {"metric": list(metric_names()), "customer_id": ["C0000001", "C0000042"], "journey": ["default"]}


def requests_of(operation: Any, path: dict[str, str]) -> list[Any]:
    return [operation.as_strategy(mode, path_parameters=path or None)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]


def strategy(operation: Any) -> Any:
    """Valid and invalid requests of one operation, always in the server's project (elsewhere: 404); where
    the path names a metric, customer or journey, half of the requests name one that exists."""
    fixed = {"project": PROJECT} if "{project}" in operation.path else {}
    generated = st.one_of(*requests_of(operation, fixed))
    known = {name: values for name, values in known_values().items() if f"{{{name}}}" in operation.path}
    if not known:
        return generated
    existing = [s for combo in itertools.product(*known.values())
                for s in requests_of(operation, {**fixed, **dict(zip(known, combo, strict=True))})]
    return st.one_of(generated, st.one_of(*existing))


def check_operation(server: Served, operation: Any, call: Callable[[Any], Any]) -> None:
    """EXAMPLES generated requests of OPERATION, each answer checked. Derandomized: the same requests in every
    run. No shrinking: the first failure is reported with its request, so that the run stays bounded."""

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy(operation))
    def run(case: Any) -> None:
        call(case)

    try:
        run()
    except Exception as exc:
        exc.add_note(f"The server's log (tracebacks of 5xx answers): {server.root / 'server.log'}")
        raise


@pytest.fixture(scope="module")
def api_schema(api_server: Served) -> Any:
    return load_schema(api_server)


def test_api_with_a_key(api_server: Served, api_schema: Any, subtests: Any) -> None:
    headers = {"Authorization": f"Bearer {api_server.key}"}

    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=120)

    for operation in operations(api_schema):
        with subtests.test(msg=operation.label):
            check_operation(api_server, operation, call)


def test_api_with_an_admin_session(api_server: Served, api_schema: Any, subtests: Any) -> None:
    session = admin_session(api_server)

    def call(case: Any) -> None:
        case.call_and_validate(session=session, checks=CHECKS, timeout=120)

    for operation in operations(api_schema):
        with subtests.test(msg=operation.label):
            check_operation(api_server, operation, call)
