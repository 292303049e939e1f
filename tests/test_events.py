"""The activity log's door: subscribers hear the events they subscribed to, and only those."""

from __future__ import annotations

from typing import Any

from idp.events import EventTag
from idp.model import RequestContext


def test_a_subscriber_with_tags_hears_only_those(services: Any) -> None:
    everything: list[str] = []
    signins: list[str] = []
    services.events.subscribe(lambda e: everything.append(e.tag))
    services.events.subscribe(lambda e: signins.append(e.tag), [EventTag.SIGNIN_FAILED])
    services.events.record_event(EventTag.SIGNIN_FAILED, ctx=RequestContext(ip="198.51.100.1", user_agent=""))
    services.events.record_event(EventTag.OIDC_TOKEN_ISSUED, product="client")
    assert everything == ["account:signin:failed", "oidc:token:issued"]
    assert signins == ["account:signin:failed"]


def test_wants_tells_whether_anyone_listens(services: Any) -> None:
    # The built-in subscribers (metrics, sign-in mail) listen to sign-in events, not to tokens.
    assert services.events.wants(EventTag.SIGNIN_SUCCEEDED)
    assert not services.events.wants(EventTag.OIDC_TOKEN_ISSUED)
    services.events.subscribe(lambda e: None)
    assert services.events.wants(EventTag.OIDC_TOKEN_ISSUED)


def test_values_are_what_record_event_stores(services: Any) -> None:
    ctx = RequestContext(ip="203.0.113.5", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    values = services.events.values(EventTag.OIDC_TOKEN_ISSUED, ctx=ctx, product="client", details={"a": 1})
    stored = services.events.record_event(EventTag.OIDC_TOKEN_ISSUED, ctx=ctx, product="client", details={"a": 1})
    assert {k: getattr(stored, k) for k in values} == values
