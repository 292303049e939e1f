"""How a capability plugs in: one `Capability` declaration per package, typed slots for services.

A capability (second factors, the OpenID Provider, single sign-on ...) is a package whose
`capability.py` holds one `CAPABILITY = Capability(...)`, named once in `idp.CAPABILITIES`. The
declaration says everything the capability adds to the foundation; the composition root
(`idp.container.Container.build`, then `idp.create_app`) is the only code that reads it:

1. `build(container)` makes the capability's services; they go into its `slot`, where its views,
   commands and tests find them with `container.get(SLOT)`, typed.
2. `offers(services)`: values for hook slots other capabilities read (`RECOVERY_CODES` ...).
3. Once every capability is built: `connect(services, container)` takes what the others offer
   (`container.find(SLOT)`, None when the offering capability is not installed), then the
   contributions join the foundation's registries (factors, alternatives, navigation ...).
4. In the web application: blueprints, CSRF exemptions, template filters, `init_flask`.

Nothing here imports Flask, SQL or a capability: the types named below are for checkers only.
"""

from __future__ import annotations

import datetime as dt
import enum
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from dataclasses import field
from functools import wraps
from typing import TYPE_CHECKING
from typing import Generic
from typing import ParamSpec
from typing import Protocol
from typing import TypeVar
from typing import cast

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from flask import Flask

    from idp.account.deletion import AccountEraser
    from idp.auth.factors import Alternative
    from idp.auth.factors import Factor
    from idp.auth.factors import FactorEnrolment
    from idp.auth.factors import FactorRegistry
    from idp.auth.factors import FactorSource
    from idp.auth.factors import ReauthMethod
    from idp.auth.factors import RecoveryCodes
    from idp.auth.factors import SelfEnrolledFactor
    from idp.auth.service import PasswordPolicy
    from idp.container import Container
    from idp.events import EventTag
    from idp.events import Subscriber
    from idp.foundation.review import ReviewItem
    from idp.foundation.sessions import BrowserSession
    from idp.model import Organisation
    from idp.model import RequestContext
    from idp.model import User
    from idp.web.current import SignedIn
    from idp.web.nav import FactorSection
    from idp.web.nav import NavEntry
    from idp.web.nav import OrgPage

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Offer:
    """A value for a slot; made by `Slot.offer`, which checks its type."""

    slot: object
    value: object


@dataclass(frozen=True, eq=False)
class Slot(Generic[T]):
    """A typed place in the container: a capability's services, or a hook one capability offers
    and others read. Compared by identity; `name` is for messages only."""

    name: str

    def offer(self, value: T) -> Offer:
        return Offer(self, value)


class Slots:
    """The filled slots (the container keeps one)."""

    def __init__(self) -> None:
        self._values: dict[object, object] = {}

    def provide(self, slot: Slot[T], value: T) -> None:
        self.accept(slot.offer(value))

    def accept(self, offer: Offer) -> None:
        if offer.slot in self._values:
            raise RuntimeError(f"{cast(Slot[object], offer.slot).name} is offered twice")
        self._values[offer.slot] = offer.value

    def override(self, slot: Slot[T], value: T) -> None:
        """Replace a slot's value (tests put doubles in)."""
        self._values[slot] = value

    def get(self, slot: Slot[T]) -> T:
        """The slot's value; LookupError when its capability is not installed."""
        if slot not in self._values:
            raise LookupError(f"{slot.name} is not installed")
        return cast(T, self._values[slot])

    def find(self, slot: Slot[T]) -> T | None:
        """The slot's value, or None when no installed capability offers it."""
        return cast("T | None", self._values.get(slot))


# -- hooks: slots that one capability offers and others read -----------------------------


class RevokesAll(Protocol):
    """Revokes everything of one kind a person holds (a compromised account); returns how many."""

    def __call__(self, user: User, ctx: RequestContext) -> int: ...


# Recovery codes, for other capabilities' second factors (offered by idp.mfa; kAuth reads it).
RECOVERY_CODES: Slot[RecoveryCodes] = Slot("recovery codes")
# The compromised-password wizard's public address, called while a request is handled
# (offered by idp.security.center; kAuth reads it).
COMPROMISED_PASSWORD_URL: Slot[Callable[[], str]] = Slot("compromised-password wizard")
# Revoke every app password and API token (idp.security.credentials) / every application's
# consent and refresh token (idp.oidc); the compromised-password wizard calls them.
REVOKE_CREDENTIALS: Slot[RevokesAll] = Slot("revoke credentials")
REVOKE_GRANTS: Slot[RevokesAll] = Slot("revoke grants")
# Signed unlock links for the lock mail (offered by idp.security.center; the lockout service
# of idp.foundation takes it once every capability is built).
UNLOCK_LINKS: Slot[Callable[[User, dt.datetime], str]] = Slot("unlock links")



# Offered by idp.mfa; organisations that require a second factor send their members there.
FACTOR_ENROLMENT: Slot[FactorEnrolment] = Slot("second-factor enrolment")


class PartnerRight(enum.StrEnum):
    """What a client organisation may grant a partner under limited access (full access is all
    of them). The one list: docs/partners.md explains each."""

    PRODUCTS = "products"  # the client's products: domains, hostings, their orders and renewals
    BILLING = "billing"  # the prepaid balance, its ledger, orders and their payment (never payouts)
    USERS = "users"  # the members list and invitations (never a member's own security settings)
    ACTIVITY = "activity"  # the organisation's activity log


@dataclass(frozen=True)
class Delegation:
    """A partner person acting for a client organisation under a live partnership."""

    partnership_id: int
    partner_org_id: int
    client_org_id: int
    actor_id: int  # the partner person
    full: bool
    rights: frozenset[PartnerRight]

    def allows(self, right: PartnerRight) -> bool:
        return self.full or right in self.rights


class DelegatedAccess(Protocol):
    """May the person `user_id` act for the organisation `client_org_id` with `right` as a partner,
    at `now`? The delegation when yes (pages set `flask.g.delegation` to it, which shows the
    banner, and record the action in both organisations' logs), None when not. Read from SQL at
    each call, so an ended partnership is refused on the next request on every host."""

    def __call__(self, user_id: int, client_org_id: int, right: PartnerRight,
                 now: dt.datetime) -> Delegation | None: ...


@dataclass(frozen=True)
class ClientTerms:
    """The partnership a client organisation is managed under, as orders are settled with it."""

    partner_org_id: int
    full: bool
    payer_is_partner: bool  # the partnership uses the partner's payment means
    rights: frozenset[PartnerRight]

    def manages(self, product_code: str) -> bool:
        """Does the partner manage this product of the client (full access, or the products right)?"""
        return self.full or PartnerRight.PRODUCTS in self.rights


# Offered by idp.partners: delegated access to a client (money and product pages read it), and
# the terms a client is managed under at `now` (orders read it to settle discount or cashback).
DELEGATED_ACCESS: Slot[DelegatedAccess] = Slot("partner delegated access")
PARTNERSHIP_TERMS: Slot[Callable[[int, dt.datetime], ClientTerms | None]] = Slot("partnership terms")

class DelegatedPage(Protocol):
    """For a page of the organisation `slug` whose member the signed-in person (`user`:
    Flask-Login's current user, the account and its browser session) is not: the organisation
    and the delegation, when that browser session acts for it (idp.partners) under a live
    partnership that allows `right`. It sets `flask.g.delegation` (the banner shows it) and
    raises NotFoundError (a 404, as for any organisation one is not a member of) when the
    session does not act for it, or an IdpError with status 403 when the partnership does not
    grant `right`. Read from SQL at each call; the caller records what it changes in both
    organisations' logs (docs/partners.md)."""

    def __call__(self, user: SignedIn, slug: str, right: PartnerRight) -> tuple[Organisation, Delegation]: ...


# Offered by idp.partners: the pages of other capabilities (the organisation's activity log,
# billing, products) reach a client organisation for the partner person acting for it.
DELEGATED_PAGE: Slot[DelegatedPage] = Slot("partner delegated page")

# An event subscriber and the tags it wants (None: every event).
Subscription = tuple["Subscriber", "Iterable[EventTag] | None"]
# (login, flow) -> the URL to send the browser to instead of the password page, or None.
IdentifyRoute = Callable[[str, object], "str | None"]


def _none(*_args: object) -> tuple[()]:
    return ()


def _nothing(*_args: object) -> None:
    return None


@dataclass(frozen=True)
class Capability(Generic[S]):
    """Everything one capability adds. Each `Callable[[S], ...]` receives the capability's own
    services (from `build`) and answers with what it contributes."""

    name: str
    slot: Slot[S]
    build: Callable[[Container], S]
    # Web pages and APIs, and the views or blueprints that take no CSRF token (each with a reason
    # where it is declared).
    blueprints: tuple[Blueprint, ...] = ()
    csrf_exempt: tuple[Blueprint | Callable[..., object], ...] = ()
    template_filters: Mapping[str, Callable[..., object]] = field(default_factory=dict)
    # Second factors in the sign-in flow: ones that say themselves whether an account has them
    # (given the registry, to weigh the account's other factors), and sources that answer for
    # several at once (one query).
    factors: Callable[[S, FactorRegistry], Iterable[SelfEnrolledFactor]] = _none
    factor_sources: Callable[[S], Iterable[tuple[FactorSource, list[Factor]]]] = _none
    # Ways to sign in from the sign-in page (passkey, SSO), and to confirm it is you on /reauth.
    alternatives: Callable[[S], Iterable[Alternative]] = _none
    reauth_methods: Callable[[S], Iterable[ReauthMethod]] = _none
    # Consulted after the e-mail is typed (an organisation that requires single sign-on).
    identify_routes: Callable[[S], Iterable[IdentifyRoute]] = _none
    # May this login use a password? (decided at the e-mail step)
    password_policies: Callable[[S], Iterable[PasswordPolicy]] = _none
    # Called when a browser session ends (back-channel logout).
    session_ended: Callable[[S], Iterable[Callable[[BrowserSession], None]]] = _none
    # What the capability holds for a person and erases when the account is deleted (telling
    # the outside: applications, phones); the deletion page lists each one's `what`.
    erase_account: Callable[[S], Iterable[AccountEraser]] = _none
    # The account home and top navigation; second factors listed on /mfa; security-review lines.
    nav: Callable[[S], Iterable[NavEntry]] = _none
    # Pages about one organisation, linked from its page (`/orgs/<slug>`) to the roles that may.
    org_pages: Callable[[S], Iterable[OrgPage]] = _none
    factor_sections: Callable[[S], Iterable[FactorSection]] = _none
    review: Callable[[S], Iterable[ReviewItem]] = _none
    subscribers: Callable[[S], Iterable[Subscription]] = _none
    # Hooks this capability offers others, and the step that takes what others offer.
    offers: Callable[[S], Iterable[Offer]] = _none
    connect: Callable[[S, Container], None] = _nothing
    # Whatever needs the Flask application itself (the OpenID Provider's Authlib server).
    init_flask: Callable[[S, Flask], None] = _nothing
    # `idp <group> ...` commands; they reach the services through `command_services()`.
    commands: tuple[click.Command, ...] = ()
    # Its SQL tables (a module of idp.stores) and its Alembic branch: revisions named
    # `<branch>_NNNN`, the first one starting from the foundation's 0001 (merged in 0002).
    tables: str | None = None
    migrations: str | None = None

    def build_into(self, container: Container) -> None:
        services = self.build(container)
        container.slots.provide(self.slot, services)
        for offer in self.offers(services):
            container.slots.accept(offer)

    def plug(self, container: Container) -> None:
        services = container.get(self.slot)
        self.connect(services, container)
        for factor in self.factors(services, container.factors):
            container.factors.register(factor)
        for source, listed in self.factor_sources(services):
            container.factors.register_source(source, listed)
        container.alternatives.extend(self.alternatives(services))
        container.reauth.extend(self.reauth_methods(services))
        container.identify_routes.extend(self.identify_routes(services))
        container.signin.password_policies.extend(self.password_policies(services))
        container.sessions.on_end.extend(self.session_ended(services))
        container.erasers.extend(self.erase_account(services))
        container.nav.extend(self.nav(services))
        container.org_pages.extend(self.org_pages(services))
        container.factor_sections.extend(self.factor_sections(services))
        container.review.extend(self.review(services))
        for handler, tags in self.subscribers(services):
            container.events.subscribe(handler, tags)

    def plug_flask(self, app: Flask, container: Container) -> None:
        for blueprint in self.blueprints:
            app.register_blueprint(blueprint)
        csrf = app.extensions["csrf"]
        for view in self.csrf_exempt:
            csrf.exempt(view)
        for name, function in self.template_filters.items():
            app.add_template_filter(function, name)
        self.init_flask(container.get(self.slot), app)


class Pluggable(Protocol):
    """A `Capability` of any services type, as the composition root holds them."""

    @property
    def name(self) -> str: ...
    @property
    def commands(self) -> tuple[click.Command, ...]: ...
    @property
    def tables(self) -> str | None: ...
    @property
    def migrations(self) -> str | None: ...

    def build_into(self, container: Container) -> None: ...
    def plug(self, container: Container) -> None: ...
    def plug_flask(self, app: Flask, container: Container) -> None: ...


# -- commands --------------------------------------------------------------------------


@dataclass(frozen=True)
class CommandServices:
    """Set by the `idp` command on its click context: opens the container with every
    capability's services built (no web application), closed when the command ends."""

    open: Callable[[], AbstractContextManager[Container]]


def command_services() -> AbstractContextManager[Container]:
    """In a capability's command: `with command_services() as container: container.get(SLOT)`."""
    import click

    found = click.get_current_context().find_object(CommandServices)
    if found is None:
        raise RuntimeError("capability commands run under the `idp` command")
    return found.open()


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """Print IdpError (bad settings, bad input, conflicts) as one line and exit 2, no traceback."""
    import click

    from idp.errors import IdpError

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IdpError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper

