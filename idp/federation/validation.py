"""ID-token checks msal leaves to us (and the same rules for generic OIDC): signature against the
directory's published keys, issuer, audience, tenant, expiry with a small skew, nonce."""

from __future__ import annotations

import hmac
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from idp.federation.errors import FederationError

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


def _unverified_header(id_token: str) -> dict[str, Any]:
    import base64
    import json

    try:
        head = id_token.split(".")[0]
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        return data
    except (ValueError, IndexError):
        raise FederationError("malformed", "the ID token is not a JWT") from None


def kid_of(id_token: str) -> str | None:
    kid = _unverified_header(id_token).get("kid")
    return kid if isinstance(kid, str) else None


def validate_id_token(
    id_token: str, *, jwks: dict[str, Any], issuer: str, audience: str, nonce: str, now: int, skew: int,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """The token's claims once every check passed, else FederationError with the reason.

    The signature is checked first, so no claim of an unsigned or forged token is ever read.
    `tenant_id` (Entra) must equal the `tid` claim; `issuer` is compared exactly.
    """
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise FederationError("malformed", "no ID token")
    _unverified_header(id_token)
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except JoseError as exc:
        raise FederationError("bad_signature", f"{type(exc).__name__}: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise FederationError("bad_signature", f"keys: {exc}") from None
    claims = dict(token.claims)
    if claims.get("iss") != issuer:
        raise FederationError("wrong_issuer", f"iss={str(claims.get('iss'))[:120]}")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences or (len(audiences) > 1 and claims.get("azp") != audience):
        raise FederationError("wrong_audience", f"aud={str(aud)[:120]}")
    if tenant_id is not None and claims.get("tid") != tenant_id:
        raise FederationError("wrong_tenant", f"tid={str(claims.get('tid'))[:64]}")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise FederationError("malformed", "exp or iat missing")
    if now > exp + skew:
        raise FederationError("expired", f"exp={exp} now={now}")
    if iat > now + skew or (isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now + skew):
        raise FederationError("clock_skew", f"iat={iat} now={now}")
    got = claims.get("nonce")
    if not isinstance(got, str) or not hmac.compare_digest(got, nonce):
        raise FederationError("nonce", "nonce mismatch")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise FederationError("malformed", "no sub")
    return claims
