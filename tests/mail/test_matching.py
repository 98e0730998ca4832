"""Matching an e-mail's addresses to clients: persons first, then organization e-mails, then domains."""

from __future__ import annotations

from core.clients.organizations import create_organization
from core.clients.persons import create_person
from core.mail.matching import is_outgoing, match_clients
from core.mail.records import MailAddress
from core.models import BlockKind, BlocklistEntry


def A(email: str) -> MailAddress:  # noqa: N802
    return MailAddress(email=email)


def _seed(s, actor):
    acme = create_organization(s, actor=actor, name="Acme", email_domains=["acme.test"], emails=["info@acme.test"])
    beta = create_organization(s, actor=actor, name="Beta", email_domains=["gmail.com", "beta.test"])
    ivan = create_person(
        s, actor=actor, first_name="Ivan", emails=["ivan@acme.test"], organizations=[{"organization_id": acme.id}]
    )
    free = create_person(s, actor=actor, first_name="Olga", emails=["olga@gmail.com"])
    return acme, beta, ivan, free


def test_person_wins_over_domain_and_org_is_not_matched_twice(db, users, admin):
    actor = users.actor(admin)
    with db.session() as s:
        acme, _, ivan, _ = _seed(s, actor)
        found = match_clients(
            s, [A("ivan@acme.test"), A("someone@acme.test")], own_addresses=set(), internal_domains=set()
        )
        assert [(m.organization_id, m.person_id) for m in found] == [(acme.id, ivan.id)]


def test_org_email_and_domain_match_the_org(db, users, admin):
    actor = users.actor(admin)
    with db.session() as s:
        acme, beta, _, _ = _seed(s, actor)
        assert [
            m.organization_id
            for m in match_clients(s, [A("info@acme.test")], own_addresses=set(), internal_domains=set())
        ] == [acme.id]
        found = match_clients(s, [A("boss@beta.test")], own_addresses=set(), internal_domains=set())
        assert [(m.organization_id, m.person_id) for m in found] == [(beta.id, None)]
        assert (
            match_clients(s, [A("boss@beta.test")], own_addresses=set(), internal_domains=set(), match_by_domain=False)
            == []
        )


def test_public_webmail_never_matches_by_domain_but_person_address_does(db, users, admin):
    actor = users.actor(admin)
    with db.session() as s:
        _, _, _, olga = _seed(s, actor)
        assert match_clients(s, [A("stranger@gmail.com")], own_addresses=set(), internal_domains=set()) == []
        found = match_clients(s, [A("Olga@Gmail.com")], own_addresses=set(), internal_domains=set())
        assert [m.person_id for m in found] == [olga.id]


def test_internal_own_and_blocklisted_addresses_never_match(db, users, admin):
    actor = users.actor(admin)
    with db.session() as s:
        _seed(s, actor)
        s.add(BlocklistEntry(kind=BlockKind.email, value="ivan@acme.test"))
        s.flush()
        assert match_clients(s, [A("ivan@acme.test")], own_addresses=set(), internal_domains=set()) == []
        assert match_clients(s, [A("info@acme.test")], own_addresses={"info@acme.test"}, internal_domains=set()) == []
        assert match_clients(s, [A("x@acme.test")], own_addresses=set(), internal_domains={"acme.test"}) == []


def test_several_clients_in_one_message(db, users, admin):
    actor = users.actor(admin)
    with db.session() as s:
        acme, beta, ivan, olga = _seed(s, actor)
        found = match_clients(
            s,
            [A("me@ourcompany.test"), A("ivan@acme.test"), A("olga@gmail.com"), A("x@beta.test")],
            own_addresses={"me@ourcompany.test"},
            internal_domains=set(),
        )
        assert {(m.organization_id, m.person_id) for m in found} == {
            (acme.id, ivan.id),
            (None, olga.id),
            (beta.id, None),
        }


def test_direction_by_sender():
    own = {"me@ourcompany.test"}
    assert is_outgoing([A("me@ourcompany.test")], own_addresses=own, internal_domains=set())
    assert is_outgoing([A("boss@ourcompany.test")], own_addresses=set(), internal_domains={"ourcompany.test"})
    assert not is_outgoing([A("ivan@acme.test")], own_addresses=own, internal_domains={"ourcompany.test"})
