"""Prometheus metrics: requests, sign-ins by outcome, lockouts (fed by the event door)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client import multiprocess

from idp.events import EventTag
from idp.model import Event

REQUESTS = Counter("idp_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("idp_http_request_seconds", "HTTP request latency", ["endpoint"])
SIGNINS = Counter("idp_signins_total", "Sign-in attempts by outcome", ["outcome"])
LOCKOUTS = Counter("idp_lockouts_total", "Accounts locked after too many failures")
UNAVAILABLE = Counter("idp_store_unavailable_total", "Requests refused because a store did not answer")

_OUTCOMES = {
    EventTag.SIGNIN_SUCCEEDED: "success",
    EventTag.SIGNIN_FAILED: "failure",
    EventTag.SIGNIN_RATE_LIMITED: "rate_limited",
}

# The events on_event counts (it is called with no other).
EVENT_TAGS = (*_OUTCOMES, EventTag.LOCKOUT_LOCKED)


def on_event(event: Event) -> None:
    outcome = _OUTCOMES.get(event.tag)  # type: ignore[call-overload]  # StrEnum keys match plain strings
    if outcome:
        SIGNINS.labels(outcome=outcome).inc()
    if event.tag == EventTag.LOCKOUT_LOCKED:
        LOCKOUTS.inc()


def render() -> bytes:
    """The exposition text; under gunicorn, summed over every worker's files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    return bytes(generate_latest())
