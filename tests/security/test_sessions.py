"""Session service hooks and listing."""

from __future__ import annotations

from idp.model import RequestContext

CTX = RequestContext(ip="192.0.2.1", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")


def test_every_ended_session_is_announced_once(services, make_user):
    person = make_user()
    seen = []
    services.sessions.on_end.append(lambda s: seen.append(s.handle))
    _, a = services.sessions.create(person.id, CTX, amr=["pwd"])
    _, b = services.sessions.create(person.id, CTX, amr=["pwd"])
    _, c = services.sessions.create(person.id, CTX, amr=["pwd"])
    assert services.sessions.end(person.id, a.handle, CTX)
    assert services.sessions.end_all(person.id, CTX, keep=c) == 1
    services.sessions.logout(c, CTX)
    assert seen == [a.handle, b.handle, c.handle]
    assert services.sessions.list(person.id) == []


def test_sessions_are_listed_newest_first_with_their_device(services, make_user, clock):
    person = make_user()
    services.sessions.create(person.id, CTX, amr=["pwd"])
    clock.advance(minutes=2)
    _, newest = services.sessions.create(person.id, RequestContext(ip="192.0.2.7", user_agent=""), amr=["pwd"])
    listed = services.sessions.list(person.id)
    assert listed[0].handle == newest.handle
    assert listed[1].device.startswith("Firefox 120")
    assert not services.sessions.end(person.id, "unknown-handle", CTX)
