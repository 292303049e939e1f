"""Signing keys: generated here, stored with the private part encrypted, rotated and pruned; the JWKS."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from typing import Protocol

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey

from idp.clock import Clock
from idp.crypto import SecretBox
from idp.oidc.records import KeyRecord

SUPPORTED = ("RS256", "ES256")


# Seconds a relying party may keep our JWKS (its Cache-Control max-age).
JWKS_MAX_AGE = 60
# Seconds between two key reloads caused by tokens that do not verify against the loaded set.
RELOAD_ON_MISS = 5


class KeyStore(Protocol):
    def add(self, *, kid: str, alg: str, private_jwk: str, public_jwk: dict[str, Any], now: dt.datetime,
            activates_at: dt.datetime) -> None: ...
    def all(self) -> list[KeyRecord]: ...
    def retire(self, kids: list[str], at: dt.datetime) -> None: ...
    def prune(self, retired_before: dt.datetime) -> list[str]: ...


class InvalidSignature(Exception):
    """A JWT that is not signed by one of our published keys (or is malformed)."""


@dataclass(frozen=True)
class _Signer:
    key: RSAKey | ECKey
    activates_at: dt.datetime
    retires_at: dt.datetime | None

    def signs_at(self, now: dt.datetime) -> bool:
        return self.activates_at <= now and (self.retires_at is None or now < self.retires_at)


@dataclass(frozen=True)
class _Loaded:
    signers: dict[str, tuple[_Signer, ...]]  # alg -> keys that sign or will, newest activation last
    public: KeySet  # every published key, public parts only
    jwks: dict[str, Any]
    loaded_at: dt.datetime
    jwks_body: bytes = b""  # the JWKS serialised once per load, served as is
    jwks_etag: str = ""


class KeyService:
    """Each algorithm has one signing key at a time, named by its `kid` in every header.

    Rotation has two phases, so that no JWKS served by any process of any host omits a key that
    some process signs with. `rotate()` publishes the new keys at once and they sign only after
    `activation_delay`: longer than any process keeps its key set (`cache_seconds`, plus as long
    again for a set served while a reload runs) and than a relying party keeps our JWKS
    (`JWKS_MAX_AGE`). The old keys sign until then, and stay published so tokens they signed still
    verify, until `prune()` drops those retired longer ago than the longest token lifetime.

    Caches age by the injected clock.
    """

    def __init__(
        self, store: KeyStore, box: SecretBox, clock: Clock, *, algorithms: list[str], rsa_size: int,
        cache_seconds: int, max_token_lifetime: int,
    ) -> None:
        self.store, self.box, self.clock = store, box, clock
        self.algorithms = [a for a in algorithms if a in SUPPORTED]
        self.rsa_size, self.cache_seconds = rsa_size, cache_seconds
        self.max_token_lifetime = max_token_lifetime
        self.activation_delay = dt.timedelta(seconds=2 * cache_seconds + JWKS_MAX_AGE + 10)
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        # Parsed private keys by kid. A kid names one key for ever (the private part never
        # changes), so the parse (an RSA import validates the key: tens of milliseconds) is done
        # once per process instead of at every reload; keys no longer listed are dropped.
        self._private: dict[str, RSAKey | ECKey] = {}

    # -- generation and lifecycle -------------------------------------------------------

    def _generate(self, alg: str, activates_at: dt.datetime) -> str:
        now = self.clock.now()
        kid = f"{now:%Y%m%d}-{alg.lower()}-{secrets.token_hex(4)}"
        params = {"kid": kid, "use": "sig", "alg": alg}
        key: RSAKey | ECKey
        if alg == "RS256":
            key = RSAKey.generate_key(self.rsa_size, parameters=params, private=True)  # type: ignore[arg-type]
        else:
            key = ECKey.generate_key("P-256", parameters=params, private=True)  # type: ignore[arg-type]
        private = json.dumps(key.as_dict(private=True))
        self.store.add(kid=kid, alg=alg, private_jwk=self.box.encrypt(private),
                       public_jwk=key.as_dict(private=False), now=now, activates_at=activates_at)
        return kid

    def ensure(self) -> None:
        """Generate a key for every configured algorithm that has no unretired key yet; it signs
        at once (nothing else could)."""
        current = {r.alg for r in self.store.all() if r.retired_at is None}
        missing = [alg for alg in self.algorithms if alg not in current]
        for alg in missing:
            self._generate(alg, self.clock.now())
        if missing:
            self._loaded = None

    def rotate(self, *, immediately: bool = False) -> tuple[list[str], dt.datetime]:
        """Publish a new key per algorithm; it signs from the returned moment, when the keys it
        replaces retire (they stay published). `immediately` (a key thought compromised) skips
        the wait: until their caches expire, other processes may sign with the old key, and
        relying parties holding an old JWKS must fetch it again to verify the new one."""
        now = self.clock.now()
        switch = now if immediately else now + self.activation_delay
        old = [r.kid for r in self.store.all() if r.retired_at is None]
        for alg in self.algorithms:
            self._generate(alg, switch)
        self.store.retire(old, switch)
        self._loaded = None
        return old, switch

    def prune(self) -> list[str]:
        """Drop retired keys whose tokens have all expired (retired more than the longest token
        lifetime ago, plus a minute for clock skew)."""
        cutoff = self.clock.now() - dt.timedelta(seconds=self.max_token_lifetime + 60)
        dropped = self.store.prune(cutoff)
        self._loaded = None
        return dropped

    def records(self) -> list[KeyRecord]:
        return self.store.all()

    # -- use ----------------------------------------------------------------------------

    def _fresh(self, loaded: _Loaded | None, max_age: float) -> bool:
        # A clock set back makes the age negative: not fresh, read again.
        return loaded is not None and 0 <= (self.clock.now() - loaded.loaded_at).total_seconds() < max_age

    def _load(self) -> _Loaded:
        loaded = self._loaded
        if loaded is not None and self._fresh(loaded, self.cache_seconds):
            return loaded
        with self._lock:
            self.ensure()
            records = self.store.all()
            signers: dict[str, list[_Signer]] = {}
            public_keys = []
            private: dict[str, RSAKey | ECKey] = {}
            now = self.clock.now()
            for record in records:
                public_keys.append(record.public_jwk)
                if record.retired_at is not None and record.retired_at <= now:
                    continue
                key = self._private.get(record.kid)
                if key is None:
                    data = json.loads(self.box.decrypt_str(record.private_jwk))
                    key = RSAKey.import_key(data) if record.alg == "RS256" else ECKey.import_key(data)
                private[record.kid] = key
                signers.setdefault(record.alg, []).append(_Signer(key, record.activates_at, record.retired_at))
            self._private = private
            public = KeySet.import_key_set({"keys": public_keys})
            document = {"keys": public_keys}
            body = json.dumps(document, separators=(",", ":")).encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            ordered = {alg: tuple(sorted(keys, key=lambda k: k.activates_at)) for alg, keys in signers.items()}
            loaded = _Loaded(ordered, public, document, now, body, etag)
            self._loaded = loaded
            return loaded

    def _signer(self, loaded: _Loaded, alg: str) -> RSAKey | ECKey:
        """The key of `alg` that signs now: the latest activated one not yet retired."""
        now = self.clock.now()
        for wanted in (alg, "RS256"):
            current = [s for s in loaded.signers.get(wanted, ()) if s.signs_at(now)]
            if current:
                return current[-1].key
        # Every key known to this process has retired since it loaded them: read them again.
        self._loaded = None
        fresh = self._load()
        current = [s for s in fresh.signers.get("RS256", ()) if s.signs_at(now)]
        if not current:
            raise RuntimeError("no signing key is active")
        return current[-1].key

    def jwks(self) -> dict[str, Any]:
        return self._load().jwks

    def jwks_document(self) -> tuple[bytes, str]:
        """(JSON body, strong ETag) of the JWKS, built once per key load: at most
        `cache_seconds` old in this process, and reloaded at once after rotate/prune here."""
        loaded = self._load()
        return loaded.jwks_body, loaded.jwks_etag

    def sign(self, claims: dict[str, Any], *, alg: str = "RS256", typ: str = "JWT") -> str:
        """A JWS over `claims` with the active key of `alg`, its `kid` named in the header."""
        key = self._signer(self._load(), alg)
        alg = key.get("alg") or alg  # type: ignore[assignment]
        header = {"alg": alg, "kid": key.kid, "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def verify(self, token: str, *, typ: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(header, claims) of a token signed by one of our published keys; raises InvalidSignature.
        Checks only the signature and `typ`; the caller checks the claims it relies on."""
        if not token or len(token) > 8192:
            raise InvalidSignature("empty or oversized token")
        try:
            return _decode(token, self._load().public, typ)
        except InvalidSignature:
            # An unknown kid may be a key another process just created (`rotate(immediately=True)`;
            # otherwise every process knows a key long before it signs): read the keys again, but
            # at most once per RELOAD_ON_MISS seconds, so forged tokens cannot make each request
            # cost SQL.
            if self._fresh(self._loaded, min(RELOAD_ON_MISS, self.cache_seconds)):
                raise
            self._loaded = None
            return _decode(token, self._load().public, typ)

    def cached(self) -> bool:
        """Whether the keys are loaded and fresh, so `sign` and `verify_cached` need no database."""
        return self._fresh(self._loaded, self.cache_seconds)

    def verify_cached(self, token: str, *, typ: str | None = None) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """`verify` against the keys already loaded, even if older than the cache lifetime, never
        reading the database: None when the token does not verify or no keys are loaded (the
        caller then asks `verify`, which reloads). An old set is safe to verify with: keys are only
        added, and a key is pruned only after every token it signed has expired."""
        loaded = self._loaded
        if not token or len(token) > 8192 or loaded is None:
            return None
        try:
            return _decode(token, loaded.public, typ)
        except InvalidSignature:
            return None

    def jwks_cached(self) -> tuple[bytes, str] | None:
        """`jwks_document()` as last loaded, while a reload may be under way: at most twice the
        cache lifetime old (the bound `activation_delay` counts on), else None (the caller then
        asks `jwks_document`, which reloads). An idle process never serves a set from long ago."""
        loaded = self._loaded
        if loaded is None or not self._fresh(loaded, 2 * self.cache_seconds):
            return None
        return loaded.jwks_body, loaded.jwks_etag

    def reload_now(self) -> None:
        """Read the keys again at once (after a change made by another process)."""
        self._loaded = None
        self._load()

    def reload_if_stale(self) -> None:
        """Read the keys again if the cache lifetime has passed (blocking: run it off the loop)."""
        self._load()


def _decode(token: str, public: KeySet, typ: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        decoded = jwt.decode(token, public, algorithms=list(SUPPORTED))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise InvalidSignature(str(exc)) from None
    header = dict(decoded.header)
    if typ is not None and str(header.get("typ", "")).lower() not in (typ, f"application/{typ}"):
        raise InvalidSignature("unexpected token type")
    return header, dict(decoded.claims)
