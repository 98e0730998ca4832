"""Schema pieces shared by every entity: pages, references, strict input."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Input(BaseModel):
    """Base of every request body: unknown fields are refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """Base of every response body, read from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """One page of a list and the total number of matching rows."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Ref(Output):
    """A reference to another record, with its name for display."""

    id: int
    name: str
