"""Schemas for organizations and persons."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from core.models import Organization, Person, PointKind
from core.normalize import format_phone
from hub.schemas.common import Input, Output


class OrganizationBase(Input):
    brand: str = Field(default="", max_length=300)
    industry: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    website: str = Field(default="", max_length=300)
    category: str = Field(default="", max_length=100)
    status: str = Field(default="active", max_length=30)
    responsible_id: int | None = None
    stage_id: int | None = None
    first_contact_on: date | None = None
    deal_amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    potential: int | None = Field(default=None, ge=1, le=5)
    notes: str = Field(default="", max_length=20000)
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20)
    email_domains: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom: dict[str, Any] = Field(default_factory=dict)


class OrganizationCreate(OrganizationBase):
    """A new organization."""

    name: str = Field(min_length=1, max_length=300)
    team_id: int | None = None


class OrganizationUpdate(OrganizationBase):
    """Changes to an organization; only the fields sent are changed."""

    name: str = Field(default="", min_length=1, max_length=300)
    team_id: int | None = None


class ContactPointRead(Output):
    kind: str
    value: str
    display: str
    label: str


class OrganizationRead(Output):
    """An organization as the API shows it."""

    id: int
    name: str
    brand: str
    industry: str
    address: str
    website: str
    category: str
    status: str
    team_id: int
    responsible_id: int | None
    stage_id: int | None
    first_contact_on: date | None
    deal_amount: Decimal | None
    potential: int | None
    notes: str
    emails: list[str]
    phones: list[str]
    email_domains: list[str]
    tags: list[str]
    custom: dict[str, Any]
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, org: Organization) -> OrganizationRead:
        """Build from the model (contact points split by kind, tags by name)."""
        return cls(
            **{
                f: getattr(org, f)
                for f in (
                    "id",
                    "name",
                    "brand",
                    "industry",
                    "address",
                    "website",
                    "category",
                    "status",
                    "team_id",
                    "responsible_id",
                    "stage_id",
                    "first_contact_on",
                    "deal_amount",
                    "potential",
                    "notes",
                    "custom",
                    "last_contact_at",
                    "created_at",
                    "updated_at",
                )
            },
            emails=[p.value for p in org.points if p.kind == PointKind.email],
            phones=[p.value for p in org.points if p.kind == PointKind.phone],
            email_domains=[p.value for p in org.points if p.kind == PointKind.domain],
            tags=[t.name for t in org.tags],
        )


class EmploymentIn(Input):
    organization_id: int
    role: str = Field(default="", max_length=200)


class EmploymentRead(Output):
    organization_id: int
    organization_name: str
    role: str
    is_primary: bool


class PersonBase(Input):
    first_name: str = Field(default="", max_length=100)
    middle_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    position: str = Field(default="", max_length=200)
    birthday: date | None = None
    notes: str = Field(default="", max_length=20000)
    responsible_id: int | None = None
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20)
    organizations: list[EmploymentIn] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom: dict[str, Any] = Field(default_factory=dict)
    team_id: int | None = None

    @field_validator("birthday")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError("cannot be in the future")
        return value


class PersonCreate(PersonBase):
    """A new contact person (at least a first or a last name)."""


class PersonUpdate(PersonBase):
    """Changes to a person; only the fields sent are changed."""


class PersonRead(Output):
    """A contact person as the API shows them."""

    id: int
    first_name: str
    middle_name: str
    last_name: str
    full_name: str
    position: str
    birthday: date | None
    notes: str
    team_id: int
    responsible_id: int | None
    emails: list[str]
    phones: list[str]
    phones_display: list[str]
    organizations: list[EmploymentRead]
    tags: list[str]
    custom: dict[str, Any]
    last_contact_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, person: Person) -> PersonRead:
        """Build from the model."""
        phones = [p.value for p in person.points if p.kind == PointKind.phone]
        return cls(
            **{
                f: getattr(person, f)
                for f in (
                    "id",
                    "first_name",
                    "middle_name",
                    "last_name",
                    "full_name",
                    "position",
                    "birthday",
                    "notes",
                    "team_id",
                    "responsible_id",
                    "custom",
                    "last_contact_at",
                    "created_at",
                    "updated_at",
                )
            },
            emails=[p.value for p in person.points if p.kind == PointKind.email],
            phones=phones,
            phones_display=[format_phone(p) for p in phones],
            organizations=[
                EmploymentRead(
                    organization_id=e.organization_id,
                    organization_name=e.organization.name,
                    role=e.role,
                    is_primary=e.is_primary,
                )
                for e in person.employments
            ],
            tags=[t.name for t in person.tags],
        )


class SearchHitRead(Output):
    type: str
    id: int
    name: str
    subtitle: str
