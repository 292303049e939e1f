"""The discovery document (OpenID Connect Discovery 1.0): what this provider offers, serialised
once per process. No framework: the Flask view and the ASGI fast lane serve the same bytes."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from idp.oidc import claims as claims_mod

LOCALES = ("en", "fr")


def metadata(iss: str, algorithms: list[str]) -> dict[str, Any]:
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/oauth/authorize",
        "token_endpoint": f"{iss}/oauth/token",
        "userinfo_endpoint": f"{iss}/oauth/userinfo",
        "jwks_uri": f"{iss}/oauth/jwks",
        "end_session_endpoint": f"{iss}/oauth/logout",
        "revocation_endpoint": f"{iss}/oauth/revoke",
        "introspection_endpoint": f"{iss}/oauth/introspect",
        "scopes_supported": list(claims_mod.SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_mod.SUPPORTED_CLAIMS,
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": list(claims_mod.ACR_VALUES),
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": list(LOCALES),
        "claim_types_supported": ["normal"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }


@functools.cache
def discovery_document(iss: str, algorithms: tuple[str, ...]) -> tuple[bytes, str]:
    """(JSON body, strong ETag). It depends only on the settings, fixed for the life of the
    process: serialised once, never stale."""
    body = json.dumps(metadata(iss, list(algorithms)), separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
