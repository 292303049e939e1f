"""What a directory says about a person: its ID token's claims completed from its userinfo
endpoint, and the words taken from them (a linked account's label, a new account's name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idp.federation.errors import FederationError

# The profile claims userinfo may add (OpenID Connect Core 5.1): nothing else is taken from it,
# so the identity (iss, sub, tid, oid), the nonce and the amr only ever come from the signed ID token.
PROFILE_CLAIMS = ("email", "email_verified", "name", "given_name", "family_name", "preferred_username")
NAME_CLAIMS = ("name", "given_name", "family_name")
MAX_TEXT = 320


@dataclass(frozen=True)
class UpstreamTokens:
    """The directory's token response: the raw (unvalidated) ID token and the access token that
    its userinfo endpoint accepts (None when it sent none)."""

    id_token: str
    access_token: str | None


def _text(value: Any) -> str:
    return " ".join(value.split())[:MAX_TEXT] if isinstance(value, str) else ""


def lacks_profile(claims: dict[str, Any]) -> bool:
    """True when the ID token has no e-mail or no name. A provider may keep these for userinfo
    (OpenID Connect Core 5.4: with the code flow, scope claims come from the userinfo endpoint),
    as this service's own OpenID Provider does."""
    return not _text(claims.get("email")) or not any(_text(claims.get(name)) for name in NAME_CLAIMS)


def merge_userinfo(claims: dict[str, Any], userinfo: dict[str, Any]) -> dict[str, Any]:
    """The ID token's claims, with the profile claims it lacks taken from the userinfo response.

    Raises FederationError("userinfo_subject") unless the response's `sub` is exactly the ID
    token's (OpenID Connect Core 5.3.2: otherwise the response must not be used, it may describe
    someone else). The ID token wins for every claim it has; a value of the wrong type is ignored.
    """
    sub = userinfo.get("sub")
    if not isinstance(sub, str) or sub != claims.get("sub"):
        raise FederationError("userinfo_subject", f"userinfo sub {str(sub)[:80]!r} is not the ID token's")
    merged = dict(claims)
    for name in PROFILE_CLAIMS:
        if merged.get(name) not in (None, ""):
            continue
        value = userinfo.get(name)
        if name == "email_verified":
            if isinstance(value, bool):
                merged[name] = value
        elif _text(value):
            merged[name] = _text(value)
    return merged


def link_label(claims: dict[str, Any], subject: str) -> str:
    """What the owner recognises a linked directory account by: its e-mail, else its user name,
    else its name; the directory's subject id only when it gave none of them."""
    for name in ("email", "preferred_username", "name"):
        if text := _text(claims.get(name)):
            return text
    return subject[:MAX_TEXT]


def display_name(claims: dict[str, Any]) -> str:
    """The person's name as the directory gives it (`name`, else given and family names), or ""."""
    if text := _text(claims.get("name")):
        return text
    return " ".join(t for t in (_text(claims.get("given_name")), _text(claims.get("family_name"))) if t)
