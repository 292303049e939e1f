"""Links kAuth hands out (the enrolment QR code, "this wasn't me" mail, the OpenAPI servers) use
`server.base_url`: a forged Host or X-Forwarded-Host never reaches a device or a mailbox."""

from __future__ import annotations

from html import unescape
from typing import Any

import pytest

from idp.kauth import KAUTH
from idp.kauth.client import parse_link
from tests.conftest import outbox
from tests.kauth.conftest import Phone

BASE = "https://id.example.com"
FORGED = [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # Behind one trusted proxy, as deployed: its X-Forwarded-Host is believed for the request.
    return {"server": {"base_url": BASE, "trusted_proxies": 1}}


def _https(forged: dict[str, str]) -> dict[str, str]:
    return {"X-Forwarded-Proto": "https", **forged}


def _get(client: Any, path: str, forged: dict[str, str]) -> Any:
    """GET as the signed-in browser, with the forged header. The test client picks cookies by the
    Host it sends, so a forged Host goes out from a cookie-less client with the browser's cookie."""
    if "Host" not in forged:
        return client.get(path, headers=_https(forged))
    name = client.application.extensions["idp"].settings.session_cookie
    cookie = client.get_cookie(name)
    headers = _https(forged) | ({"Cookie": f"{name}={cookie.value}"} if cookie else {})
    return client.application.test_client(use_cookies=False).get(path, headers=headers)


@pytest.mark.parametrize("forged", FORGED)
def test_the_enrolment_link_and_qr_code_name_the_public_server(auth, client, make_user, forged):
    person = make_user()
    auth.sign_in(person.email, person.password)
    page = _get(client, "/security/kauth/add", forged)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    link = html.split('id="enrolment-link" readonly value="', 1)[1].split('"', 1)[0]
    server, _token = parse_link(link)
    assert server == BASE
    assert "evil.example" not in html  # the QR code is drawn from the same link


@pytest.mark.parametrize("forged", FORGED)
def test_this_was_not_me_mails_a_link_to_the_public_server(app, auth, client, clock, make_user, services, forged):
    person = make_user()
    phone = Phone(app.test_client(), clock)
    assert phone.enrol(services.get(KAUTH).start_enrolment(services.users.get(person.id)).token).status_code == 201
    auth.sign_in(person.email, person.password)
    assert client.get("/login/kauth").status_code == 200
    [challenge] = phone.pending()
    phone.client.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in _https(forged).items()})
    answered = phone.answer(challenge["id"], "deny", reason="not_me")
    assert answered.status_code == 200 and answered.json["status"] == "reported"
    assert answered.json["wizard_url"] == BASE + "/security/compromised/"
    mail = outbox(services)[-1]
    assert mail["to"] == person.email and BASE + "/security/compromised/" in mail["body"]
    assert "evil.example" not in mail["body"]


@pytest.mark.parametrize("forged", FORGED)
def test_the_openapi_document_names_the_public_server(client, forged):
    document = _get(client, "/api/kauth/v1/openapi.json", forged).json
    assert [s["url"] for s in document["servers"]] == [BASE + "/api/kauth/v1"]
