"""The sign-in's record: where one attempt stands, kept server-side under a flow id, and its store."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from email_validator import EmailNotValidError
from email_validator import validate_email

from idp.errors import N_
from idp.errors import FlowError
from idp.errors import ValidationError
from idp.foundation.sessions import BrowserSession

MAX_LOGIN_LENGTH = 320
MAX_FLOW_ID_LENGTH = 64


class FlowStore(Protocol):
    def put(self, digest: str, state: dict[str, Any], ttl: int) -> None: ...
    def get(self, digest: str) -> dict[str, Any] | None: ...
    def replace(self, digest: str, state: dict[str, Any]) -> bool: ...
    def take(self, digest: str) -> dict[str, Any] | None: ...
    def claim(self, digest: str) -> tuple[dict[str, Any], int] | None: ...
    def give_back(self, digest: str, state: dict[str, Any], ttl_ms: int) -> None: ...


@dataclass
class Flow:
    """Where one sign-in attempt stands. `step` is identify, password or factor."""

    id: str
    step: str = "identify"
    login: str = ""
    user_id: int | None = None
    next: str | None = None
    amr: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # The ways this sign-in was proven, in order, for people ("password", "recovery"...: the
    # labels are in idp.words); `amr` says the same to applications in RFC 8176's coarser terms.
    methods: list[str] = field(default_factory=list)

    def state(self) -> dict[str, Any]:
        return {
            "step": self.step, "login": self.login, "user_id": self.user_id, "next": self.next,
            "amr": self.amr, "factors": self.factors, "extra": self.extra, "methods": self.methods,
        }


@dataclass(frozen=True)
class Outcome:
    """What the page does next: ask for a factor, or set the session cookie and go on."""

    flow: Flow
    session_id: str | None = None
    session: BrowserSession | None = None

    @property
    def done(self) -> bool:
        return self.session_id is not None


def flow_digest(flow_id: str) -> str:
    """The flow's key in its store: a copy of Redis gives no flow id that the cookie could carry."""
    return hashlib.sha256(flow_id.encode()).hexdigest()


def normalise_login(login: str) -> str:
    """A syntactically valid e-mail address, or ValidationError (no DNS lookup)."""
    login = login.strip()
    if not login:
        raise ValidationError(N_("Enter your e-mail address."), field="login")
    if len(login) > MAX_LOGIN_LENGTH:
        raise ValidationError(N_("This e-mail address is too long."), field="login")
    try:
        return validate_email(login, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError(N_("Enter a valid e-mail address."), field="login") from None


def _valid(flow_id: str | None) -> str:
    if not flow_id or len(flow_id) > MAX_FLOW_ID_LENGTH:
        raise FlowError("this sign-in has expired")
    return flow_id


class Flows:
    """Flows in their store, each living `ttl` seconds from its start; FlowError once one is gone."""

    def __init__(self, store: FlowStore, ttl: int) -> None:
        self.store, self.ttl = store, ttl

    def start(self, *, next_url: str | None = None, extra: dict[str, Any] | None = None) -> Flow:
        flow = Flow(id=secrets.token_urlsafe(24), next=next_url, extra=extra or {})
        self.store.put(flow_digest(flow.id), flow.state(), self.ttl)
        return flow

    def load(self, flow_id: str | None) -> Flow:
        flow_id = _valid(flow_id)
        state = self.store.get(flow_digest(flow_id))
        if state is None:
            raise FlowError("this sign-in has expired")
        return Flow(id=flow_id, **state)

    def save(self, flow: Flow) -> None:
        """Keep a flow's new state, and its remaining lifetime."""
        if not self.store.replace(flow_digest(flow.id), flow.state()):
            raise FlowError("this sign-in has expired")

    def claim(self, flow_id: str | None) -> tuple[Flow, int]:
        """Hold a flow for one attempt (read and removed in one step): the flow and its
        remaining milliseconds, for `give_back`. A racing attempt finds no flow."""
        flow_id = _valid(flow_id)
        claimed = self.store.claim(flow_digest(flow_id))
        if claimed is None:
            raise FlowError("this sign-in has expired")
        state, ttl_ms = claimed
        return Flow(id=flow_id, **state), ttl_ms

    def give_back(self, flow: Flow, ttl_ms: int) -> None:
        self.store.give_back(flow_digest(flow.id), flow.state(), ttl_ms)

    def take(self, flow_id: str) -> bool:
        """Remove a flow; False when it was gone already (it completes at most once)."""
        return self.store.take(flow_digest(flow_id)) is not None

    def abandon(self, flow_id: str | None) -> None:
        if flow_id and len(flow_id) <= MAX_FLOW_ID_LENGTH:
            self.store.take(flow_digest(flow_id))
