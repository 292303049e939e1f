"""The "new device or network" notification: the device cookie, known places kept as digests and
prefixes, bounded per account, and mail only for a place not seen before."""

from __future__ import annotations

import re

import pytest

from idp.security.center import SECURITY
from idp.security.notifications import KEEP_PLACES
from idp.security.notifications import network_of
from idp.stores.security import PRUNE_SLACK
from idp.stores.security import SqlNotificationPrefStore
from idp.stores.tables_security import KnownPlaceRow
from tests.conftest import AuthActions
from tests.conftest import events
from tests.conftest import outbox
from tests.security.conftest import post_form

HOME_IP = "192.0.2.10"


def _browser(app, ip: str = HOME_IP):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ip
    return browser


def _places(services) -> list[tuple[int, str, str]]:
    with services.db.transaction() as s:
        return [(r.user_id, r.kind, r.place) for r in s.query(KnownPlaceRow).order_by(KnownPlaceRow.id)]


def _mails(services, person) -> list[dict]:
    return [m for m in outbox(services) if m["to"] == person.email]


def _choose_new(app, person):
    """Sign in at home (the first sign-in: its places become the known ones), choose "new"."""
    home = _browser(app)
    AuthActions(home).sign_in(person.email, person.password)
    assert post_form(home, "/security/notifications", {"choice": "new"}).status_code == 302
    return home


def test_the_choice_is_saved_and_recorded(app, client, auth, make_user, services):
    person = make_user()
    auth.sign_in(person.email, person.password)
    assert post_form(client, "/security/notifications", {"choice": "new"}).status_code == 302
    [changed] = events(services, "account:notifications:changed")
    assert changed["details"] == {"choice": "new"}
    html = client.get("/security/notifications").get_data(as_text=True)
    assert 'checked id="choice-1" name="choice" required type="radio" value="new"' in html


@pytest.mark.parametrize("choice", ["newest", "NEW", " new"])
def test_a_bad_choice_is_refused(client, auth, make_user, services, choice):
    person = make_user()
    auth.sign_in(person.email, person.password)
    response = post_form(client, "/security/notifications", {"choice": choice})
    assert response.status_code == 400 and "Please correct the following" in response.get_data(as_text=True)
    assert events(services, "account:notifications:changed") == []


def test_no_mail_from_a_known_device_and_network(app, make_user, services):
    person = make_user()
    home = _choose_new(app, person)
    AuthActions(home).logout()
    AuthActions(home).sign_in(person.email, person.password)
    assert _mails(services, person) == []


def test_a_new_network_is_mailed_and_named(app, make_user, services):
    person = make_user()
    home = _choose_new(app, person)
    home.environ_base["REMOTE_ADDR"] = "198.51.100.23"  # the same browser, elsewhere
    AuthActions(home).sign_in(person.email, person.password)
    [mail] = _mails(services, person)
    assert mail["subject"] == "Sign-in from a new network to your Identity account"
    assert "from a network we had not seen" in mail["body"] and "new network: 198.51.100.0/24" in mail["body"]
    assert "new device" not in mail["body"]
    # Another address of the same /24 is the same network: no second mail.
    home.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    AuthActions(home).sign_in(person.email, person.password)
    assert len(_mails(services, person)) == 1


def test_a_new_device_is_mailed_in_the_persons_language(app, make_user, services):
    person = make_user(locale="fr")
    _choose_new(app, person)
    AuthActions(_browser(app)).sign_in(person.email, person.password)  # no device cookie yet
    [mail] = _mails(services, person)
    assert mail["subject"] == "Connexion depuis un nouvel appareil à votre compte Identity"
    assert "(nouvel appareil)" in mail["body"]


def test_both_new_say_so(app, make_user, services):
    person = make_user()
    _choose_new(app, person)
    AuthActions(_browser(app, "2001:db8:aaaa:1::5")).sign_in(person.email, person.password)
    [mail] = _mails(services, person)
    assert mail["subject"] == "Sign-in from a new device and network to your Identity account"
    assert "new network: 2001:db8:aaaa::/48" in mail["body"]


def test_the_very_first_sign_in_is_not_mailed(app, make_user, services):
    person = make_user()
    services.get(SECURITY).notifications.set(services.users.get(person.id), "new", ctx=None)  # before any sign-in
    AuthActions(_browser(app)).sign_in(person.email, person.password)
    assert _mails(services, person) == []
    AuthActions(_browser(app)).sign_in(person.email, person.password)  # a second browser is new
    assert len(_mails(services, person)) == 1


def test_failed_sign_ins_are_still_mailed_with_new(app, make_user, services):
    person = make_user()
    _choose_new(app, person)
    AuthActions(_browser(app)).sign_in(person.email, "not the password")
    [mail] = _mails(services, person)
    assert mail["subject"] == "Failed sign-in to your Identity account"


def test_places_are_recorded_whatever_the_choice(app, make_user, services):
    person = make_user()  # the default choice: failed sign-ins only
    AuthActions(_browser(app)).sign_in(person.email, person.password)
    assert sorted(kind for _user, kind, _place in _places(services)) == ["device", "network"]


def test_the_device_cookie_over_http(app, make_user, services):
    person = make_user()
    browser = _browser(app)
    response = AuthActions(browser).sign_in(person.email, person.password)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("idp_device=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=34560000" in cookie and "Secure" not in cookie
    value = browser.get_cookie("idp_device").value
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    # Refreshed, same value, at the next sign-in.
    again = AuthActions(browser).sign_in(person.email, person.password)
    [cookie] = [c for c in again.headers.getlist("Set-Cookie") if c.startswith("idp_device=")]
    assert cookie.startswith(f"idp_device={value};")


def test_only_a_digest_of_the_cookie_is_stored(app, make_user, services):
    person = make_user()
    browser = _browser(app)
    AuthActions(browser).sign_in(person.email, person.password)
    value = browser.get_cookie("idp_device").value
    [(device,)] = [(p,) for _u, kind, p in _places(services) if kind == "device"]
    assert re.fullmatch(r"[0-9a-f]{64}", device) and value not in device
    assert value not in repr(_places(services)) and value not in repr(events(services))


def test_a_malformed_device_cookie_is_replaced(app, make_user, services):
    person = make_user()
    browser = _browser(app)
    browser.set_cookie("idp_device", "x" * 3000)
    response = AuthActions(browser).sign_in(person.email, person.password)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("idp_device=")]
    assert re.match(r"idp_device=[A-Za-z0-9_-]{43};", cookie)


@pytest.fixture
def settings_overrides():
    return {}


@pytest.mark.parametrize("settings_overrides", [{"server": {"base_url": "https://id.example.com"}}])
def test_the_device_cookie_over_https_is_host_only_and_secure(client, auth, make_user):
    person = make_user()
    client.environ_base["wsgi.url_scheme"] = "https"
    response = auth.sign_in(person.email, person.password)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-idp_device=")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


def test_places_are_bounded_per_account_and_the_oldest_go(make_user, services, clock):
    """Each kind keeps its KEEP_PLACES most recently seen places; the oldest go in one DELETE
    once a kind is PRUNE_SLACK past the bound. A place seen again after a day counts as recent."""
    person, other = make_user(), make_user()
    store = SqlNotificationPrefStore(services.db)
    store.signed_in(other.id, {"device": "theirs", "network": "203.0.113.0/24"}, now=clock.now(), keep=KEEP_PLACES)
    for i in range(KEEP_PLACES + PRUNE_SLACK + 5):
        clock.advance(seconds=1)
        if i == 30:
            clock.advance(days=1)
            store.signed_in(person.id, {"device": "d0"}, now=clock.now(), keep=KEEP_PLACES)  # seen again: recent
        store.signed_in(person.id, {"device": f"d{i}", "network": f"10.{i}.0.0/24"}, now=clock.now(), keep=KEEP_PLACES)
        mine = [kind for user, kind, _place in _places(services) if user == person.id]
        assert mine.count("device") <= KEEP_PLACES + PRUNE_SLACK
    mine = [(kind, place) for user, kind, place in _places(services) if user == person.id]
    devices = {place for kind, place in mine if kind == "device"}
    networks = {place for kind, place in mine if kind == "network"}
    # Pruned once, at the 61st, down to 50; four more since.
    assert len(devices) == len(networks) == KEEP_PLACES + 4
    assert "d0" in devices and {f"d{i}" for i in range(1, 12)}.isdisjoint(devices) and "d12" in devices
    assert "10.10.0.0/24" not in networks and "10.11.0.0/24" in networks
    assert len([1 for user, *_ in _places(services) if user == other.id]) == 2  # others untouched


@pytest.mark.parametrize(("ip", "network"), [
    ("192.0.2.77", "192.0.2.0/24"),
    ("::ffff:192.0.2.77", "192.0.2.0/24"),
    ("2001:db8:1:2:3::4", "2001:db8:1::/48"),
    ("unknown", None),
    ("", None),
])
def test_network_of(ip, network):
    assert network_of(ip) == network


def test_a_known_place_is_written_again_at_most_once_a_day(app, make_user, services, clock):
    """A sign-in from a known device and network reads them and writes nothing, until a day has
    passed: the most recent places are the ones kept, and the sign-in's path stays one statement."""
    from sqlalchemy import event

    person = make_user()
    home = _browser(app)
    AuthActions(home).sign_in(person.email, person.password)
    writes: list[str] = []

    def count(conn, cursor, statement, *args):
        if "security_known_places" in statement and statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement)

    engine = services.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        AuthActions(home).logout()
        AuthActions(home).sign_in(person.email, person.password)
        assert writes == []
        clock.advance(days=1, seconds=1)  # the session has ended meanwhile: sign in again
        AuthActions(home).sign_in(person.email, person.password)
        assert len(writes) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with services.db.transaction() as s:
        seen = {r.kind: r.last_seen for r in s.query(KnownPlaceRow).filter_by(user_id=person.id)}
    assert set(seen) == {"device", "network"}
    assert all(moment == clock.now() for moment in seen.values())
