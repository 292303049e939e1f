"""Seeds the service under test for the benchmark: clients, a person, an access token and N
refresh tokens, written as JSON (the same shape node/server.mjs writes), and for this service a
signed-in browser session (its cookie) for the authorization endpoint's scenario."""

from __future__ import annotations

import json
import sys

from idp.container import Container
from idp.model import RequestContext
from idp.oidc.capability import build
from idp.oidc.rules.grant import GrantContext
from idp.settings import load_settings
from idp.stores.migrate import upgrade


def main(path: str, count: int) -> None:
    settings = load_settings()
    upgrade(settings.database_url)
    container = Container.build(settings)
    oidc = build(container)
    rp, rp_secret = oidc.clients.create("Bench RP", client_id="bench-rp", redirect_uris=["https://rp.example/cb"],
                                        skip_consent=True)
    _service, service_secret = oidc.clients.create("Bench service", kind="service", client_id="bench-service",
                                                  scopes=["reports"])
    user = container.accounts.create_user("bench@example.com", None, display_name="Bench Person")
    ctx = GrantContext(client=rp, user=user, scope="openid email profile offline_access", auth_time=0,
                       acr="urn:idp:acr:pwd", amr=["pwd"])
    access = oidc.tokens.issue(GrantContext(client=rp, user=user, scope="openid email profile", auth_time=0),
                               with_refresh=False).response["access_token"]
    refresh = []
    for _ in range(count):  # rows as the grants store them, without signing an unused access token
        token, row = oidc.tokens.new_refresh(ctx, "seeded", 0)
        oidc.tokens.refresh_tokens.add(**row)
        refresh.append(token)
    # The browser the authorization scenario plays: signed in, on the same address as wrk.
    browser = RequestContext(ip="127.0.0.1", user_agent="wrk")
    session_id, _ = container.sessions.create(user.id, browser, amr=["pwd"], methods=["password"])
    with open(path, "w") as fh:
        json.dump({"access_token": access, "refresh_tokens": refresh, "rp": ["bench-rp", rp_secret],
                   "service": ["bench-service", service_secret],
                   "session_cookie": f"{settings.session_cookie}={session_id}"}, fh)
    container.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
