"""The page audit: every page a person can reach with GET, signed out, in the middle of a sign-in
and signed in, in English and French, at desktop width and on a phone, checked in Chromium for
sideways overflow, controls off screen, duplicate ids, English left on French pages and axe-core's
WCAG 2.1 A/AA rules, with a full-page screenshot of each. A GET route that is neither visited nor
excluded below fails the test, so a new page cannot escape the audit.

Over plain http only, in both database runs: what is checked does not depend on the transport,
and https (tests/e2e/test_transport_browser.py) would double the time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import NotFound

from tests.e2e.audit_cast import Cast
from tests.e2e.audit_cast import make_cast
from tests.e2e.audit_checks import AXE
from tests.e2e.audit_checks import audit
from tests.e2e.webauthn_helpers import relying_party_settings

OUT, PASSWORD, FACTOR, IN = "signed out", "at the password step", "at the second step", "signed in"
LANGUAGES = ("en", "fr")
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

# GET routes that are not pages a person reads, or that only redirect; each says why.
EXCLUDED = {
    # JSON and files for programs: applications, the kAuth app, scripts, monitoring.
    "/.well-known/openid-configuration": "OpenID Connect discovery document (JSON)",
    "/oauth/jwks": "signing keys (JSON)",
    "/oauth/userinfo": "claims for applications (JSON)",
    "/api/kauth/v1/challenges": "kAuth device API (JSON)",
    "/api/kauth/v1/device": "kAuth device API (JSON)",
    "/api/kauth/v1/openapi.json": "kAuth device API description (JSON)",
    "/api/v1/account": "account API (JSON)",
    "/api/v1/activity": "account API (JSON)",
    "/api/v1/openapi.json": "account API description (JSON)",
    "/api/v1/sessions": "account API (JSON)",
    "/auth/forward": "forward authentication for reverse proxies (a status, no page)",
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus metrics",
    "/static/<path:filename>": "style sheet and scripts",
    "/avatars/<subject>/<row_id:version>/<size>.jpg": "a person's picture (an image)",
    "/login/kauth/status": "polled by the kAuth waiting page's script (JSON)",
    "/security/kauth/add/status": "polled by the kAuth enrolment page's script (JSON)",
    "/mfa/recovery-codes.txt": "the recovery codes as a text download",
    "/security/activity/export.csv": "the activity log as a CSV download",
    "/orgs/<slug>/members/activity/export.csv": "the organisation's activity as a CSV download",
    "/orgs/<slug>/billing/ledger.csv": "the prepaid ledger as a CSV download",
    "/orgs/<slug>/clients.csv": "a partner's client list as a CSV download",
    # Redirects only: where they lead is audited.
    "/demo/login": "redirects to the authorization endpoint (its consent page is audited)",
    "/demo/callback": "redirects back to /demo",
    "/demo/logout": "redirects to the end-session endpoint",
    "/sso/reauth": "redirects to the organisation's directory",
    # The organisation's security pages' first addresses: each answers 308 to its new one.
    "/org/": "redirects to /orgs/",
    "/org/<slug>/security": "redirects to /orgs/<slug>/members/locks",
    "/org/<slug>/activity": "redirects to /orgs/<slug>/members/activity",
    "/org/<slug>/activity/export.csv": "redirects to /orgs/<slug>/members/activity/export.csv",
    # Reached only from a directory's answer (an account to link by an e-mailed code): its page
    # needs a sign-in at a real directory, which tests/federation/test_links.py drives.
    "/sso/verify": "only after a directory's answer; rendered in tests/federation",
}


# Problems accepted for now, each with its reason: (page, problem). Each must still happen (one
# fixed is taken off the list); nothing else is let through. None today.
KNOWN: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Visit:
    """A page to audit: opened at `path`, or reached by `via` (form steps) and then at `path`."""

    name: str
    state: str
    path: str
    status: int = 200
    via: Callable[[Any, Cast], None] | None = None


def submit(page: Any, arrive: str | Callable[[str], bool], **values: str) -> None:
    """Fill the named fields, press the submit button of their form (in any language) and wait
    for the page at `arrive` (a URL pattern or test)."""
    for name, value in values.items():
        page.locator(f"[name={name}]").fill(value)
    form = page.locator(f"form:has([name={next(iter(values))}])") if values else page.locator("main form")
    form.locator("button[type=submit]").first.click()
    page.wait_for_url(arrive)


def _wizard_revoke(page: Any, cast: Cast) -> None:
    page.goto("/security/compromised/")
    current, new = cast.person.password, cast.new_password()
    submit(page, "**/security/compromised/revoke", current_password=current, new_password=new, confirm=new)


def _wizard_review(page: Any, cast: Cast) -> None:
    for box in page.locator("main input[type=checkbox]").all():
        box.uncheck()  # the other sessions and the application's access stay
    submit(page, "**/security/compromised/review")


def _act_for_client(page: Any, cast: Cast) -> None:
    """Acting for the client: every page audited after this one shows the banner."""
    page.goto(f"/orgs/{cast.ids['org']}/clients/{cast.ids['client']}/act")
    submit(page, f"**/orgs/{cast.ids['client']}/delegated/")


def _new_recovery_codes(page: Any, cast: Cast) -> None:
    """The recovery codes are shown once, right after new ones are made."""
    page.goto("/mfa/recovery-codes/new")
    submit(page, "**/mfa/recovery-codes")


def visits(cast: Cast) -> list[Visit]:
    ids = cast.ids
    org, connection, client = ids["org"], ids["connection"], ids["client"]
    return [
        Visit("sign-in", OUT, "/login"),
        Visit("passkey sign-in", OUT, "/login/passkey"),
        Visit("sso", OUT, "/sso"),
        Visit("sso refused answer", OUT, "/sso/callback", 400),
        Visit("sso error", OUT, "/sso/error/cancelled", 400),
        Visit("signed out", OUT, "/logged-out"),
        Visit("application signed out", OUT, "/oauth/logged-out"),
        Visit("unlock", OUT, ids["unlock"]),
        Visit("unlock refused", OUT, "/unlock/not-a-token", 400),
        Visit("invitation sign-up", OUT, ids["invitation"]),
        Visit("partner request sign-up", OUT, ids["partner_link"]),
        Visit("partner request refused", OUT, "/partners/requests/link/not-a-token", 400),
        Visit("forgot password", OUT, "/login/forgot"),
        Visit("forgot password sent", OUT, "/login/forgot/sent"),
        Visit("account deleted", OUT, "/profile/deleted"),
        Visit("password reset", OUT, ids["reset"]),
        Visit("password reset refused", OUT, "/login/reset/not-a-token", 400),
        Visit("sign-up", OUT, "/signup"),
        Visit("sign-up sent", OUT, "/signup/sent"),
        Visit("sign-up activation", OUT, ids["signup_link"]),
        Visit("sign-up activation refused", OUT, "/signup/verify/not-a-link", 400),
        Visit("not found", OUT, "/no-such-page", 404),
        Visit("demo", OUT, "/demo"),
        Visit("password", PASSWORD, "/login/password"),
        Visit("totp", FACTOR, "/login/totp"),
        Visit("security key", FACTOR, "/login/security-key"),
        Visit("recovery code", FACTOR, "/login/recovery-code"),
        Visit("other ways", FACTOR, "/login/other-ways"),
        Visit("kauth waiting", FACTOR, "/login/kauth"),
        Visit("home", IN, "/"),
        Visit("profile", IN, "/profile"),
        Visit("phone confirm", IN, f"/profile/phones/{ids['phone']}/confirm"),
        Visit("email change", IN, "/profile/email"),
        Visit("email confirm", IN, ids["email_link"]),
        Visit("email confirm refused", IN, "/profile/email/confirm/not-a-link", 400),
        # What goes and what stays, or (the cast administers an organisation) why not yet: the
        # page changes nothing.
        Visit("account deletion", IN, "/profile/delete"),
        Visit("security", IN, "/security/"),
        Visit("sessions", IN, "/security/sessions"),
        Visit("notifications", IN, "/security/notifications"),
        Visit("notification address confirm", IN, ids["notify_address"]),
        Visit("notification address refused", IN, "/security/notifications/address/not-a-token", 400),
        Visit("lockout", IN, "/security/lockout"),
        Visit("activity", IN, "/security/activity/"),
        Visit("credentials", IN, "/security/credentials"),
        Visit("new app password", IN, "/security/app-passwords/new"),
        Visit("revoke app password", IN, f"/security/app-passwords/{ids['app_password']}/revoke"),
        Visit("new api token", IN, "/security/api-tokens/new"),
        Visit("revoke api token", IN, f"/security/api-tokens/{ids['api_token']}/revoke"),
        Visit("kauth devices", IN, "/security/kauth"),
        Visit("kauth add", IN, "/security/kauth/add"),
        Visit("kauth remove", IN, f"/security/kauth/devices/{ids['device']}/remove"),
        Visit("mfa", IN, "/mfa"),
        Visit("totp enrol", IN, "/mfa/totp"),
        Visit("totp remove", IN, "/mfa/totp/remove"),
        Visit("key add", IN, "/mfa/keys/add"),
        Visit("passkey add", IN, "/mfa/keys/add?kind=passkey"),
        Visit("key remove", IN, f"/mfa/keys/{ids['key']}/remove"),
        Visit("recovery codes new", IN, "/mfa/recovery-codes/new"),
        Visit("mfa reauth", IN, "/mfa/reauth"),
        Visit("reauth", IN, "/reauth"),
        Visit("change password", IN, "/account/password"),
        Visit("sso links", IN, "/sso/links"),
        Visit("orgs", IN, "/orgs/"),
        Visit("org page", IN, f"/orgs/{org}"),
        Visit("org delete", IN, f"/orgs/{org}/delete"),
        Visit("invitation for another address", IN, ids["invitation"]),
        Visit("org locked accounts", IN, f"/orgs/{org}/members/locks"),
        Visit("org activity", IN, f"/orgs/{org}/members/activity"),
        Visit("clients", IN, f"/orgs/{org}/clients"),
        Visit("add a client", IN, f"/orgs/{org}/clients/new"),
        Visit("client reached", IN, f"/orgs/{org}/clients/{ids['client']}"),
        Visit("partners of a client", IN, f"/orgs/{ids['studio']}/partners"),
        Visit("change a partner's rights", IN, f"/orgs/{ids['studio']}/partners/{ids['managed']}/change"),
        Visit("end a partnership", IN, f"/orgs/{ids['studio']}/partners/{ids['managed']}/end"),
        Visit("partner requests", IN, "/partners/requests"),
        Visit("partner request review", IN, f"/partners/requests/{ids['partner_request']}"),
        Visit("partner request for another address", IN, ids["partner_link"]),
        Visit("org sso", IN, f"/orgs/{org}/sso"),
        Visit("org sso new", IN, f"/orgs/{org}/sso/new"),
        Visit("org sso connection", IN, f"/orgs/{org}/sso/{connection}"),
        Visit("org domains", IN, f"/orgs/{org}/domains"),
        Visit("domain relaunch", IN, ids["domain_link"]),
        Visit("domain relaunch refused", IN, "/domains/relaunch/not-a-link", 400),
        Visit("billing", IN, f"/orgs/{org}/billing"),
        Visit("ledger", IN, f"/orgs/{org}/billing/ledger"),
        Visit("ledger refused filters", IN, f"/orgs/{org}/billing/ledger?kind=refund&date_from=nope", 400),
        Visit("orders", IN, f"/orgs/{org}/billing/orders"),
        Visit("order form", IN, f"/orgs/{org}/billing/orders/new"),
        Visit("order price", IN, f"/orgs/{org}/billing/orders/new?product=web_hosting&quantity=35&currency=CHF"
                                 "&method=balance&kind=renewal"),
        Visit("order form refused", IN, f"/orgs/{org}/billing/orders/new?product=web_hosting&quantity=0"
                                        "&currency=CHF&method=transfer&kind=order", 400),
        Visit("order", IN, f"/orgs/{org}/billing/orders/{ids['order']}"),
        Visit("payouts", IN, f"/orgs/{org}/billing/payouts"),
        Visit("act for a client", IN, f"/orgs/{org}/clients/{client}/act"),
        Visit("acting for a client", IN, f"/orgs/{client}/delegated/", via=_act_for_client),
        Visit("client members", IN, f"/orgs/{client}/delegated/members"),
        Visit("client activity", IN, f"/orgs/{client}/members/activity"),
        Visit("applications", IN, "/applications"),
        Visit("consent", IN, ids["consent"]),
        Visit("authorize error", IN, ids["authorize_error"], 400),
        Visit("application logout", IN, "/oauth/logout"),
        Visit("demo signed in", IN, "/demo"),
        # Last: the compromised-password wizard replaces the password on the way.
        Visit("wizard password", IN, "/security/compromised/"),
        Visit("wizard revoke", IN, "/security/compromised/revoke", via=_wizard_revoke),
        Visit("wizard review", IN, "/security/compromised/review", via=_wizard_review),
        Visit("recovery codes", IN, "/mfa/recovery-codes", via=_new_recovery_codes),
    ]


def sign_in_steps(page: Any, cast: Cast) -> dict[str, Callable[[], None]]:
    """What moves this browser into each state, from the one before (in the order of STATES)."""

    def password() -> None:
        page.goto("/login")
        submit(page, "**/login/password", login=cast.person.email)

    def factor() -> None:
        submit(page, lambda url: urlsplit(url).path not in ("/login", "/login/password"), password=cast.person.password)

    def signed_in() -> None:
        # On the kAuth waiting page (the last of the second step): the phone approves, and the
        # page moves on by itself to the account page, which only a signed-in person sees.
        cast.approve(int(page.locator("#kauth-number").inner_text()))
        page.wait_for_url(lambda url: urlsplit(url).path == "/")

    return {OUT: lambda: None, PASSWORD: password, FACTOR: factor, IN: signed_in}


STATES = (OUT, PASSWORD, FACTOR, IN)


class Auditor:
    """Opens each visit in one browser context (a language and a width) and collects problems
    as (visit name, where, what)."""

    def __init__(self, app: Any, folder: Path, lang: str, width: str) -> None:
        self.routes = app.url_map.bind("localhost")
        self.folder, self.lang, self.width = folder, lang, width
        self.problems: list[tuple[str, str, str]] = []
        self.seen: set[str] = set()

    def rule_of(self, path: str) -> str | None:
        try:
            rule, _args = self.routes.match(path.split("?", 1)[0], method="GET", return_rule=True)
        except NotFound:
            return None
        return str(rule)

    def open(self, page: Any, visit: Visit, cast: Cast) -> None:
        where = f"{visit.name} ({visit.path}) [{self.lang}, {self.width}]"
        status: int | str | None = None
        if visit.via is not None:
            visit.via(page, cast)
        else:
            response = page.goto(visit.path + ("&" if "?" in visit.path else "?") + f"lang={self.lang}")
            status = response.status if response.request.redirected_from is None else "a redirect"
        landed, expected = self.rule_of(urlsplit(page.url).path), self.rule_of(visit.path)
        if landed != expected or status not in (None, visit.status):
            self.problems.append((visit.name, where, f"expected {expected} ({visit.status}), got {landed} ({status})"))
            return
        if landed is not None:
            self.seen.add(landed)
        # JPEG: half the time of a PNG of a long page, and as good to look at the layout.
        shot = self.folder / f"{self.lang}-{self.width}-{re.sub(r'[^a-z0-9]+', '-', visit.name)}.jpeg"
        page.screenshot(path=shot, full_page=True, type="jpeg", quality=80)
        self.problems += [(visit.name, where, problem) for problem in audit(page, french=self.lang == "fr")]


@pytest.fixture
def settings_overrides(site: Any) -> dict[str, Any]:
    return relying_party_settings(site)  # passkeys offered, as where the service is deployed


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = Path(os.environ.get("IDP_AUDIT_SCREENSHOTS") or tmp_path_factory.mktemp("page-audit"))
    folder.mkdir(parents=True, exist_ok=True)
    with capsys.disabled():
        print(f"\npage audit screenshots: {folder}")
    return folder


def audit_context(browser: Any, app: Any, base_url: str, folder: Path, lang: str, width: str, cast: Cast,
                  services: Any) -> Auditor:
    """Every visit in one fresh browser profile, from signed out to signed in."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[width], locale="en-GB")
    context.add_init_script(path=str(AXE))  # axe-core in every page (CDP, so the page's CSP allows it)
    page = context.new_page()
    page.set_default_timeout(10_000)
    auditor = Auditor(app, folder, lang, width)
    steps = sign_in_steps(page, cast)
    cast.credentials(services)
    plan = visits(cast)
    try:
        for state in STATES:
            steps[state]()
            for visit in (v for v in plan if v.state == state):
                auditor.open(page, visit, cast)
    finally:
        context.close()
    return auditor


def coverage(app: Any, seen: set[str]) -> list[str]:
    """Every GET route audited or excluded, and the exclusions still true."""
    routes = {str(r) for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    return ([f"the GET route {r} is neither audited nor in EXCLUDED" for r in sorted(routes - seen - set(EXCLUDED))]
            + [f"EXCLUDED names {r}, which is no GET route" for r in sorted(set(EXCLUDED) - routes)]
            + [f"EXCLUDED names {r}, which the audit visits" for r in sorted(set(EXCLUDED) & seen)])


@pytest.mark.parametrize("site", ["http"], indirect=True)
def test_every_page_in_both_languages_at_both_widths(
    app, browser, live_server, services, client, clock, make_user, screenshots,
):
    assert AXE.exists(), "axe-core is missing: run scripts/setup/axe.sh"
    from idp.oidc.demo import seed

    seed(services, "localhost", urlsplit(live_server.localhost_url).port)
    cast = make_cast(services, client, clock, make_user)
    found: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for lang in LANGUAGES:
        for width in VIEWPORTS:
            auditor = audit_context(browser, app, live_server.localhost_url, screenshots, lang, width, cast, services)
            found += auditor.problems
            seen |= auditor.seen

    problems = [f"{where}: {what}" for name, where, what in found if (name, what) not in KNOWN]
    problems += [f"KNOWN lists {key}, which no longer happens: take it off"
                 for key in KNOWN if key not in {(name, what) for name, _where, what in found}]
    problems += coverage(app, seen)
    assert not problems, f"{len(problems)} problems (screenshots in {screenshots}):\n" + "\n".join(problems)
