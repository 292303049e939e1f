"""The Registrar port: how a transfer is asked for and relaunched at the registrar, and how the
registrar's reports (failed, completed, in progress) reach us, checked the same way whether
they come through the webhook or a result file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import Protocol

from idp.domains.model import Reason
from idp.domains.model import Transfer
from idp.domains.model import parse_reason
from idp.domains.names import normalise_domain
from idp.errors import ValidationError

MAX_DETAIL = 500
REPORTED = ("failed", "completed", "in_progress")


@dataclass(frozen=True)
class Delivered:
    """A report the registrar left for us to collect (the file twin's result files): its name,
    the JSON it holds, or the problem that kept it from being read."""

    name: str
    payload: object
    problem: str | None = None


class Registrar(Protocol):
    """Where transfers are carried out. `start_transfer` and `relaunch` raise
    idp.errors.UpstreamError when the registrar did not take the request: the caller then
    changes nothing (no transfer is recorded, no fee charged, a relaunch link keeps working)."""

    def start_transfer(self, domain: str, auth_code: str, *, reference: str) -> None: ...

    def relaunch(self, transfer: Transfer, auth_code: str | None) -> None:
        """Try the transfer again; `auth_code` is the one to use (a new one, or the one kept)."""
        ...

    def pending_reports(self) -> list[Delivered]:
        """Reports waiting to be collected (result files); [] where the registrar calls the webhook."""
        ...

    def acknowledge(self, name: str, problem: str | None) -> None:
        """A collected report was applied (problem None) or refused (why), so it is not read again."""
        ...


class ReportError(ValueError):
    """A report that does not follow the format (docs/domains.md); the message says which part."""


@dataclass(frozen=True)
class Report:
    domain: str
    status: str  # one of REPORTED
    reason: Reason | None = None
    detail: str | None = None


def clean_detail(raw: object) -> str | None:
    """Free text from the registrar or an operator: control characters dropped, at most 500 characters."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ReportError("detail must be a string")
    text = "".join(c if c.isprintable() else " " for c in raw).strip()
    return text[:MAX_DETAIL] or None


def parse_report(payload: Any) -> Report:
    """`{"domain": ..., "status": "failed", "reason": <code>, "detail": ...}`, or with status
    "completed" / "in_progress"; ReportError for anything else."""
    if not isinstance(payload, dict):
        raise ReportError("the body must be a JSON object")
    unknown = set(payload) - {"domain", "status", "reason", "detail"}
    if unknown:
        raise ReportError(f"unknown fields: {', '.join(sorted(map(str, unknown)))[:200]}")
    domain, status = payload.get("domain"), payload.get("status")
    if not isinstance(domain, str):
        raise ReportError("domain must be a string")
    try:
        domain = normalise_domain(domain)
    except ValidationError as exc:
        raise ReportError(f"domain: {exc}") from None
    if status not in REPORTED:
        raise ReportError(f"status must be one of {', '.join(REPORTED)}")
    detail = clean_detail(payload.get("detail"))
    if status != "failed":
        if "reason" in payload:
            raise ReportError("reason is given only with status failed")
        return Report(domain, status, detail=detail)
    raw_reason = payload.get("reason")
    reason = parse_reason(raw_reason) if isinstance(raw_reason, str) else None
    if reason is None:
        raise ReportError(f"reason must be one of {', '.join(r.value for r in Reason)}")
    if reason is Reason.OTHER and not detail:
        raise ReportError("reason other needs a detail: the registrar's own words")
    return Report(domain, status, reason, detail)
