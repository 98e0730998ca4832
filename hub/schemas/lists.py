"""Schemas for groups, segments, the blocklist and the suppression list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from core.models import BlockKind, ClientType
from hub.schemas.common import Input, Output


class GroupCreate(Input):
    """A new static group."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)


class GroupUpdate(Input):
    """Changes to a group; only the fields sent are changed."""

    name: str = Field(default="", min_length=1, max_length=200)
    description: str = Field(default="", max_length=1000)


class GroupRead(Output):
    """A group, with how many of its members the caller may see."""

    id: int
    name: str
    description: str
    owner_id: int | None
    created_at: datetime
    organizations: int = 0
    persons: int = 0


class MembersIn(Input):
    """Clients to add to or remove from a group."""

    organization_ids: list[int] = Field(default_factory=list, max_length=5000)
    person_ids: list[int] = Field(default_factory=list, max_length=5000)


class IdsByType(Output):
    organization: list[int]
    person: list[int]


class MembershipRead(Output):
    """What a bulk add or remove did: changed, already so, and ids not found (or not visible)."""

    changed: IdsByType
    unchanged: IdsByType
    not_found: IdsByType


class SegmentCreate(Input):
    """A saved client filter."""

    name: str = Field(min_length=1, max_length=200)
    client_type: ClientType = ClientType.organization
    filter: dict[str, Any] = Field(default_factory=dict, description="Fields of the client list filter")


class SegmentUpdate(Input):
    """Changes to a segment; only the fields sent are changed."""

    name: str = Field(default="", min_length=1, max_length=200)
    client_type: ClientType = ClientType.organization
    filter: dict[str, Any] = Field(default_factory=dict)


class SegmentRead(Output):
    """A segment's definition (its members are evaluated on request)."""

    id: int
    name: str
    client_type: ClientType
    filter: dict[str, Any]
    owner_id: int | None
    created_at: datetime


class BlocklistCreate(Input):
    """An unwanted counterparty: by e-mail, domain, phone or name."""

    kind: BlockKind
    value: str = Field(min_length=1, max_length=320)
    reason: str = Field(default="", max_length=500)


class BlocklistRead(Output):
    """A blocklist entry, with the value as it is matched (normalised)."""

    id: int
    kind: BlockKind
    value: str
    reason: str
    created_by_id: int | None
    created_at: datetime


class SuppressionCreate(Input):
    """An address to keep out of mailings."""

    email: str = Field(min_length=3, max_length=320)
    reason: str = Field(default="manual", pattern=r"^(unsubscribed|bounced|complaint|manual)$")
    detail: str = Field(default="", max_length=1000)


class SuppressionRead(Output):
    """A suppression entry (an erased person's address shows only as its hash)."""

    id: int
    email: str
    reason: str
    detail: str
    created_at: datetime


class SuppressionCheck(Output):
    """Whether mailings may reach an address."""

    email: str
    suppressed: bool
