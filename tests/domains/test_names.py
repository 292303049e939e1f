"""Domain names are normalised to their IDNA ASCII form in lower case; anything that is not a
transferable name is refused with what is wrong."""

from __future__ import annotations

import pytest

from idp.domains.names import check_auth_code
from idp.domains.names import display_name
from idp.domains.names import normalise_domain
from idp.errors import ValidationError


@pytest.mark.parametrize(("typed", "stored", "shown"), [
    ("Example.CH", "example.ch", "example.ch"),
    ("  example.ch.  ", "example.ch", "example.ch"),
    ("Bücher.ch", "xn--bcher-kva.ch", "bücher.ch"),
    ("xn--bcher-kva.ch", "xn--bcher-kva.ch", "bücher.ch"),
    ("ＥＸＡＭＰＬＥ．ｃｈ", "example.ch", "example.ch"),  # full-width forms, mapped by UTS 46
    ("例え.jp", "xn--r8jz45g.jp", "例え.jp"),
    ("shop.example.co.uk", "shop.example.co.uk", "shop.example.co.uk"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai", "пример.рф"),
])
def test_names_are_normalised(typed, stored, shown):
    assert normalise_domain(typed) == stored
    assert display_name(stored) == shown


@pytest.mark.parametrize("typed", [
    "", "   ", "localhost", "example", "example..ch", ".example.ch", "exa mple.ch", "example.ch/path",
    "http://example.ch", "user@example.ch", "example.ch:443", "*.example.ch", "-example.ch", "example-.ch",
    "ex_ample.ch", "example.c", "example.1ch", "192.168.1.1", "example.local", "example.onion", "www.example.ch",
    "a" * 64 + ".ch", "xn--abc.ch", "example.xn--", "\x00.ch", "a" * 400,
])
def test_bad_names_are_refused_with_a_field(typed):
    with pytest.raises(ValidationError) as refused:
        normalise_domain(typed)
    assert refused.value.field == "domain" and str(refused.value)


def test_authorisation_codes():
    assert check_auth_code("  Ab3$kL9-pQ ") == "Ab3$kL9-pQ"
    assert check_auth_code("x" * 64) == "x" * 64
    for bad in ("", "12345", "x" * 65, "two words", "tab\there", "naïve-code", "new\nline-code"):
        with pytest.raises(ValidationError) as refused:
            check_auth_code(bad)
        assert refused.value.field == "auth_code"
