from idp.capability import DELEGATED_ACCESS
from idp.capability import PARTNERSHIP_TERMS
from idp.capability import PartnerRight


def test_a_partnership_gives_a_delegation(cast, services, clock):
    p = cast.manage()
    hook = services.get(DELEGATED_ACCESS)
    client = cast.org("client")
    assert hook(cast.people["p_lr"].id, client.id, PartnerRight.PRODUCTS, clock.now()) is not None
    assert hook(cast.people["p_lr"].id, client.id, PartnerRight.BILLING, clock.now()) is None
    assert hook(cast.people["p_collab"].id, client.id, PartnerRight.PRODUCTS, clock.now()) is None
    terms = services.get(PARTNERSHIP_TERMS)(client.id, clock.now())
    assert terms is not None and terms.partner_org_id == p.partner_org_id
