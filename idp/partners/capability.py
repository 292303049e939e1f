"""Partners' declaration: its composition root (the only place that builds its store), the hooks
it offers (delegated access, the terms a client is managed under), its pages and commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from idp.account.deletion import AccountEraser
from idp.capability import DELEGATED_ACCESS
from idp.capability import DELEGATED_PAGE
from idp.capability import PARTNERSHIP_TERMS
from idp.capability import Capability
from idp.capability import Offer
from idp.crypto import Purpose
from idp.crypto import derive
from idp.errors import N_
from idp.foundation.links import RowLinks
from idp.partners import DELEGATED
from idp.partners import PARTNERS
from idp.partners import delegation
from idp.partners.acting import ActingService
from idp.partners.client_views import bp as access_bp
from idp.partners.commands import org_group
from idp.partners.commands import partners_group
from idp.partners.common import Ports
from idp.partners.delegated import DelegatedOrgService
from idp.partners.delegated import DelegatedSide
from idp.partners.lifecycle import PartnershipService
from idp.partners.request_views import bp as requests_bp
from idp.partners.requests import RequestService
from idp.partners.service import PartnerService
from idp.partners.views import bp as partner_bp
from idp.stores.partners import SqlPartnerStore
from idp.web.nav import NavEntry

if TYPE_CHECKING:
    from idp.container import Container


def build(container: Container) -> PartnerService:
    settings = container.settings
    ports = Ports(
        partners=SqlPartnerStore(container.db), orgs=container.organisations.orgs,  # type: ignore[arg-type]
        users=container.users, events=container.events, mail=container.mail, clock=container.clock,
        ratelimit=container.ratelimit, base_url=settings.server.base_url.rstrip("/"), unit=container.db.unit,
    )
    lifecycle = PartnershipService(ports)
    requests = RequestService(
        ports, lifecycle, signup=container.signup, create_org=container.organisations.create,
        links=RowLinks(derive(settings.secret_key.get_secret_value() or "testing-only", Purpose.PARTNER_REQUEST),
                       "idp partner request"),
        ttl=settings.partners.request_ttl,
    )
    service = PartnerService(ports, requests, lifecycle)
    acting = ActingService(ports, container.sessions, service)
    container.slots.provide(DELEGATED, DelegatedSide(
        acting, DelegatedOrgService(ports, acting, container.organisations, container.invitations)))
    return service


def _offers(service: PartnerService) -> list[Offer]:
    # Money and product pages ask for a delegation at each request; orders read the terms.
    return [DELEGATED_ACCESS.offer(service.delegation_for), PARTNERSHIP_TERMS.offer(service.terms_for),
            # The pages of other capabilities (activity log, billing, products) let the partner
            # person acting for a client in through it.
            DELEGATED_PAGE.offer(delegation.delegated_org)]


def _connect(service: PartnerService, container: Container) -> None:
    # Deleting an organisation ends its partnerships first, so that the other side is told.
    container.organisations.before_delete.append(service.lifecycle.org_deleted)


def _nav(service: PartnerService) -> list[NavEntry]:
    # Listed on the account home only while a request waits for the person.
    return [NavEntry(
        N_("Partner requests"), "partner_requests.index", order=62,
        description=N_("Partners who ask to manage one of your organisations."),
        visible=lambda user: bool(service.requests_for(user)),
    )]


def _erasers(service: PartnerService) -> list[AccountEraser]:
    return [AccountEraser(N_("The partner requests sent to your address"), service.lifecycle.erase)]


CAPABILITY = Capability(
    name="partners", slot=PARTNERS, build=build,
    blueprints=(partner_bp, access_bp, requests_bp),
    offers=_offers, connect=_connect, nav=_nav, erase_account=_erasers,
    init_flask=delegation.init_flask,
    commands=(org_group, partners_group),
    tables="idp.stores.tables_partners", migrations="partners",
)
