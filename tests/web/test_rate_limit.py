"""The API's rate limit: token buckets per key (or user) and per client address, 429 in the one error shape."""

from __future__ import annotations

import pytest

from cxlens.errors import CxlensInputError

from .conftest import WebApp, bearer, require_web

require_web()


def new_key(app: WebApp, name: str) -> str:
    from cxlens.web.models import ApiKey

    return ApiKey.issue(app.projects["main"], name, ("read",)).secret


def call(app: WebApp, key: str, address: str) -> object:
    return app.client(REMOTE_ADDR=address).get("/api/projects/main/status", headers=bearer(key))


def test_the_default_is_generous_and_configurable(app: WebApp) -> None:
    from django.conf import settings

    from cxlens.web.config import api_rate

    assert settings.CXLENS_API_RATE == (600, 60)
    assert api_rate(None) == api_rate("") == (600, 60)
    assert api_rate("20/s") == (20, 1)
    assert api_rate("5000/hour") == (5000, 3600)
    assert api_rate("off") is None
    for bad in ("fast", "0/min", "10/fortnight", "-3/s"):
        with pytest.raises(CxlensInputError, match="CXLENS_API_RATE must look like 600/min"):
            api_rate(bad)


def test_load_config_reads_the_rate(tmp_path: object) -> None:
    from pathlib import Path

    from cxlens.web.config import load_config

    root = Path(str(tmp_path))
    assert load_config(root, env={"CXLENS_API_RATE": "100/min", "CXLENS_SECRET_KEY": "k" * 50}).api_rate == (100, 60)


def test_a_key_over_its_rate_gets_429_with_retry_after(app: WebApp) -> None:
    from django.test import override_settings

    key = new_key(app, "rate one")
    with override_settings(CXLENS_API_RATE=(3, 60)):
        assert [call(app, key, "10.77.0.1").status_code for _ in range(3)] == [200, 200, 200]
        r = call(app, key, "10.77.0.1")
        assert r.status_code == 429
        body = r.json()
        assert set(body) == {"error"} and body["error"]["code"] == "rate_limited"
        assert "3 requests per 60 seconds" in body["error"]["message"]
        wait = int(r["Retry-After"])
        assert 1 <= wait <= 20  # one token comes back every 60 / 3 seconds
        assert body["error"]["details"] == {"retry_after": wait}
        # The key's bucket is empty from any address; another key from elsewhere is not limited.
        assert call(app, key, "10.77.0.2").status_code == 429
        assert call(app, new_key(app, "rate two"), "10.77.0.3").status_code == 200


def test_an_address_over_its_rate_gets_429_whatever_the_key(app: WebApp) -> None:
    from django.test import override_settings

    with override_settings(CXLENS_API_RATE=(2, 60)):
        assert call(app, new_key(app, "rate a"), "10.78.0.1").status_code == 200
        assert call(app, new_key(app, "rate b"), "10.78.0.1").status_code == 200
        assert call(app, new_key(app, "rate c"), "10.78.0.1").status_code == 429
        assert call(app, new_key(app, "rate d"), "10.78.0.9").status_code == 200


def test_sessions_are_limited_per_user(app: WebApp) -> None:
    from django.test import override_settings

    with override_settings(CXLENS_API_RATE=(2, 60)):
        statuses = [app.client("ana", REMOTE_ADDR=f"10.79.0.{i}").get("/api/projects").status_code for i in range(3)]
    assert statuses == [200, 200, 429]


def test_off_means_no_limit(app: WebApp) -> None:
    from django.test import override_settings

    key = new_key(app, "rate off")
    with override_settings(CXLENS_API_RATE=None):
        assert {call(app, key, "10.80.0.1").status_code for _ in range(5)} == {200}


def test_buckets_refill_at_the_rate(app: WebApp) -> None:
    from cxlens.web.api import RateLimit

    assert RateLimit._refilled(None, 600, 60, 100.0) == 600
    assert RateLimit._refilled((0.0, 100.0), 600, 60, 106.0) == pytest.approx(60.0)  # 10 per second
    assert RateLimit._refilled((599.5, 100.0), 600, 60, 160.0) == 600  # never above the capacity
    assert RateLimit._refilled((5.0, 100.0), 600, 60, 90.0) == 5.0  # a clock going back adds nothing
