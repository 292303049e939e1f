"""In a real Chromium: "Sign in with SSO", the Entra-like tenant's pages, its form_post back, signed in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idp.federation import FEDERATION
from idp.federation.service import ConnectionInput
from tests.e2e.conftest import new_page
from tests.federation.tenant_server import Tenant
from tests.federation.tenant_server import TenantServer
from tests.federation.tenant_server import client

TENANT_ID = "5c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"


@pytest.fixture
def tenant(tmp_path: Path, site: Any) -> Iterator[TenantServer]:
    server = TenantServer(tmp_path)
    if site.https:
        # Over https the browser checks every certificate: the tenant's too comes from the test CA.
        server.cert, server.key = site.ca.issue(f"tenant-{server.port}", dns=["localhost"], ips=["127.0.0.1"])
    yield server
    if hasattr(server, "proc"):
        server.stop()


@pytest.fixture
def settings_overrides(tenant: TenantServer, site: Any) -> dict[str, Any]:
    bundle = site.ca.cert_path if site.https else tenant.cert
    return {"federation": {"entra_authority_host": tenant.host, "ca_bundle": str(bundle)}}


@pytest.fixture
def running_tenant(tenant: TenantServer, live_server: Any, services: Any) -> TenantServer:
    tenant.start([Tenant(TENANT_ID, [client("browser-app", "browser-secret", f"{live_server.url}/sso/callback")], {
        "dana": {"oid": "oid-dana", "email": "dana@fabrikam.com", "name": "Dana Fabrikam", "amr": ["pwd"]},
    })])
    org = services.accounts.create_org("fabrikam", "Fabrikam")
    services.get(FEDERATION).save_connection(org, ConnectionInput(
        kind="entra", name="Fabrikam Entra ID", client_id="browser-app", domains="fabrikam.com",
        tenant_id=TENANT_ID, client_secret="browser-secret", jit_enabled=True,
    ))
    return tenant


@pytest.fixture
def tenant_page(browser: Any, live_server: Any) -> Iterator[Any]:
    # Over plain http the local tenant's certificate is self-signed, and this browser profile
    # does not check it; over https the browser trusts the test CA, which signed both.
    page = new_page(browser, live_server.url, timeout=15_000, ignore_https_errors=not live_server.https)
    yield page
    page.context.close()


def test_sign_in_with_sso_ends_signed_in(tenant_page, running_tenant, services, live_server):
    page = tenant_page
    page.goto("/login")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.get_by_label("Work e-mail address").fill("dana@fabrikam.com")
    page.get_by_role("button", name="Continue with SSO").click()
    page.wait_for_url(f"{running_tenant.host}/**")
    page.get_by_label("Account").fill("dana")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Hello, Dana Fabrikam").is_visible()
    user = services.users.by_email("dana@fabrikam.com")
    [session] = services.sessions.list(user.id)
    assert "fed" in session.amr and "pwd" in session.amr


def test_an_unknown_domain_is_told_in_the_browser(tenant_page, running_tenant):
    page = tenant_page
    page.goto("/sso")
    page.get_by_label("Work e-mail address").fill("someone@unknown-domain.com")
    page.get_by_role("button", name="Continue with SSO").click()
    assert page.get_by_text("No organisation uses single sign-on for this e-mail domain.").first.is_visible()
