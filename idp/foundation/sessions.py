"""Browser sessions: created at sign-in, checked on every request, listed and ended by their owner."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from idp.clock import Clock
from idp.events import EventRecorder
from idp.events import EventTag
from idp.model import RequestContext
from idp.useragent import describe

log = logging.getLogger(__name__)

# Writing last-seen on every request would turn each page view into a Redis write; once a
# minute is precise enough for the sessions page and for the idle timeout.
TOUCH_EVERY = 60


def digest_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Acting:
    """A partner person acting for a client organisation in one browser session: which
    partnership, both organisations (named as they were when acting began), and the rights in
    effect as of the last request. The partners capability starts, checks (at every request)
    and ends it; the OpenID Provider tells applications (the `act` claim). It lives in the
    session's record, so it ends with the session: signing out ends it."""

    partnership_id: int
    partner_org_id: int
    partner_slug: str
    partner_name: str
    client_org_id: int
    client_slug: str
    client_name: str
    rights: tuple[str, ...]
    since: int

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "rights": list(self.rights)}

    @classmethod
    def from_dict(cls, data: object) -> Acting | None:
        """The record as stored, or None for anything else (a session without one)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                partnership_id=int(data["partnership_id"]), partner_org_id=int(data["partner_org_id"]),
                partner_slug=str(data["partner_slug"]), partner_name=str(data["partner_name"]),
                client_org_id=int(data["client_org_id"]), client_slug=str(data["client_slug"]),
                client_name=str(data["client_name"]), rights=tuple(str(r) for r in data["rights"]),
                since=int(data["since"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BrowserSession:
    digest: str
    user_id: int
    created: int
    last_seen: int
    auth_time: int
    expires: int
    ip: str
    user_agent: str
    amr: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # How the sign-in was proven, for people (idp.words.METHOD_LABELS); empty for sessions
    # opened before it was recorded.
    methods: list[str] = field(default_factory=list)
    # The client organisation a partner person acts for in this session (None: themselves).
    acting: Acting | None = None

    @property
    def handle(self) -> str:
        """A public name for this session in pages and URLs; not usable as a cookie."""
        return self.digest[:20]

    @property
    def device(self) -> str:
        return describe(self.user_agent)


class SessionStore(Protocol):
    def update(self, digest: str, fields: dict[str, Any]) -> bool: ...
    def create(self, digest: str, record: dict[str, Any], *, ttl: int, expires: int) -> None: ...
    def get(self, digest: str) -> dict[str, Any] | None: ...
    def touch(self, digest: str, *, last_seen: int, ip: str, ttl: int) -> bool: ...
    def delete(self, digest: str, user_id: int) -> bool: ...
    def list_for_user(self, user_id: int, now: int) -> list[tuple[str, dict[str, Any]]]: ...
    def delete_all(self, user_id: int, *, keep: str | None = None) -> list[str]: ...


def _session(digest: str, record: dict[str, Any]) -> BrowserSession:
    return BrowserSession(
        digest=digest,
        user_id=int(record["user_id"]),
        created=int(record["created"]),
        last_seen=int(record["last_seen"]),
        auth_time=int(record["auth_time"]),
        expires=int(record["expires"]),
        ip=str(record.get("ip", "")),
        user_agent=str(record.get("user_agent", "")),
        amr=list(record.get("amr", [])),
        extra=dict(record.get("extra", {})),
        methods=list(record.get("methods", [])),
        acting=Acting.from_dict(record.get("acting")),
    )


class SessionService:
    def __init__(
        self, store: SessionStore, events: EventRecorder, clock: Clock, *,
        idle_timeout: int, absolute_lifetime: int,
    ) -> None:
        self.store, self.events, self.clock = store, events, clock
        self.idle_timeout, self.absolute_lifetime = idle_timeout, absolute_lifetime
        # Called with each session that ends (logout, ended by its owner or an admin, all
        # sessions ended): the OpenID Provider sends back-channel logouts from here.
        self.on_end: list[Callable[[BrowserSession], None]] = []

    def _ended(self, sessions: list[BrowserSession]) -> None:
        for session in sessions:
            for hook in self.on_end:
                try:
                    hook(session)
                except Exception:
                    log.exception("session end hook failed")

    def _now(self) -> int:
        return int(self.clock.now().timestamp())

    def _ttl(self, now: int, expires: int) -> int:
        return max(1, min(self.idle_timeout, expires - now))

    def create(
        self, user_id: int, ctx: RequestContext, *, amr: list[str], auth_time: int | None = None,
        extra: dict[str, Any] | None = None, methods: list[str] | None = None,
    ) -> tuple[str, BrowserSession]:
        """A new session with a fresh random id: the id the browser held before sign-in is never reused."""
        session_id = secrets.token_urlsafe(32)
        now = self._now()
        expires = now + self.absolute_lifetime
        record = {
            "user_id": user_id,
            "created": now,
            "last_seen": now,
            "auth_time": auth_time or now,
            "ip": ctx.ip,
            "user_agent": ctx.user_agent[:512],
            "amr": amr,
            "extra": extra or {},
            "methods": methods or [],
        }
        digest = digest_of(session_id)
        self.store.create(digest, record, ttl=self._ttl(now, expires), expires=expires)
        return session_id, _session(digest, record | {"expires": expires})

    def resolve(self, session_id: str, ctx: RequestContext) -> BrowserSession | None:
        """The live session behind a cookie value, or None once it was ended or timed out."""
        if not session_id or len(session_id) > 128:
            return None
        digest = digest_of(session_id)
        record = self.store.get(digest)
        if record is None:
            return None
        session = _session(digest, record)
        now = self._now()
        if now >= session.expires or now >= session.last_seen + self.idle_timeout:
            self.store.delete(digest, session.user_id)
            return None
        due = now - session.last_seen >= TOUCH_EVERY or ctx.ip != session.ip
        if due and not self.store.touch(digest, last_seen=now, ip=ctx.ip, ttl=self._ttl(now, session.expires)):
            return None
        return session

    def reauthenticated(self, session: BrowserSession, amr: list[str]) -> BrowserSession:
        """Mark the session as freshly authenticated (auth_time = now), adding the methods used."""
        now = self._now()
        methods = sorted({*session.amr, *amr})
        self.store.update(session.digest, {"auth_time": now, "amr": methods})
        return BrowserSession(**{**session.__dict__, "auth_time": now, "amr": methods})

    def act_for(self, session: BrowserSession, acting: Acting | None) -> BrowserSession | None:
        """Record (or, with None, end) what the session acts for; the session with it, or None
        when the session ended meanwhile (nothing is written then)."""
        if not self.store.update(session.digest, {"acting": acting.as_dict() if acting else None}):
            return None
        return BrowserSession(**{**session.__dict__, "acting": acting})

    def auth_age(self, session: BrowserSession) -> int:
        """Seconds since the person last proved who they are in this session."""
        return self._now() - session.auth_time

    def list(self, user_id: int) -> list[BrowserSession]:
        now = self._now()
        sessions = [_session(d, r) for d, r in self.store.list_for_user(user_id, now)]
        live = [s for s in sessions if now < s.last_seen + self.idle_timeout]
        return sorted(live, key=lambda s: s.last_seen, reverse=True)

    def logout(self, session: BrowserSession, ctx: RequestContext) -> None:
        self.store.delete(session.digest, session.user_id)
        self.events.record_event(
            EventTag.SESSION_LOGOUT, ctx=ctx, user_id=session.user_id,
            details={"session": session.handle},
        )
        self._ended([session])

    def end(self, user_id: int, handle: str, ctx: RequestContext, *, actor_id: int | None = None) -> bool:
        """End one of the user's sessions, named by its public handle."""
        for session in self.list(user_id):
            if secrets.compare_digest(session.handle, handle):
                self.store.delete(session.digest, user_id)
                self.events.record_event(
                    EventTag.SESSION_ENDED, ctx=ctx, user_id=user_id, actor_id=actor_id,
                    details={"session": handle, "device": session.device, "ip": session.ip},
                )
                self._ended([session])
                return True
        return False

    def end_all(
        self, user_id: int, ctx: RequestContext, *, keep: BrowserSession | None = None,
        actor_id: int | None = None, reason: str = "",
    ) -> int:
        live = [s for s in self.list(user_id) if keep is None or s.digest != keep.digest]
        ended = self.store.delete_all(user_id, keep=keep.digest if keep else None)
        if ended:
            self.events.record_event(
                EventTag.SESSION_ENDED, ctx=ctx, user_id=user_id, actor_id=actor_id,
                details={"count": len(ended), "reason": reason},
            )
            self._ended([s for s in live if s.digest in ended])
        return len(ended)
