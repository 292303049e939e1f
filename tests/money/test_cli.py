"""`idp money`, run as an operator runs it: on a fresh instance, through the `idp` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _idp(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    env["IDP_INSTANCE_PATH"] = str(tmp_path / "instance")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "idp.cli", *args], input=stdin, env=env, capture_output=True,
                              text=True, timeout=60, check=False)

    return run


def test_the_operator_adjusts_a_balance_and_meets_clear_refusals(tmp_path):
    idp = _idp(tmp_path)
    assert idp("init").returncode == 0
    assert idp("org", "create", "acme", "--name", "Acme").returncode == 0
    assert idp("money", "balance", "acme").stdout.split("\n")[:2] == ["CHF 0.00", "EUR 0.00"]
    credited = idp("money", "adjust", "acme", "chf", "12.50", "--note", "goodwill")
    assert credited.returncode == 0, credited.stderr
    assert "credit CHF 12.50 (goodwill)" in credited.stdout
    refused = idp("money", "adjust", "acme", "CHF", "20", "--debit", "--note", "too much")
    assert refused.returncode == 2 and "does not cover" in refused.stderr and "Traceback" not in refused.stderr
    for args, said in ((("adjust", "acme", "USD", "1", "--note", "x"), "CHF or EUR"),
                       (("adjust", "acme", "CHF", "1.001", "--note", "x"), "two decimals"),
                       (("adjust", "acme", "CHF", "1", "--note", " "), "Say why"),
                       (("adjust", "nope", "CHF", "1", "--note", "x"), "no such organisation"),
                       (("order-paid", "7"), "no order 7"),
                       (("payout-approve", "3"), "no payout 3")):
        result = idp("money", *args)
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, args
    assert idp("money", "balance", "acme").stdout.startswith("CHF 12.50")
    assert idp("money", "orders").stdout == "" and idp("money", "payouts", "--state", "requested").stdout == ""
