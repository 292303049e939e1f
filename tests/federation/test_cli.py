"""`idp sso add | list | test | disable`, run as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.federation.conftest import CONTOSO


@pytest.fixture
def idp(tmp_path: Path, tenant):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["IDP_FEDERATION_ENTRA_AUTHORITY_HOST"] = tenant.host
    env["IDP_FEDERATION_CA_BUNDLE"] = str(tenant.cert)
    env["IDP_MAIL_BACKGROUND_DELIVERY"] = "false"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "idp.cli", *args], input=stdin, env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )

    return run


def test_an_operator_adds_lists_tests_and_disables_a_connection(idp):
    assert idp("init").returncode == 0
    assert idp("org", "create", "contoso").returncode == 0
    added = idp("sso", "add", "contoso", "--name", "Contoso Entra", "--tenant", CONTOSO, "--client-id", "entra-app",
                "--secret-stdin", "--domain", "contoso.com", "--jit", "--sso-only", stdin="the-secret\n")
    assert added.returncode == 0, added.stderr
    assert "added connection 1" in added.stdout
    [listed] = json.loads(idp("sso", "list", "--json").stdout)
    assert listed["domains"] == ["contoso.com"] and listed["jit"] and not listed["password_allowed"]
    assert "the-secret" not in idp("sso", "list").stdout
    tested = idp("sso", "test", "1")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "discovery document was found" in tested.stdout
    assert idp("sso", "disable", "1").returncode == 0
    assert json.loads(idp("sso", "list", "--json").stdout)[0]["enabled"] is False


def test_bad_input_is_one_clear_line(idp):
    idp("init")
    idp("org", "create", "contoso")
    bad = idp("sso", "add", "contoso", "--name", "X", "--tenant", "not-a-guid", "--client-id", "a",
              "--secret-stdin", "--domain", "contoso.com", stdin="s\n")
    assert bad.returncode == 2 and "GUID" in bad.stderr and "Traceback" not in bad.stderr
    assert idp("sso", "add", "nope", "--name", "X", "--client-id", "a", "--domain", "x.com").returncode == 2
    missing = idp("sso", "test", "42")
    assert missing.returncode == 2 and "no such connection" in missing.stderr
    unreachable = idp("sso", "add", "contoso", "--name", "Y", "--tenant", "00000000-0000-4000-8000-000000000000",
                      "--client-id", "a", "--secret-stdin", "--domain", "y.com", stdin="s\n")
    assert unreachable.returncode == 0
    report = idp("sso", "test", "1")
    assert report.returncode == 1 and "PROBLEM" in report.stdout
