"""The Authlib authorization server: grants, endpoints, client lookup, and token bookkeeping."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from authlib.common.security import is_secure_transport
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749 import UnsupportedResponseTypeError
from flask import Flask
from werkzeug.datastructures import Authorization

from idp.oidc import endpoints
from idp.oidc import grants
from idp.oidc.models import Client
from idp.oidc.rules.events import token_event
from idp.oidc.service import OidcService
from idp.oidc.tokens import Issued

log = logging.getLogger(__name__)

# What the token, revocation and introspection endpoints answer (400 invalid_request) to a
# request Authlib refuses for its transport: plain http to a host that is not a loopback address.
HTTPS_REQUIRED = "https is required: OAuth 2.0 refuses plain http except to a loopback address"


class IdpAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server; `oidc` is the service the grants and endpoints store through."""

    oidc: OidcService

    def create_oauth2_request(self, request: Any) -> Any:
        # A parked authorization request (resumed after sign-in or consent) is passed in ready-made.
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def get_authorization_grant(self, request: Any) -> Any:
        response_type = request.payload.response_type
        if response_type and invalid_error_characters(response_type):
            # Authlib names an unsupported response type in its error description, which
            # raises ValueError (a 500) for a character a description may not hold: the same
            # answer (back to the client once it and its redirect_uri are known good), unnamed.
            client = self.query_client(request.payload.client_id) if request.payload.client_id else None
            redirect_uri = request.payload.redirect_uri
            known = client is not None and bool(redirect_uri) and client.check_redirect_uri(redirect_uri)
            raise UnsupportedResponseTypeError(response_type, "The response type is not supported by the server.",
                                               redirect_uri=redirect_uri if known else None)
        return super().get_authorization_grant(request)

    def request_context(self) -> Any:
        from idp.web.current import request_context

        return request_context()


def client_secret_basic(query_client: Any, request: Any) -> Any:
    """client_secret_basic (RFC 6749 §2.3.1), the header read by Werkzeug's parser; the client id
    and secret are form-encoded before Base64, so each is percent-decoded after.

    A Basic header that is not Base64 of UTF-8 (the only non-empty header Werkzeug cannot parse)
    is the client's failure to authenticate: 401 invalid_client with `WWW-Authenticate: Basic`
    (RFC 6749 §5.2), not an error of ours. No header, another scheme, or an empty id or secret:
    None, so the next method is tried, and the endpoint answers 401 invalid_client if none
    succeeds. An unknown client is 401 invalid_client at once, as with Authlib's own method."""
    header = request.headers.get("Authorization")
    auth = Authorization.from_header(header)
    if auth is None and header:
        raise InvalidClientError(status_code=401, description="The Basic credentials are not Base64 of UTF-8.")
    if auth is None or auth.type != "basic":
        return None
    client_id, secret = unquote(auth.username or ""), unquote(auth.password or "")
    if not client_id or not secret:
        return None
    client = query_client(client_id)
    if client is None:
        raise InvalidClientError(status_code=401, description="The client does not exist on this server.")
    return client if client.check_client_secret(secret) else None


def warn_if_insecure(issuer: str, setting: str) -> bool:
    """Log a warning when the advertised endpoints are plain http on a host that is not a
    loopback address: Authlib refuses every token, revocation and introspection request there
    (`InsecureTransportError.check`), so no relying party can get a token. Behind a TLS proxy,
    `server.trusted_proxies` makes the request URL https and the issuer is https anyway.
    Returns whether it warned."""
    if is_secure_transport(f"{issuer}/oauth/token"):
        return False
    log.warning(
        "%s is %s: plain http on a host that is not a loopback address. The token, revocation "
        "and introspection endpoints refuse such requests (OAuth 2.0 requires TLS), so no "
        "application can get a token. Set it to the https address the service is reached at "
        "(behind a TLS proxy, also set server.trusted_proxies), or use a loopback address.", setting, issuer,
    )
    return True


def build(app: Flask, service: OidcService) -> IdpAuthorizationServer:
    server = IdpAuthorizationServer()
    server.oidc = service

    def query_client(client_id: str) -> Client | None:
        record = service.clients.get(client_id)
        return Client(record) if record else None

    def save_token(token: dict[str, Any], request: Any) -> None:
        issued: Issued = request.issued  # the refresh token row already names its access token
        ctx = request.grant_context
        if request.authorization_code is not None:
            service.code_redeemed(request.authorization_code, issued)
            service.link_session(ctx.user.id if ctx.user else 0, ctx.sid, ctx.client.client_id)
        event = token_event(request.payload.grant_type, ctx, refresh_token="refresh_token" in token)
        service.events.record_event(event.tag, ctx=server.request_context(), **event.fields())

    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_client_auth_method("client_secret_basic", client_secret_basic)
    server.register_grant(grants.AuthorizationCodeGrant, [grants.AuthorizationRequestChecks(),
                                                          grants.IdpOpenIDCode(require_nonce=False),
                                                          grants.S256Only(required=True)])
    server.register_grant(grants.RefreshTokenGrant)
    server.register_grant(grants.ClientCredentialsGrant)
    server.register_endpoint(endpoints.IdpRevocationEndpoint)
    server.register_endpoint(endpoints.IdpIntrospectionEndpoint)
    return server
