"""kAuth next to the other second factors: a phone counts as a factor for the last-factor rules."""

from __future__ import annotations

from idp.mfa import MFA
from tests.conftest import csrf_of
from tests.mfa.conftest import Enrol


def test_removing_the_app_is_not_the_last_factor_while_a_phone_is_enrolled(
    make_user, auth, client, services, clock, phone_for
):
    person = make_user()
    auth.sign_in(person.email, person.password)
    enrol = Enrol(services, clock)
    enrol.totp(person)
    phone_for(person)
    mfa = services.get(MFA)
    user = services.users.get(person.id)
    assert mfa.factor_count(user) == 2
    page = client.get("/mfa/totp/remove").get_data(as_text=True)
    assert "This is your last second step" not in page
    response = client.post("/mfa/totp/remove", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    # the phone still guards the account, so its recovery codes stay
    assert mfa.codes_left(user) > 0
