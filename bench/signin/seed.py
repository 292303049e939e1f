"""Seeds the service under test for the sign-in benchmark: accounts with a password, and accounts
with a password and an authenticator app (TOTP), written as JSON for bench/signin/run.py.

usage: (the service's IDP_* environment) .venv/bin/python bench/signin/seed.py OUT.json PASSWORD_ACCOUNTS TOTP_ACCOUNTS

Every account gets the same argon2id hash of the same password, made once with the parameters of
the environment (the server runs with the same ones, so no sign-in rehashes): a verification
costs the same whatever the salt, and hashing thousands of accounts at 64 MiB would take minutes.
TOTP accounts are enrolled with their step counter at 0, so the first code of any step is accepted.
"""

from __future__ import annotations

import json
import sys

import pyotp

from idp import create_app
from idp.mfa import MFA

PASSWORD = "bench sign-in passphrase 1"


def main(path: str, password_accounts: int, totp_accounts: int) -> None:
    app = create_app()
    container = app.extensions["idp"]
    mfa = container.get(MFA)
    password_hash = container.passwords.hash(PASSWORD)
    now = container.clock.now()

    def account(email: str) -> int:
        user = container.accounts.create_user(email, None, display_name="Bench Person")
        container.users.set_password_hash(user.id, password_hash, now)
        return int(user.id)

    plain = [f"pwd{i}@bench.example" for i in range(password_accounts)]
    for email in plain:
        account(email)
    totp = []
    for i in range(totp_accounts):
        email, secret = f"totp{i}@bench.example", pyotp.random_base32(32)
        user_id = account(email)
        mfa.sql.set_totp(user_id, secret_enc=container.secrets.encrypt(secret), step=0, now=now)
        totp.append([email, secret])
    with open(path, "w") as fh:
        json.dump({"password": PASSWORD, "password_accounts": plain, "totp_accounts": totp}, fh)
    container.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
