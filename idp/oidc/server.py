"""The Authlib authorization server: grants, endpoints, client lookup, and token bookkeeping."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import Flask

from idp.events import EventTag
from idp.oidc import endpoints
from idp.oidc import grants
from idp.oidc.models import Client
from idp.oidc.service import OidcService
from idp.oidc.tokens import Issued
from idp.oidc.tokens import token_event_details


class IdpAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server; `oidc` is the service the grants and endpoints store through."""

    oidc: OidcService

    def create_oauth2_request(self, request: Any) -> Any:
        # A parked authorization request (resumed after sign-in or consent) is passed in ready-made.
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def request_context(self) -> Any:
        from idp.web.current import request_context

        return request_context()


def build(app: Flask, service: OidcService) -> IdpAuthorizationServer:
    server = IdpAuthorizationServer()
    server.oidc = service

    def query_client(client_id: str) -> Client | None:
        record = service.clients.get(client_id)
        return Client(record) if record else None

    def save_token(token: dict[str, Any], request: Any) -> None:
        issued: Issued = request.issued  # the refresh token row already names its access token
        ctx = request.grant_context
        client_id = ctx.client.client_id
        user_id = ctx.user.id if ctx.user else None
        if request.authorization_code is not None:
            service.code_redeemed(request.authorization_code, issued)
            service.link_session(user_id or 0, ctx.sid, client_id)
            tag = EventTag.OIDC_TOKEN_ISSUED
        elif request.refresh_token is not None:
            tag = EventTag.OIDC_TOKEN_REFRESHED
        else:
            tag = EventTag.OIDC_TOKEN_ISSUED
        service.events.record_event(
            tag, ctx=server.request_context(), user_id=user_id, product=client_id,
            details=token_event_details(request.payload.grant_type, ctx.scope,
                                        refresh_token="refresh_token" in token),
        )

    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(grants.AuthorizationCodeGrant, [grants.IdpOpenIDCode(require_nonce=False),
                                                          grants.S256Only(required=True)])
    server.register_grant(grants.RefreshTokenGrant, [grants.RefreshIDToken()])
    server.register_grant(grants.ClientCredentialsGrant)
    server.register_endpoint(endpoints.IdpRevocationEndpoint)
    server.register_endpoint(endpoints.IdpIntrospectionEndpoint)
    return server
