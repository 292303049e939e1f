"""kAuth end to end: Chromium signs in and waits on the number while the reference device client,
a separate process, enrols, approves, picks a wrong number, denies, and learns it was removed."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from idp.clock import SystemClock
from tests.e2e.conftest import sign_in
from tests.e2e.conftest import sign_out


@pytest.fixture
def clock():
    # The device client stamps its requests with the real time; the server must agree.
    return SystemClock()


class DeviceClient:
    def __init__(self, state, env: dict[str, str]) -> None:
        self.state = state
        self.env = env  # over https, trusts the test CA

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "idp.kauth.client", "--state", str(self.state), *args],
            capture_output=True, text=True, timeout=60, check=False, env=self.env,
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def pending(self) -> dict:
        [challenge] = json.loads(self.run("pending", "--wait", "20", "--json").stdout)
        return challenge


def wait_for_number(page) -> int:
    return int(page.locator("#kauth-number").inner_text())


def test_kauth_in_a_browser_with_the_reference_client(page, live_server, make_user, services, tmp_path):
    person = make_user(display_name="Ada Lovelace")
    device = DeviceClient(tmp_path / "phone.json", live_server.client_env())

    # Enrol: the page shows a QR code and a link; the client enrols; the page sees it live.
    sign_in(page, person.email, person.password)
    page.goto("/security/kauth/add")
    assert page.locator(".kauth-qr svg").count() == 1
    link = page.locator("#enrolment-link").input_value()
    assert parse_qs(urlsplit(link).query)["server"] == [live_server.url]  # the public URL, behind nginx too
    out = device.run("enrol", link, "--name", "CLI phone", "--platform", "Linux").stdout
    assert "Enrolled as kd_" in out
    expect(page.locator("#enrol-status")).to_have_text("CLI phone is ready to approve your sign-ins.", timeout=15_000)
    assert (tmp_path / "phone.json").stat().st_mode & 0o777 == 0o600
    sign_out(page)

    # Approve with the right number: the waiting page moves on by itself.
    sign_in(page, person.email, person.password)
    number = wait_for_number(page)
    challenge = device.pending()
    assert number in challenge["options"] and challenge["context"]["ip"] == "127.0.0.1"
    listing = device.run("pending").stdout
    assert "from 127.0.0.1" in listing and str(number) in listing
    assert "Approved." in device.run("approve", challenge["id"], str(number)).stdout
    expect(page.get_by_role("heading", name="Hello, Ada Lovelace")).to_be_visible(timeout=15_000)
    sign_out(page)

    # A wrong number refuses the sign-in.
    sign_in(page, person.email, person.password)
    number = wait_for_number(page)
    challenge = device.pending()
    wrong = next(n for n in challenge["options"] if n != number)
    assert "Wrong number" in device.run("approve", challenge["id"], str(wrong), ok=False).stdout
    expect(page.locator("#kauth-message")).to_contain_text("did not match", timeout=15_000)

    # A deny refuses it too.
    page.get_by_role("button", name="Send a new request").click()
    wait_for_number(page)
    challenge = device.pending()
    assert "Denied." in device.run("deny", challenge["id"]).stdout
    expect(page.locator("#kauth-message")).to_contain_text("The sign-in was refused.", timeout=15_000)
    assert services.sessions.list(person.id) == []
    # A refusal ends the attempt: no new request from this page, the password is asked again.
    assert page.get_by_role("button", name="Send a new request").count() == 0

    # Sign in once more (a recent sign-in: no re-authentication asked), then remove the device
    # (the last second factor: the removal asks to tick that it is understood).
    sign_in(page, person.email, person.password)
    number = wait_for_number(page)
    device.run("approve", device.pending()["id"], str(number))
    expect(page.get_by_role("heading", name="Hello, Ada Lovelace")).to_be_visible(timeout=15_000)
    page.goto("/security/kauth")
    page.get_by_role("link", name="Remove CLI phone").click()
    expect(page.get_by_role("status").first).to_contain_text("This is your last second step")
    page.get_by_label("I understand that my account will be protected by my password only.").check()
    page.get_by_role("button", name="Remove this device").click()
    expect(page.get_by_role("status")).to_contain_text("CLI phone was removed")

    # The client learns it was removed, from a notice signed by the server.
    told = device.run("status", ok=False)
    assert told.returncode == 3, told.stdout + told.stderr
    assert "This device was removed from the account" in told.stdout
