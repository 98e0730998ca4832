"""What a piece of work is about: the organization, person and deal it is linked to, and its team.

Interactions and tasks carry the team of their client, so the rights by team that hold for
clients hold for them too. Links are resolved here once for both: every linked record must
be visible to the actor (another team's record is "not found", never "forbidden"), a deal
must belong to the linked organization, and a missing organization is taken from the deal,
else from the person's primary employer, so a call with a person shows on their company's
timeline.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import Deal, Organization, Person, Role, Team, User
from core.rights import WRITERS, can_see_team


@dataclass
class Links:
    """The resolved client links of an interaction or task."""

    organization: Organization | None = None
    person: Person | None = None
    deal: Deal | None = None

    @property
    def team_id(self) -> int | None:
        """The team the work belongs to: the organization's, else the person's, else the deal's."""
        for record in (self.organization, self.person, self.deal):
            if record is not None:
                return record.team_id
        return None

    @property
    def client_name(self) -> str:
        """A name to show for the client (organization, else person)."""
        if self.organization is not None:
            return self.organization.name
        if self.person is not None:
            return self.person.full_name
        return ""

    @property
    def ids(self) -> dict[str, int | None]:
        """The ids to store on the record."""
        return {
            "organization_id": self.organization.id if self.organization else None,
            "person_id": self.person.id if self.person else None,
            "deal_id": self.deal.id if self.deal else None,
        }


def _seen(actor: Actor, record: object | None, what: str, record_id: int) -> None:
    if record is None or not can_see_team(actor, record.team_id):  # type: ignore[attr-defined]
        raise NotFound(f"{what} #{record_id} not found")


def resolve_links(
    session: Session,
    *,
    actor: Actor,
    organization_id: int | None = None,
    person_id: int | None = None,
    deal_id: int | None = None,
    client_required: bool = True,
    write: bool = True,
) -> Links:
    """Check and complete the links of a new piece of work (NotFound for what the actor cannot see)."""
    links = Links()
    if deal_id is not None:
        links.deal = session.get(Deal, deal_id)
        _seen(actor, links.deal, "Deal", deal_id)
    if organization_id is not None:
        links.organization = session.get(Organization, organization_id)
        _seen(actor, links.organization, "Organization", organization_id)
    if person_id is not None:
        links.person = session.get(Person, person_id)
        _seen(actor, links.person, "Person", person_id)
    if links.deal is not None:
        if links.organization is None:
            links.organization = session.get(Organization, links.deal.organization_id)
        elif links.deal.organization_id != links.organization.id:
            raise ValidationFailed.one("deal_id", f"deal #{links.deal.id} belongs to another organization")
    if links.organization is None and links.person is not None:
        primary = next((e for e in links.person.employments if e.is_primary), None)
        if primary is not None and can_see_team(actor, primary.organization.team_id):
            links.organization = primary.organization
    if client_required and links.organization is None and links.person is None:
        raise ValidationFailed.one("organization_id", "give the organization or the person this is about")
    if write and links.team_id is not None and actor.role not in WRITERS:
        raise Forbidden(f"Your role ({actor.role.value}) may not log work with clients")
    return links


def check_assignee(session: Session, actor: Actor, user_id: int | None, team_id: int, field: str) -> None:
    """Raise ValidationFailed unless the user is active and (unless an admin assigns) in the team."""
    if user_id is None:
        return
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed.one(field, f"there is no active user #{user_id}")
    if actor.is_admin or user.role == Role.admin:
        return
    if team_id not in {t.id for t in user.teams}:
        team = session.get(Team, team_id)
        raise ValidationFailed.one(
            field, f"{user.full_name} is not in the team '{team.name if team else team_id}'; choose a colleague there"
        )
