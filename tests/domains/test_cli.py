"""`idp domain list | transfer-failed | transfer-completed | poll`, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

from click.testing import CliRunner

from idp.capability import CommandServices
from idp.domains.cli import domain_group
from idp.domains.model import Status
from tests.conftest import events
from tests.domains.conftest import CTX
from tests.domains.conftest import domains
from tests.domains.conftest import link_path
from tests.domains.conftest import request
from tests.domains.conftest import transfer


def run(services, *args):
    """The group on the test's own services (its database, both backends)."""
    return CliRunner().invoke(domain_group, list(args), obj=CommandServices(lambda: nullcontext(services)))


def test_an_operator_lists_fails_and_completes_transfers(cast, services):
    made = request(services, cast.admin)
    request(services, cast.outsider, domain="bücher.ch", slug="globex")
    listed = run(services, "list")
    assert listed.exit_code == 0, listed.output
    assert "requested" in listed.output and "bücher.ch" in listed.output and "CHF 12.00" in listed.output
    [only] = json.loads(run(services, "list", "--org", "acme", "--json").output)
    assert only == {"id": made.id, "org_id": made.org_id, "domain": "example.ch", "name": "example.ch",
                    "status": "requested", "failures": 0, "fee": "12.00", "currency": "CHF", "charged": True,
                    "reason": None}

    failed = run(services, "transfer-failed", "EXAMPLE.ch", "--reason", "other", "--detail", "Registry maintenance")
    assert failed.exit_code == 0, failed.output
    assert "failure 1 of EXAMPLE.ch recorded (other)" in failed.output
    assert transfer(services, made.id).status is Status.FAILED
    assert domains(services).store.failure(made.id, 1).source == "operator"
    assert link_path(services, cast.legal)
    [event] = events(services, "domains:transfer:failed")
    assert event["ip"] == "cli" and event["details"]["source"] == "operator"
    assert json.loads(run(services, "list", "--org", "acme", "--json").output)[0]["reason"] == "other"

    # A failed transfer has no attempt under way: it is relaunched first.
    again = run(services, "transfer-completed", "example.ch")
    assert again.exit_code == 2 and "has status failed" in again.output
    service = domains(services)
    service.relaunch_from_page(service.access(services.accounts.user(cast.admin.id), "acme"), made.id, 1, "",
                               ctx=CTX)
    done = run(services, "transfer-completed", "example.ch")
    assert done.exit_code == 0 and "is completed" in done.output
    assert transfer(services, made.id).status is Status.COMPLETED
    assert len(events(services, "domains:transfer:completed")) == 1


def test_bad_input_is_one_clear_line(cast, services):
    request(services, cast.admin)
    unknown = run(services, "transfer-failed", "nobody.ch", "--reason", "domain_locked")
    assert unknown.exit_code == 2 and "error: no open transfer of nobody.ch" in unknown.output
    bad_name = run(services, "transfer-completed", "not a domain")
    assert bad_name.exit_code == 2 and "is not a domain name that can be transferred" in bad_name.output
    bad_reason = run(services, "transfer-failed", "example.ch", "--reason", "bogus")
    assert bad_reason.exit_code == 2 and "Invalid value for '--reason'" in bad_reason.output
    no_detail = run(services, "transfer-failed", "example.ch", "--reason", "other")
    assert no_detail.exit_code == 2 and "needs --detail" in no_detail.output
    assert run(services, "list", "--org", "nope").exit_code == 2
    assert "Traceback" not in unknown.output + bad_name.output + no_detail.output
    assert events(services, "domains:transfer:failed") == []


def test_poll_reports_what_it_refused(cast, services, settings):
    request(services, cast.admin)
    results = settings.instance_path / "registrar" / "results"
    results.mkdir(parents=True)
    (results / "a.json").write_text(json.dumps({"domain": "example.ch", "status": "in_progress"}))
    (results / "b.json").write_text("[")
    polled = run(services, "poll")
    assert polled.exit_code == 1
    assert polled.output.splitlines() == ["applied  a.json", "refused  b.json: not JSON"]
    assert run(services, "poll").exit_code == 0


def test_the_command_is_installed(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")

    def idp(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "idp.cli", *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False)

    assert idp("init").returncode == 0
    assert idp("domain", "list", "--json").stdout.strip() == "[]"
    missing = idp("domain", "transfer-completed", "example.ch")
    assert missing.returncode == 2 and missing.stderr.strip() == "error: no open transfer of example.ch"
