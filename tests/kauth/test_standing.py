"""Decision 0609 for the phone app: a locked account's devices go on; a disabled account's
devices are refused (403 account_unavailable), a deleted account's are gone with it."""

from __future__ import annotations

import pytest

from tests.standing import STANDINGS
from tests.standing import put_in
from tests.standing import works


@pytest.mark.parametrize("standing", STANDINGS)
def test_a_devices_signed_requests_follow_the_account_standing(make_user, phone_for, services, standing):
    person = make_user()
    phone = phone_for(person)
    assert phone.call("GET", "/challenges").status_code == 200
    put_in(services, person.id, standing)
    response = phone.call("GET", "/challenges")
    if works("kauth_device", standing):
        assert response.status_code == 200
    elif standing == "deleted":  # the device went with the account
        assert response.status_code == 401 and response.json["error"] == "unknown_device"
    else:
        assert response.status_code == 403 and response.json["error"] == "account_unavailable"


@pytest.mark.parametrize("standing", ["locked", "disabled"])
def test_a_device_can_be_enrolled_while_locked_but_not_while_disabled(make_user, services, kauth, client, clock,
                                                                      standing):
    from tests.kauth.conftest import Phone

    person = make_user()
    enrolment = kauth.start_enrolment(services.users.get(person.id))
    put_in(services, person.id, standing)
    response = Phone(client, clock).enrol(enrolment.token)
    assert response.status_code == (201 if works("kauth_device", standing) else 401)
