"""The mailbox code that links a directory account: its attempts are counted atomically in Redis,
so guesses sent in parallel get no more tries than one person typing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from idp.errors import FlowError
from idp.errors import ValidationError
from idp.federation import FEDERATION
from idp.model import RequestContext
from tests.conftest import csrf_of
from tests.conftest import events
from tests.conftest import outbox

CTX = RequestContext(ip="198.51.100.7", user_agent="guesser")


def _pending(client, services, sso, make_user):
    """A directory account claiming a local account's address: a code is mailed, a link waits."""
    sso.connect(jit=True)
    person = make_user("alice@contoso.com")
    response = sso.sign_in(client, "alice@contoso.com", "alice")
    assert response.headers["Location"] == "/sso/verify"
    with client.session_transaction() as browser:
        pending_id = browser["fed_pending"]
    [mail] = outbox(services)
    code = next(line.strip() for line in mail["body"].splitlines() if line.strip().isdigit())
    return person, pending_id, code


def _wrong(code: str, i: int) -> str:
    guess = f"{i:08d}"
    return guess if guess != code else "99999999"


def test_thirty_two_parallel_guesses_get_only_the_allowed_attempts(client, services, sso, make_user):
    person, pending_id, code = _pending(client, services, sso, make_user)
    federation = services.get(FEDERATION)
    allowed = services.settings.federation.link_code_attempts
    start = threading.Barrier(32)

    def guess(i: int) -> str:
        start.wait()
        try:
            federation.verify_code(pending_id, _wrong(code, i), CTX)
        except ValidationError:
            return "wrong"
        except FlowError:
            return "void"
        return "linked"

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(guess, range(32)))
    assert results.count("linked") == 0
    assert results.count("wrong") == allowed - 1  # the last allowed try voids the code instead
    assert results.count("void") == 32 - (allowed - 1)
    refused = [e for e in events(services, "federation:callback:refused") if e["details"].get("reason") == "wrong_code"]
    assert sorted(e["details"]["attempts"] for e in refused) == list(range(1, allowed + 1))
    # The right code is void too: no link, no session, and the key is gone from Redis.
    try:
        federation.verify_code(pending_id, code, CTX)
    except FlowError:
        pass
    else:
        raise AssertionError("the right code still linked after its attempts were spent")
    assert federation.sql.links_of(person.id) == []
    assert services.sessions.list(person.id) == []
    assert list(services.redis.scan_iter("idp:fed:pending:*")) == []


def test_two_right_codes_at_once_link_once(client, services, sso, make_user):
    person, pending_id, code = _pending(client, services, sso, make_user)
    federation = services.get(FEDERATION)
    start = threading.Barrier(2)

    def answer(_: int) -> str:
        start.wait()
        try:
            federation.verify_code(pending_id, code, CTX)
        except FlowError:
            return "refused"
        return "linked"

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(answer, range(2))) == ["linked", "refused"]
    assert len(federation.sql.links_of(person.id)) == 1
    assert len(events(services, "federation:link:created")) == 1


def test_after_the_last_wrong_code_the_page_says_start_again(client, services, sso, make_user):
    person, _pending_id, code = _pending(client, services, sso, make_user)
    allowed = services.settings.federation.link_code_attempts
    token = csrf_of(client.get("/sso/verify").get_data(as_text=True))
    for i in range(allowed - 1):
        wrong = client.post("/sso/verify", data={"csrf_token": token, "code": _wrong(code, i)})
        assert wrong.status_code == 400 and "This code is not right" in wrong.get_data(as_text=True)
    last = client.post("/sso/verify", data={"csrf_token": token, "code": _wrong(code, allowed)})
    assert last.status_code == 302 and last.headers["Location"] == "/sso"
    assert "tried too often" in client.get("/sso").get_data(as_text=True)
    assert services.get(FEDERATION).sql.links_of(person.id) == []


def test_the_right_code_on_the_last_allowed_attempt_links(client, services, sso, make_user):
    person, _pending_id, code = _pending(client, services, sso, make_user)
    allowed = services.settings.federation.link_code_attempts
    token = csrf_of(client.get("/sso/verify").get_data(as_text=True))
    for i in range(allowed - 1):
        assert client.post("/sso/verify", data={"csrf_token": token, "code": _wrong(code, i)}).status_code == 400
    right = client.post("/sso/verify", data={"csrf_token": token, "code": code})
    assert right.status_code == 302 and right.headers["Location"] == "/"
    assert len(services.get(FEDERATION).sql.links_of(person.id)) == 1
