"""Organizations, persons and the client search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from core.clients import organizations as orgs
from core.clients import persons
from core.clients.filters import ClientFilter
from core.search import search_clients
from hub.deps import CurrentActor, DbSession
from hub.schemas.clients import (
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    SearchHitRead,
)
from hub.schemas.common import Page

router = APIRouter(tags=["clients"])


def client_filter(
    q: str = Query("", max_length=200),
    team_id: int | None = None,
    responsible_id: int | None = None,
    tag: str = Query("", max_length=100),
    group_id: int | None = None,
    potential: int | None = Query(None, ge=1, le=5),
    stage_id: int | None = None,
    status: str = Query("", max_length=30),
    category: str = Query("", max_length=100),
    organization_id: int | None = None,
    no_contact_days: int | None = Query(None, ge=0, le=36500),
) -> ClientFilter:
    """The client filter from query parameters."""
    return ClientFilter(
        q=q,
        team_id=team_id,
        responsible_id=responsible_id,
        tag=tag,
        group_id=group_id,
        potential=potential,
        stage_id=stage_id,
        status=status,
        category=category,
        organization_id=organization_id,
        no_contact_days=no_contact_days,
    )


Filter = Annotated[ClientFilter, Depends(client_filter)]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/organizations", response_model=Page[OrganizationRead])
def list_organizations(
    session: DbSession, actor: CurrentActor, f: Filter, sort: str = "name", limit: Limit = 50, offset: Offset = 0
) -> Page[OrganizationRead]:
    """Organizations the caller may see, filtered, sorted and paginated."""
    items, total = orgs.list_organizations(session, actor=actor, filter=f, sort=sort, limit=limit, offset=offset)
    return Page(items=[OrganizationRead.of(o) for o in items], total=total, limit=limit, offset=offset)


@router.post("/organizations", response_model=OrganizationRead, status_code=201)
def create_organization(body: OrganizationCreate, session: DbSession, actor: CurrentActor) -> OrganizationRead:
    """Create an organization (refused with 409 when it duplicates one)."""
    return OrganizationRead.of(orgs.create_organization(session, actor=actor, **body.model_dump()))


@router.get("/organizations/{org_id}", response_model=OrganizationRead)
def get_organization(org_id: int, session: DbSession, actor: CurrentActor) -> OrganizationRead:
    """One organization."""
    return OrganizationRead.of(orgs.get_organization(session, actor=actor, org_id=org_id))


@router.patch("/organizations/{org_id}", response_model=OrganizationRead)
def update_organization(
    org_id: int, body: OrganizationUpdate, session: DbSession, actor: CurrentActor
) -> OrganizationRead:
    """Change the fields sent."""
    changes = body.model_dump(exclude_unset=True)
    return OrganizationRead.of(orgs.update_organization(session, actor=actor, org_id=org_id, changes=changes))


@router.delete("/organizations/{org_id}", status_code=204)
def delete_organization(org_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete an organization."""
    orgs.delete_organization(session, actor=actor, org_id=org_id)


@router.get("/persons", response_model=Page[PersonRead])
def list_persons(
    session: DbSession, actor: CurrentActor, f: Filter, sort: str = "name", limit: Limit = 50, offset: Offset = 0
) -> Page[PersonRead]:
    """Persons the caller may see, filtered, sorted and paginated."""
    items, total = persons.list_persons(session, actor=actor, filter=f, sort=sort, limit=limit, offset=offset)
    return Page(items=[PersonRead.of(p) for p in items], total=total, limit=limit, offset=offset)


@router.post("/persons", response_model=PersonRead, status_code=201)
def create_person(body: PersonCreate, session: DbSession, actor: CurrentActor) -> PersonRead:
    """Create a contact person (refused with 409 when it duplicates one)."""
    data = body.model_dump()
    return PersonRead.of(persons.create_person(session, actor=actor, **data))


@router.get("/persons/{person_id}", response_model=PersonRead)
def get_person(person_id: int, session: DbSession, actor: CurrentActor) -> PersonRead:
    """One person."""
    return PersonRead.of(persons.get_person(session, actor=actor, person_id=person_id))


@router.patch("/persons/{person_id}", response_model=PersonRead)
def update_person(person_id: int, body: PersonUpdate, session: DbSession, actor: CurrentActor) -> PersonRead:
    """Change the fields sent."""
    changes = body.model_dump(exclude_unset=True)
    return PersonRead.of(persons.update_person(session, actor=actor, person_id=person_id, changes=changes))


@router.delete("/persons/{person_id}", status_code=204)
def delete_person(person_id: int, session: DbSession, actor: CurrentActor) -> None:
    """Delete a person."""
    persons.delete_person(session, actor=actor, person_id=person_id)


@router.get("/search", response_model=list[SearchHitRead])
def search(
    session: DbSession,
    actor: CurrentActor,
    q: str = Query(min_length=1, max_length=200),
    limit: int = Query(20, ge=1, le=100),
) -> list[SearchHitRead]:
    """Organizations and persons by name, e-mail, phone (any format), company or tag."""
    return [SearchHitRead.model_validate(h) for h in search_clients(session, actor=actor, q=q, limit=limit)]
