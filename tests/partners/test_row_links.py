"""The request link's token (idp.foundation.links.RowLinks): bound to its row and its purpose,
refused when altered, and carrying only a nonce whose digest the row keeps."""

from __future__ import annotations

import pytest

from idp.foundation.links import RowLinks

KEY = b"k" * 32


def test_a_link_reads_back_its_row_and_nonce():
    links = RowLinks(KEY, "idp partner request")
    token = links.make(42, "nonce-value")
    assert token.startswith("42.") and "nonce-value" not in token.split(".", 1)[0]
    assert links.read(token) == (42, "nonce-value")
    assert RowLinks.digest("nonce-value") == RowLinks.digest("nonce-value") != RowLinks.digest("other")
    assert len(RowLinks.digest("x")) == 64


@pytest.mark.parametrize("other", [
    RowLinks(KEY, "idp organisation invitation"),  # another purpose
    RowLinks(b"j" * 32, "idp partner request"),  # another key
])
def test_another_purpose_or_key_opens_nothing(other):
    assert other.read(RowLinks(KEY, "idp partner request").make(42, "n")) is None


def test_a_link_moved_to_another_row_opens_nothing():
    links = RowLinks(KEY, "idp partner request")
    signed = links.make(42, "n").split(".", 1)[1]
    assert links.read(f"43.{signed}") is None


@pytest.mark.parametrize("token", ["", "42", "42.", "x.abc", "-1.abc", "1" * 13 + ".abc", "4" * 301, "²3.abc"])
def test_malformed_tokens_are_refused(token):
    assert RowLinks(KEY, "p").read(token) is None
