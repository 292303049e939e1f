"""Domain transfers' declaration: its composition root (the only place that builds its stores
and picks its registrar)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from idp.account.org_rules import OrgAct
from idp.capability import DELEGATED_ACCESS
from idp.capability import Capability
from idp.crypto import Purpose
from idp.crypto import derive
from idp.domains import DOMAINS
from idp.domains.api import bp as api_bp
from idp.domains.cli import domain_group
from idp.domains.file_registrar import FileRegistrar
from idp.domains.http_registrar import HttpRegistrar
from idp.domains.links import RelaunchLinks
from idp.domains.model import CENT
from idp.domains.model import Fee
from idp.domains.receiver import WebhookReceiver
from idp.domains.registrar import Registrar
from idp.domains.reports import Reports
from idp.domains.service import DomainService
from idp.domains.views import bp as pages_bp
from idp.errors import N_
from idp.errors import SettingsError
from idp.settings import Settings
from idp.stores.domains import RedisWebhookReplays
from idp.stores.domains import SqlDomainStore
from idp.stores.orgs import SqlOrganisationStore
from idp.stores.redis import Keys
from idp.web.nav import OrgPage

if TYPE_CHECKING:
    from idp.container import Container

# The catalogue's products that price a transfer, the first one found wins.
FEE_PRODUCTS = ("domain_transfer", "domain_name")


def transfer_fee(settings: Settings) -> Fee | None:
    """The fee from the `[pricing]` catalogue (read through the settings, in `domains.currency`);
    None when it has no transfer product. A product without a price in that currency stops the
    start-up, so a transfer is never charged a guessed amount."""
    currency = settings.domains.currency
    products = {p.code: p for p in settings.pricing.products}
    for code in FEE_PRODUCTS:
        product = products.get(code)
        if product is None:
            continue
        amount = product.prices.get(currency)
        if amount is None:
            raise SettingsError(f"invalid configuration:\n  pricing: {code} has no {currency} price (domains.currency)")
        return Fee(Decimal(amount).quantize(CENT), currency)
    return None


def build_registrar(container: Container) -> Registrar:
    conf = container.settings.domains
    if conf.registrar == "http":
        return HttpRegistrar(conf.registrar_url, conf.registrar_token.get_secret_value(),
                             timeout=conf.registrar_timeout, ca_bundle=conf.ca_bundle)
    folder = Path(conf.folder) if conf.folder else container.settings.instance_path / "registrar"
    return FileRegistrar(folder, container.clock)


def build(container: Container) -> DomainService:
    settings = container.settings
    conf = settings.domains
    store, orgs = SqlDomainStore(container.db), SqlOrganisationStore(container.db)
    registrar = build_registrar(container)
    key = derive(settings.secret_key.get_secret_value() or "testing-only", Purpose.DOMAIN_RELAUNCH_LINK)
    links = RelaunchLinks(key, container.clock, conf.link_ttl)
    reports = Reports(store=store, orgs=orgs, registrar=registrar, events=container.events, mail=container.mail,
                      clock=container.clock, links=links, base_url=settings.server.base_url,
                      link_days=max(1, conf.link_ttl // 86400), unit=container.db.unit)
    webhook = WebhookReceiver(reports, RedisWebhookReplays(container.redis, Keys(settings.redis.key_prefix)),
                              container.clock, secret=conf.webhook_secret.get_secret_value(),
                              tolerance=conf.webhook_tolerance)
    return DomainService(
        store=store, orgs=orgs, registrar=registrar, reports=reports, events=container.events, clock=container.clock,
        links=links, box=container.secrets, ratelimit=container.ratelimit, webhook=webhook,
        # Read at each request: idp.partners offers it once every capability is built.
        delegated=lambda: container.find(DELEGATED_ACCESS), fee=transfer_fee(settings),
    )


# Linked from the organisation's page to the members who manage its products.
ORG_PAGES = (OrgPage(N_("Domains"), "domains.index", OrgAct.MANAGE_PRODUCTS, order=40),)


CAPABILITY = Capability(
    name="domains", slot=DOMAINS, build=build,
    blueprints=(pages_bp, api_bp),
    # The registrar authenticates the webhook by its HMAC signature, not by a browser cookie:
    # there is no ambient credential to forge with.
    csrf_exempt=(api_bp,),
    commands=(domain_group,),
    org_pages=lambda _service: ORG_PAGES,
    tables="idp.stores.tables_domains", migrations="domains",
)
