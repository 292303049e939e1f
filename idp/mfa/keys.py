"""Security keys and passkeys (WebAuthn): registration, names, removal, and the assertion ceremonies."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from idp.clock import Clock
from idp.errors import N_
from idp.errors import NotFoundError
from idp.errors import ValidationError
from idp.events import EventRecorder
from idp.events import EventTag
from idp.events import Product
from idp.mfa.model import Credential
from idp.mfa.ports import MfaStore
from idp.mfa.ports import ShortLivedStore
from idp.mfa.webauthn import Registered
from idp.mfa.webauthn import RelyingParty
from idp.mfa.webauthn import WebAuthnError
from idp.mfa.webauthn import parse_response
from idp.mfa.webauthn import user_handle_of
from idp.model import RequestContext
from idp.model import User

KINDS = ("security_key", "passkey")
MAX_NAME = 64


def clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(N_("Give it a name, like “Blue key” or “Work laptop”."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(N_("The name can have at most %(count)s characters."), field="name", count=MAX_NAME)
    return name


def amr_for(credential: Credential, user_verified: bool) -> list[str]:
    """RFC 8176: `hwk` when the key cannot leave its authenticator, `swk` for a synced
    (backup-eligible) passkey whose key material is copied between devices; `user` when the
    authenticator verified the person (PIN or biometrics)."""
    methods = ["swk" if credential.backup_eligible else "hwk"]
    if user_verified:
        methods.append("user")
    return methods


@dataclass(frozen=True)
class VerifiedRegistration:
    """A browser's answer to a registration challenge, verified, waiting to be stored."""

    registered: Registered
    kind: str
    name: str


class SecurityKeys:
    """Accounts' WebAuthn credentials. Every challenge waits in Redis `challenge_ttl` seconds
    and is taken when answered, so each works once."""

    def __init__(
        self, *, sql: MfaStore, cache: ShortLivedStore, rp: RelyingParty, events: EventRecorder, clock: Clock,
        challenge_ttl: int,
    ) -> None:
        self.sql, self.cache, self.rp, self.events, self.clock = sql, cache, rp, events, clock
        self.challenge_ttl = challenge_ttl

    def of(self, user: User) -> list[Credential]:
        return self.sql.credentials(user.id)

    # -- registration ------------------------------------------------------------------------

    def _handle(self, user: User) -> str:
        return self.sql.handle(user.id, new_handle=secrets.token_urlsafe(32), now=self.clock.now())

    def begin_registration(self, user: User, kind: str) -> str:
        """Options for `navigator.credentials.create()`; the challenge waits in Redis, single use."""
        if kind not in KINDS:
            raise ValidationError(N_("Unknown kind of authenticator."), field="kind")
        options, challenge = self.rp.registration_options(
            user_handle=self._handle(user), user_name=user.email, display_name=user.display_name,
            exclude=[c.credential_id for c in self.sql.credentials(user.id)], passkey=kind == "passkey",
        )
        self.cache.put(
            self.cache.user_key(user.id, "webauthn:register"),
            json.dumps({"challenge": challenge, "kind": kind}), self.challenge_ttl,
        )
        return options

    def verify_registration(self, user: User, raw: str | None, name: str | None) -> VerifiedRegistration:
        """Verify the browser's answer against the pending challenge (taken: it works once);
        nothing is stored yet."""
        name = clean_name(name)
        response = parse_response(raw)
        pending = self.cache.take(self.cache.user_key(user.id, "webauthn:register"))
        if pending is None:
            raise WebAuthnError("no pending registration")
        state: dict[str, Any] = json.loads(pending)
        kind = state["kind"]
        registered = self.rp.verify_registration(response, challenge=state["challenge"], passkey=kind == "passkey")
        return VerifiedRegistration(registered, kind, name)

    def add(self, user: User, verified: VerifiedRegistration, ctx: RequestContext) -> Credential:
        """Store a verified credential; one already registered (to anyone) is refused."""
        registered, kind, name = verified.registered, verified.kind, verified.name
        credential = self.sql.add_credential(
            user.id, credential_id=registered.credential_id, public_key=registered.public_key,
            sign_count=registered.sign_count, kind=kind, name=name, aaguid=registered.aaguid,
            backup_eligible=registered.backup_eligible, transports=registered.transports, now=self.clock.now(),
        )
        if credential is None:
            raise ValidationError(N_("This authenticator is already registered."), field="credential")
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_ADDED, ctx=ctx, user_id=user.id,
            details={"credential": credential.id, "kind": kind, "name": name},
        )
        return credential

    # -- names and removal -------------------------------------------------------------------

    def owned(self, user: User, cred_id: int) -> Credential:
        for credential in self.sql.credentials(user.id):
            if credential.id == cred_id:
                return credential
        raise NotFoundError("no such authenticator")

    def rename(self, user: User, cred_id: int, name: str | None, ctx: RequestContext) -> None:
        name = clean_name(name)
        credential = self.owned(user, cred_id)
        self.sql.rename(user.id, cred_id, name)
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_RENAMED, ctx=ctx, user_id=user.id,
            details={"credential": cred_id, "old": credential.name, "name": name},
        )

    def remove(self, user: User, cred_id: int, ctx: RequestContext) -> Credential:
        credential = self.owned(user, cred_id)
        if not self.sql.delete_credential(user.id, cred_id):
            raise NotFoundError("no such authenticator")
        self.events.record_event(
            EventTag.MFA_WEBAUTHN_REMOVED, ctx=ctx, user_id=user.id,
            details={"credential": cred_id, "kind": credential.kind, "name": credential.name},
        )
        return credential

    # -- assertions: second factor, passkey sign-in, re-authentication -----------------------

    def _allowed(self, user: User) -> list[tuple[str, list[str]]]:
        return [(c.credential_id, c.transports) for c in self.sql.credentials(user.id)]

    def begin_assertion(self, user: User, flow_id: str) -> str:
        """Options for `navigator.credentials.get()` limited to this account's credentials; the
        challenge is bound to the sign-in flow."""
        options, challenge = self.rp.authentication_options(allow=self._allowed(user), passkey=False)
        self.cache.put(self.cache.token_key("webauthn:flow", flow_id), challenge, self.challenge_ttl)
        return options

    def finish_assertion(self, user: User, flow_id: str, raw: str | None) -> list[str]:
        """Verify the answer for this flow's challenge (taken once); returns its `amr` values.
        A credential of another account, an unknown one, a wrong origin, a reused challenge and
        a sign counter that did not go forward all raise WebAuthnError."""
        return self._finish_for(user, self.cache.token_key("webauthn:flow", flow_id), raw)

    def reauth_options(self, user: User) -> str | None:
        """Options to confirm a signed-in person with one of their keys (None without keys)."""
        allow = self._allowed(user)
        if not allow:
            return None
        options, challenge = self.rp.authentication_options(allow=allow, passkey=False)
        self.cache.put(self.cache.user_key(user.id, "webauthn:reauth"), challenge, self.challenge_ttl)
        return options

    def finish_reauth(self, user: User, raw: str | None) -> list[str]:
        """Verify the answer to the re-authentication challenge (taken once); returns its `amr`."""
        return self._finish_for(user, self.cache.user_key(user.id, "webauthn:reauth"), raw)

    def _finish_for(self, user: User, key: str, raw: str | None) -> list[str]:
        response = parse_response(raw)
        challenge = self.cache.take(key)
        if challenge is None:
            raise WebAuthnError("no pending challenge")
        credential = self.sql.credential(response["rawId"])
        if credential is None or credential.user_id != user.id:
            raise WebAuthnError("unknown credential")
        return self._assert(credential, response, challenge, passkey=False)

    def begin_passkey(self, token: str) -> str:
        """Options for signing in with a passkey alone: any discoverable credential, user
        verification required. The challenge is bound to a random token the browser keeps."""
        options, challenge = self.rp.authentication_options(allow=None, passkey=True)
        self.cache.put(self.cache.token_key("webauthn:passkey", token), challenge, self.challenge_ttl)
        return options

    def finish_passkey(self, token: str, raw: str | None, ctx: RequestContext) -> tuple[int, list[str]]:
        """(user id, amr) for a verified passkey. The credential must belong to the account its
        user handle names, and the authenticator must have verified the person: possession plus
        PIN or biometrics is two factors, hence `mfa`."""
        response = parse_response(raw)
        challenge = self.cache.take(self.cache.token_key("webauthn:passkey", token))
        if challenge is None:
            raise WebAuthnError("no pending challenge")
        credential = self.sql.credential(response["rawId"])
        handle = user_handle_of(response)
        owner = self.sql.user_by_handle(handle) if handle else None
        if credential is None or owner is None or owner != credential.user_id:
            self._passkey_failed(ctx, credential.user_id if credential else None, "unknown credential")
            raise WebAuthnError("unknown credential")
        try:
            amr = self._assert(credential, response, challenge, passkey=True)
        except WebAuthnError as exc:
            self._passkey_failed(ctx, credential.user_id, exc.reason[:200])
            raise
        return credential.user_id, sorted({*amr, "mfa"})

    def _passkey_failed(self, ctx: RequestContext, user_id: int | None, reason: str) -> None:
        self.events.record_event(
            EventTag.MFA_PASSKEY_FAILED, ctx=ctx, user_id=user_id, product=Product.SIGNIN,
            details={"reason": reason},
        )

    def _assert(self, credential: Credential, response: dict[str, Any], challenge: str, *, passkey: bool) -> list[str]:
        asserted = self.rp.verify_authentication(
            response, challenge=challenge, public_key=credential.public_key, sign_count=credential.sign_count,
            passkey=passkey,
        )
        if not self.sql.record_use(
            credential.id, old_count=credential.sign_count, new_count=asserted.new_sign_count, now=self.clock.now()
        ):
            raise WebAuthnError("sign counter changed concurrently")
        return amr_for(credential, asserted.user_verified)
