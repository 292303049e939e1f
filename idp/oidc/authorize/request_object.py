"""Request objects (OpenID Connect Core 6.1 and 3.1.2.6) are not supported: a request carrying
`request` or `request_uri` is refused, rather than served without the parameters the client put
in them.

This step reads the raw parameters (each with all its values) and runs inside Authlib's
validation, from `grants.AuthorizationRequestChecks`, as soon as the client and its redirect_uri
are known good: its refusal wins over the scope, PKCE and prompt checks that come after."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence

from idp.oidc.authorize.decisions import PROCEED
from idp.oidc.authorize.decisions import Decision
from idp.oidc.authorize.decisions import Refuse

REQUEST = Refuse("request_not_supported", "Request objects (the request parameter) are not supported.")
REQUEST_URI = Refuse("request_uri_not_supported", "The request_uri parameter is not supported.")


def check(datalist: Mapping[str, Sequence[str]]) -> Decision:
    if any(datalist.get("request") or ()):
        return REQUEST
    if any(datalist.get("request_uri") or ()):
        return REQUEST_URI
    return PROCEED
