"""The reference device client's own checks: links, state files, notices it must not trust."""

from __future__ import annotations

import json

import pytest

from idp.kauth import client
from idp.kauth import crypto


@pytest.mark.parametrize("link", [
    "https://example.com/?server=https://x&token=abc",
    "kauth://enrol?server=ftp://x&token=abc",
    "kauth://enrol?server=https://x",
    "not a link",
])
def test_bad_enrolment_links_are_refused(link):
    with pytest.raises(ValueError, match="not a kAuth enrolment link"):
        client.parse_link(link)


def test_a_good_link_gives_server_and_token():
    assert client.parse_link("kauth://enrol?v=1&server=https%3A%2F%2Fid.example.com%2F&token=t0k") == (
        "https://id.example.com", "t0k")


def test_commands_need_an_enrolled_state(tmp_path, capsys):
    assert client.main(["--state", str(tmp_path / "none.json"), "pending"]) == 1
    assert "run enrol first" in capsys.readouterr().err


def test_an_unsigned_removal_notice_is_not_believed(tmp_path, capsys):
    state = tmp_path / "phone.json"
    server = crypto.generate_key()
    state.write_text(json.dumps({"server_public_key": crypto.encode_public_key(server.public_key())}))
    device = client.Device(state)
    forged = client.ClientError(410, {"error": "device_removed", "notice": {"type": "removed", "signature": "AAAA"}})
    assert client.removed(device, forged) == 1
    genuine = crypto.sign_notice(server, {"type": "removed", "device_id": "kd_x", "removed_at": "now", "by": "account"})
    assert client.removed(device, client.ClientError(410, {"notice": genuine})) == client.REMOVED
    assert "was removed from the account" in capsys.readouterr().out
