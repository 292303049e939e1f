"""The `idp` command, run as a person runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def idp(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "idp.cli", *args], input=stdin, env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )

    run.instance = tmp_path / "instance"  # type: ignore[attr-defined]
    return run


def test_init_writes_fresh_secrets_and_creates_the_database(idp):
    result = idp("init")
    assert result.returncode == 0, result.stderr
    config = (idp.instance / "idp.toml").read_text()
    assert "secret_key" in config
    assert (idp.instance / "idp.toml").stat().st_mode & 0o077 == 0
    assert (idp.instance / "idp.sqlite3").exists()
    assert idp("init").returncode == 0  # idempotent: keeps its secrets
    assert (idp.instance / "idp.toml").read_text() == config


def test_users_and_organisations(idp):
    idp("init")
    created = idp("user", "create", "Ada@Example.com", "--name", "Ada", "--password-stdin", stdin="long enough password\n")
    assert created.returncode == 0, created.stderr
    again = idp("user", "create", "ada@example.com", "--password-stdin", stdin="long enough password\n")
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    short = idp("user", "create", "bob@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    bad = idp("user", "create", "not-an-email", "--no-password")
    assert bad.returncode == 2 and "valid e-mail" in bad.stderr
    assert idp("org", "create", "acme", "--name", "Acme Corp").returncode == 0
    assert idp("org", "create", "Bad Slug!").returncode == 2
    added = idp("org", "add-member", "acme", "ada@example.com", "--role", "legal_representative")
    assert added.returncode == 0 and "legal_representative" in added.stdout
    assert idp("org", "add-member", "nope", "ada@example.com").returncode == 2
    listed = json.loads(idp("user", "list", "--json").stdout)
    assert listed == [{"id": 1, "email": "Ada@example.com", "name": "Ada", "status": "active", "locked": False}]
    assert idp("user", "disable", "ada@example.com").returncode == 0
    assert json.loads(idp("user", "list", "--json").stdout)[0]["status"] == "disabled"
    assert idp("user", "set-password", "ada@example.com", "--password-stdin", stdin="another long password\n").returncode == 0
    assert "was not locked" in idp("user", "unlock", "ada@example.com").stdout
    assert idp("user", "disable", "ghost@example.com").returncode == 2


def test_db_upgrade_reports_the_revision(idp):
    result = idp("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout


def test_partner_organisations_and_the_sweep(idp):
    idp("init")
    assert idp("org", "create", "reseller", "--name", "Reseller SA").returncode == 0
    marked = idp("org", "set-partner", "reseller")
    assert marked.returncode == 0 and marked.stdout.strip() == "reseller is a partner"
    assert idp("org", "set-partner", "Reseller").stdout.strip() == "reseller is a partner already"
    missing = idp("org", "set-partner", "nowhere")
    assert missing.returncode == 2 and "no organisation 'nowhere'" in missing.stderr and "Traceback" not in missing.stderr
    assert idp("partners", "list", "reseller").stdout == ""
    off = idp("org", "set-partner", "reseller", "--off")
    assert off.returncode == 0 and off.stdout.strip() == "reseller is no longer a partner; 0 partnership(s) ended"
    assert idp("org", "unset-partner", "reseller").stdout.strip() == "reseller was not a partner"
    assert idp("org", "set-partner", "reseller").returncode == 0
    assert idp("org", "unset-partner", "reseller").stdout.startswith("reseller is no longer a partner")
    swept = idp("partners", "sweep")
    assert swept.returncode == 0 and swept.stdout.strip() == "0 partnership(s) renewed, 0 expired"
    assert "set-partner" in idp("org", "--help").stdout and "sweep" in idp("partners", "--help").stdout
