"""Whether a login may use a password at all, decided at the e-mail step and kept in the flow."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import Protocol

from idp.auth.flow import Flow
from idp.errors import FlowError
from idp.errors import ValidationError
from idp.model import RequestContext

# The flow's `extra` key under which a PasswordPolicy's refusal is kept.
REFUSAL_KEY = "password_refused"


class PasswordPolicy(Protocol):
    """Decides at the e-mail step whether a login may use a password at all (e.g. a domain
    whose organisation requires single sign-on). The decision is kept in the flow, so the
    password step asks no store again: a change of policy applies to sign-ins that start
    after it (a flow lives `session.signin_flow_ttl` seconds at most)."""

    name: str

    def check(self, login: str) -> dict[str, Any] | None:
        """None when `login` may use a password; else a note (JSON values) for `refuse`."""
        ...

    def refuse(self, login: str, note: dict[str, Any], ctx: RequestContext) -> ValidationError:
        """A password was sent anyway: record it, and give the error the person reads."""
        ...


def decide(flow: Flow, policies: Iterable[PasswordPolicy]) -> None:
    """Keep in the flow the first refusal of its login, if any policy refuses it."""
    flow.extra.pop(REFUSAL_KEY, None)
    for policy in policies:
        note = policy.check(flow.login)
        if note is not None:
            flow.extra[REFUSAL_KEY] = {"by": policy.name, "note": note}
            return


def refusal(flow: Flow, policy: str) -> dict[str, Any] | None:
    """The note `policy` kept in this flow when it refused the login a password."""
    refused = flow.extra.get(REFUSAL_KEY)
    return refused["note"] if isinstance(refused, dict) and refused.get("by") == policy else None


def allow_password(flow: Flow, policies: Iterable[PasswordPolicy], ctx: RequestContext) -> None:
    """Raise the refusing policy's error when the e-mail step refused this login a password."""
    refused = flow.extra.get(REFUSAL_KEY)
    if not refused:
        return
    policy = next((p for p in policies if p.name == refused.get("by")), None)
    if policy is None:  # a policy no longer installed: decide again from the e-mail step
        raise FlowError("this sign-in has expired")
    raise policy.refuse(flow.login, refused.get("note") or {}, ctx)
