"""Settings of the web app: defaults, environment variables, the stored secret key, and Django
staying out of processes that do not serve."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cxlens.errors import CxlensInputError, MissingDependencyError
from cxlens.web.config import allowed_hosts, database_settings, load_config

from .conftest import require_web

require_web()


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = load_config(tmp_path, env={})
    second = load_config(tmp_path, env={})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 50
    key_file = tmp_path / "app" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config(tmp_path, env={"CXLENS_SECRET_KEY": "from-the-environment"}).secret_key == "from-the-environment"


def test_the_workspace_setting_names_the_app_database(tmp_path: Path) -> None:
    import cxlens

    cxlens.init(tmp_path / "ws", {"app_database_url": "sqlite:///app/team.sqlite3"}).close()
    config = load_config(tmp_path / "ws", env={})
    assert config.database["NAME"] == str((tmp_path / "ws" / "app" / "team.sqlite3").resolve())
    override = load_config(tmp_path / "ws", env={"CXLENS_DATABASE_URL": "sqlite:////tmp/elsewhere.db"})
    assert override.database["NAME"] == "/tmp/elsewhere.db"
    with pytest.raises(CxlensInputError, match="app_database_url"):
        load_config(tmp_path / "ws", env={"CXLENS_DATABASE_URL": "mysql://db/cx"})


def test_defaults_for_local_and_public_hosts(tmp_path: Path) -> None:
    local = load_config(tmp_path, host="127.0.0.1", env={})
    assert local.secure_cookies is False
    assert set(local.allowed_hosts) == {"localhost", "127.0.0.1", "[::1]"}
    public = load_config(tmp_path, host="10.1.2.3", env={})
    assert public.secure_cookies is True and "10.1.2.3" in public.allowed_hosts
    assert allowed_hosts("cx.example.com, cx2.example.com", "0.0.0.0") == ("cx.example.com", "cx2.example.com")
    assert load_config(tmp_path, env={"CXLENS_LOGIN_ATTEMPTS": "7"}).login_attempts == 7


def test_the_collectors_address(tmp_path: Path) -> None:
    assert load_config(tmp_path, env={}).collect_url is None
    assert load_config(tmp_path, env={"CXLENS_COLLECT_URL": "https://collect.example.com/"}).collect_url == \
        "https://collect.example.com"


def test_database_urls(tmp_path: Path) -> None:
    default = database_settings(None, tmp_path)
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"] == str(tmp_path / "app" / "cxlens.sqlite3")
    # As in SQLAlchemy and dj-database-url: four slashes for an absolute path, three for a relative one.
    assert database_settings("sqlite:////srv/cx/app.db", tmp_path)["NAME"] == "/srv/cx/app.db"
    assert database_settings("sqlite:///app/x.db", tmp_path)["NAME"] == str(tmp_path / "app" / "x.db")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"pip install 'psycopg\[binary\]'"):
            database_settings("postgresql://cx:secret@db:5432/cxlens", tmp_path)
    else:
        pg = database_settings("postgresql://cx:s%40cret@db:5432/cxlens", tmp_path)
        assert (pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == ("cxlens", "cx", "s@cret", "db",
                                                                                      "5432")
    with pytest.raises(CxlensInputError, match="sqlite:// or postgresql://"):
        database_settings("mysql://x", tmp_path)


@pytest.mark.parametrize(("name", "value", "allowed"), [
    ("CXLENS_SECURE_COOKIES", "maybe", "true or false"),
    ("CXLENS_LOGIN_ATTEMPTS", "0", "positive whole number"),
    ("CXLENS_LOCKOUT_MINUTES", "ten", "positive whole number"),
    ("CXLENS_COLLECT_URL", "collect.example.com", "an http\\(s\\) address"),
    ("CXLENS_COLLECT_URL", "https://cx.example.com/collect", "an address without a path"),
])
def test_bad_values_name_the_setting(tmp_path: Path, name: str, value: str, allowed: str) -> None:
    with pytest.raises(CxlensInputError, match=f"{name} must be .*{allowed}.*'{value}'"):
        load_config(tmp_path, env={name: value})


def test_importing_the_web_package_does_not_configure_django() -> None:
    code = ("import cxlens, cxlens.web, cxlens.web.cli, cxlens.web.client, cxlens.web.config, cxlens.web.roles; "
            "from django.conf import settings; print(settings.configured)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
