"""`[domains]` settings: the http registrar needs its URL, token and webhook secret; the fee
comes from the pricing catalogue, exactly, or stops the start-up when it cannot be priced."""

from __future__ import annotations

from decimal import Decimal

import pytest

from idp.domains.capability import transfer_fee
from idp.domains.model import Fee
from idp.errors import SettingsError
from idp.settings import load_settings


def _settings(**values):
    return load_settings(require_secret=False, **values)


def test_the_http_registrar_needs_its_settings():
    with pytest.raises(SettingsError, match="registrar_url, registrar_token, webhook_secret"):
        _settings(domains={"registrar": "http"})
    with pytest.raises(SettingsError, match="webhook_secret needs at least 32 characters"):
        _settings(domains={"webhook_secret": "short"})
    for url in ("ftp://registrar.example", "http://registrar.example/api", "https://", "registrar.example"):
        with pytest.raises(SettingsError, match="must start with https://"):
            _settings(domains={"registrar_url": url})
    assert _settings(domains={"registrar_url": "http://127.0.0.1:8080/x"}).domains.registrar_url
    with pytest.raises(SettingsError, match="currency"):
        _settings(domains={"currency": "USD"})
    ok = _settings(domains={"registrar": "http", "registrar_url": "https://registrar.example/api",
                            "registrar_token": "t", "webhook_secret": "w" * 32})
    assert ok.domains.registrar == "http"


def test_the_fee_is_read_from_the_catalogue():
    assert transfer_fee(_settings()) == Fee(Decimal("12.00"), "CHF")
    assert transfer_fee(_settings(domains={"currency": "EUR"})) == Fee(Decimal("11.00"), "EUR")
    both = _settings(pricing={"products": [
        {"code": "domain_name", "prices": {"CHF": "12.00"}},
        {"code": "domain_transfer", "prices": {"CHF": "7.5"}},
    ]})
    fee = transfer_fee(both)
    assert fee == Fee(Decimal("7.50"), "CHF") and isinstance(fee.amount, Decimal) and str(fee) == "CHF 7.50"
    assert transfer_fee(_settings(pricing={"products": [{"code": "web_hosting", "prices": {"CHF": "9.92"}}]})) is None
    with pytest.raises(SettingsError, match="domain_name has no EUR price"):
        transfer_fee(_settings(domains={"currency": "EUR"},
                               pricing={"products": [{"code": "domain_name", "prices": {"CHF": "12.00"}}]}))


@pytest.mark.parametrize("settings_overrides", [{"pricing": {"products": []}}])
def test_without_a_transfer_product_nothing_is_charged(services, cast):
    from tests.domains.conftest import request

    made = request(services, cast.admin)
    assert made.fee is None and not made.fee_charged and made.charged_at is None
