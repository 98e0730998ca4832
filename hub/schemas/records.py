"""Schemas for files, comments, custom fields, the audit log, and for merge, import and privacy requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, computed_field

from core.models import FieldType
from hub.schemas.common import Input, Output


class FileRead(Output):
    """A stored file's metadata; ``stored`` is false when only the metadata was kept."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str | None
    organization_id: int | None
    person_id: int | None
    interaction_id: int | None
    mail_id: int | None
    uploaded_by_id: int | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stored(self) -> bool:
        """True when the bytes are kept."""
        return self.sha256 is not None


class CommentCreate(Input):
    """A comment on a client card."""

    body: str = Field(min_length=1, max_length=20000)


class CommentRead(Output):
    id: int
    organization_id: int | None
    person_id: int | None
    author_id: int | None
    body: str
    created_at: datetime


class CustomFieldCreate(Input):
    """A new admin-defined field of organizations or persons."""

    entity: Literal["organization", "person"]
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=200)
    label_ru: str = Field(default="", max_length=200)
    type: FieldType
    choices: list[str] = Field(default_factory=list, max_length=200)
    required: bool = False
    position: int = Field(default=0, ge=0, le=10000)


class CustomFieldUpdate(Input):
    """Changes to a custom field (its entity, key and type are fixed)."""

    label: str = Field(default="", min_length=1, max_length=200)
    label_ru: str = Field(default="", max_length=200)
    choices: list[str] = Field(default_factory=list, max_length=200)
    required: bool = False
    position: int = Field(default=0, ge=0, le=10000)
    active: bool = True


class CustomFieldRead(Output):
    id: int
    entity: str
    key: str
    label: str
    label_ru: str
    type: FieldType
    choices: list[Any]
    required: bool
    position: int
    active: bool


class AuditEntryRead(Output):
    """One audit log entry."""

    id: int
    at: datetime
    user_id: int | None
    source: str
    action: str
    entity_type: str
    entity_id: int | None
    summary: str
    changes: dict[str, Any]


class MergeIn(Input):
    """Fold ``other_id`` into the record in the path; per field, whose value to keep."""

    other_id: int
    fields: dict[str, Literal["survivor", "other"]] = Field(
        default_factory=dict, description="Field name -> 'survivor' or 'other'; unnamed fields keep the survivor's"
    )


class ImportRowRead(Output):
    """One row (CSV line number) or card (vCard number) of an import."""

    row: int
    status: Literal["created", "duplicate", "failed"]
    id: int | None = None
    name: str = ""
    field: str | None = None
    reason: str = ""
    existing: dict[str, Any] | None = None
    warnings: list[str] = Field(default_factory=list)
    organization_created: bool = False


class ImportReportRead(Output):
    """The outcome of an import: every row created, skipped as a duplicate or failed with its reason."""

    kind: str
    format: str
    dry_run: bool
    encoding: str
    delimiter: str | None
    ignored_columns: list[str]
    total: int
    organizations_created: int
    created: list[ImportRowRead]
    duplicates: list[ImportRowRead]
    failed: list[ImportRowRead]


class ErasureRead(Output):
    """What an erase touched (counts only)."""

    person_ids: list[int]
    interactions_deleted: int
    interactions_erased: int
    tasks_deleted: int
    tasks_erased: int
    files_deleted: int
    comments_deleted: int
    mails_erased: int
    addresses_suppressed: int
    other_rows_scrubbed: int
